using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>Apptainer's environment rules, seen from inside the container.</summary>
public sealed class EnvironmentTests : IClassFixture<ActionImage>
{
    private readonly ActionImage _image;

    public EnvironmentTests(ActionImage image)
    {
        _image = image;
    }

    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private static Dictionary<string, string> Env(RunResult r) =>
        r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains('=')).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static RunResult EnvIn(string image, IReadOnlyDictionary<string, string>? host = null, params string[] options) =>
        AsUser.Run(User, [E2EEnvironment.Burrow, "exec", .. options, image, "env"], env: host);

    [Fact]
    public void HostVariablesPassExceptPathLdLibraryPathHomeAndBurrowOwn()
    {
        RunResult r = EnvIn(E2EEnvironment.BusyboxImage, new Dictionary<string, string>
        {
            ["FOO"] = "bar baz", ["LD_LIBRARY_PATH"] = "/host/lib", ["PATH"] = "/host/bin:/usr/bin:/bin", ["BURROW_SECRET"] = "x", ["HOME"] = "/elsewhere",
        });
        Assert.True(r.ExitCode == 0, r.ToString());
        Dictionary<string, string> env = Env(r);
        Assert.Equal("bar baz", env["FOO"]);
        Assert.Equal("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", env["PATH"]);
        Assert.Equal(User.Home, env["HOME"]);
        Assert.False(env.ContainsKey("LD_LIBRARY_PATH"));
        Assert.False(env.ContainsKey("BURROW_SECRET"));
    }

    [Fact]
    public void BurrowEnvEnvFileAndEnvSetVariablesWithEnvWinning()
    {
        string file = Path.Combine(Path.GetTempPath(), "burrow-e2e-envfile-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(file, "# settings\nexport FROM_FILE='file value'\nBOTH=file\n");
        ActionImage.Run("chmod", "0644", file);
        try
        {
            RunResult r = EnvIn(E2EEnvironment.BusyboxImage, new Dictionary<string, string> { ["BURROWENV_PREFIXED"] = "yes", ["BURROWENV_BOTH"] = "prefix" },
                "--env-file", file, "--env", "BOTH=option", "--env", "EXTRA=1");
            Assert.True(r.ExitCode == 0, r.ToString());
            Dictionary<string, string> env = Env(r);
            Assert.Equal("yes", env["PREFIXED"]);
            Assert.Equal("file value", env["FROM_FILE"]);
            Assert.Equal("option", env["BOTH"]);
            Assert.Equal("1", env["EXTRA"]);
            Assert.False(env.ContainsKey("BURROWENV_PREFIXED"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CleanEnvKeepsOnlyTermAndProxiesAndSetsLangC()
    {
        RunResult r = EnvIn(E2EEnvironment.BusyboxImage, new Dictionary<string, string> { ["TERM"] = "vt100", ["https_proxy"] = "http://p:1", ["FOO"] = "bar" }, "--cleanenv");
        Assert.True(r.ExitCode == 0, r.ToString());
        Dictionary<string, string> env = Env(r);
        Assert.Equal("vt100", env["TERM"]);
        Assert.Equal("http://p:1", env["https_proxy"]);
        Assert.Equal("C", env["LANG"]);
        Assert.False(env.ContainsKey("FOO"));
        Assert.False(env.ContainsKey("USER"));
    }

    [Fact]
    public void ImageEnvScriptsAreSourcedInOrderAndUserValuesWin()
    {
        RunResult r = EnvIn(_image.Root, new Dictionary<string, string> { ["BURROWENV_OVERRIDDEN"] = "user" });
        Assert.True(r.ExitCode == 0, r.ToString());
        Dictionary<string, string> env = Env(r);
        Assert.Equal("first,second", env["ORDER"]);
        Assert.Equal("base", env["FROM_IMAGE"]);
        Assert.Equal("user", env["OVERRIDDEN"]);
        Assert.StartsWith("/opt/tool/bin:", env["PATH"]);
        Assert.False(env.ContainsKey("NOT_SOURCED"));
    }

    [Fact]
    public void MissingEnvFileIsAnError()
    {
        RunResult r = EnvIn(E2EEnvironment.BusyboxImage, null, "--env-file", "/nonexistent/env");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ERROR:   --env-file /nonexistent/env: no such file", r.Stderr);
    }

    [Fact]
    public void CommandNotFoundUnderEnvScriptsStillExits127WithAnError()
    {
        RunResult r = AsUser.Burrow(User, "exec", _image.Root, "no-such-command-here");
        Assert.Equal(127, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("no-such-command-here", r.Stderr);
    }
}
