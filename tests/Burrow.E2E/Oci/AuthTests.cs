using Burrow.E2E.Harness;

namespace Burrow.E2E.Oci;

/// <summary>Basic (htpasswd) and Bearer token auth against the local registries, with logins stored by <c>burrow registry login</c>.</summary>
[Collection("token-issuer")]
public class AuthTests : IClassFixture<TokenIssuerFixture>
{
    private readonly TokenIssuerFixture _issuer;

    public AuthTests(TokenIssuerFixture issuer) => _issuer = issuer;

    private static TestUser User => E2EEnvironment.UserWithRange;

    private static RunResult Login(string dir, string registry, string password) => AsUser.Run(User,
        [E2EEnvironment.Burrow, "registry", "login", "--username", OciEnvironment.BasicUser, "--password-stdin", registry],
        stdin: password + "\n", env: Env(dir));

    private static Dictionary<string, string> Env(string dir) => new()
    {
        ["XDG_CONFIG_HOME"] = Path.Combine(dir, "config"),
        ["XDG_RUNTIME_DIR"] = Path.Combine(dir, "run"),
        ["BURROW_CACHEDIR"] = Path.Combine(dir, "cache"),
    };

    private static RunResult Pull(string dir, string registry) => AsUser.Run(User,
        [E2EEnvironment.Burrow, "pull", "--force", Path.Combine(dir, "out.sif"), $"docker://{registry}/small:latest"], env: Env(dir));

    [Theory]
    [InlineData("basic")]
    [InlineData("token")]
    public void NeedsALoginThenPulls(string kind)
    {
        string registry = kind == "basic" ? OciEnvironment.Basic : OciEnvironment.Token;
        string dir = OciEnvironment.Scratch(User);
        try
        {
            RunResult anonymous = Pull(dir, registry);
            Assert.NotEqual(0, anonymous.ExitCode);
            Assert.Contains($"{registry}: authentication required to pull small", anonymous.Stderr);
            Assert.Contains($"burrow registry login {registry}", anonymous.Stderr);

            RunResult wrong = Login(dir, registry, "not-the-password");
            Assert.NotEqual(0, wrong.ExitCode);
            Assert.Contains("wrong user name or password", wrong.Stderr);
            Assert.False(File.Exists(Path.Combine(dir, "config", "burrow", "auth.json")));

            RunResult login = Login(dir, registry, OciEnvironment.BasicPassword);
            Assert.True(login.ExitCode == 0, login.ToString());
            string authFile = Path.Combine(dir, "config", "burrow", "auth.json");
            Assert.Equal("600", OciEnvironment.Run("stat", "-c", "%a", authFile).Trim());
            Assert.Equal("700", OciEnvironment.Run("stat", "-c", "%a", Path.GetDirectoryName(authFile)!).Trim());

            int tokensBefore = _issuer.Issuer.TokensIssued;
            RunResult pulled = Pull(dir, registry);
            Assert.True(pulled.ExitCode == 0, pulled.ToString());
            if (kind == "token")
            {
                Assert.True(_issuer.Issuer.TokensIssued > tokensBefore, "the pull should have asked the token issuer");
            }

            RunResult logout = AsUser.Run(User, [E2EEnvironment.Burrow, "registry", "logout", registry], env: Env(dir));
            Assert.True(logout.ExitCode == 0, logout.ToString());
            RunResult afterLogout = Pull(dir, registry);
            Assert.NotEqual(0, afterLogout.ExitCode);
            Assert.Contains("authentication required", afterLogout.Stderr);
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void ReadsContainersAuthJson()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string run = Path.Combine(dir, "run", "containers");
            Directory.CreateDirectory(run);
            string auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(OciEnvironment.BasicUser + ":" + OciEnvironment.BasicPassword));
            File.WriteAllText(Path.Combine(run, "auth.json"), "{\"auths\":{\"" + OciEnvironment.Basic + "\":{\"auth\":\"" + auth + "\"}}}");
            OciEnvironment.Run("chmod", "-R", "a+rX", dir);
            RunResult pulled = Pull(dir, OciEnvironment.Basic);
            Assert.True(pulled.ExitCode == 0, pulled.ToString());
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }
}

/// <summary>One token issuer for the whole test run (it owns 127.0.0.1:15003).</summary>
public sealed class TokenIssuerFixture : IDisposable
{
    public TokenIssuer Issuer { get; } = new();

    public void Dispose() => Issuer.Dispose();
}
