using Burrow.E2E.Harness;

namespace Burrow.E2E.Config;

/// <summary>
/// The configuration file itself, as users meet it: a mistake in it stops every command with one ERROR line naming the
/// file, the line, the key and the fix; a system file anyone but root may change stops Burrow; only root chooses
/// another file on an installation root made; <c>burrow config show</c> says where every value came from.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConfigFileTests : IClassFixture<AdminInstallation>
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private readonly AdminInstallation _install;

    public ConfigFileTests(AdminInstallation install)
    {
        _install = install;
        _install.Configure("");
    }

    private string Conf => _install.ConfigFile;

    private RunResult Exec() => _install.RunIn(User, "/", "exec", E2EEnvironment.BusyboxTree, "true");

    private static void Refused(RunResult r, string line)
    {
        Assert.True(r.ExitCode == 255, r.ToString());
        // One ERROR line, and it is this one (INFO and WARNING lines may come before it).
        Assert.Equal(["ERROR:   " + line], r.Stderr.Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)));
    }

    [Fact]
    public void AnUnknownKeyStopsEveryCommandWithTheFileTheLineAndTheNearestKey()
    {
        _install.Configure("allow-pid-ns = true\nalow-fakeroot = false\n");
        string line = $"{Conf} line 2: unknown key 'alow-fakeroot'; did you mean 'allow-fakeroot'? every key is listed, with its default, in the burrow.conf that Burrow ships";
        Refused(Exec(), line);
        Refused(_install.Run(User, "cache", "list"), line);
        Refused(_install.Run(User, "config", "show"), line);
    }

    [Theory]
    [InlineData("allow-fakeroot = \"maybe\"", "allow-fakeroot: 'maybe' is not true, false, yes or no", "allow-fakeroot = true")]
    [InlineData("mount-dev = 3", "mount-dev: expected \"yes\", \"no\" or \"minimal\", found an integer", "mount-dev = \"yes\"")]
    [InlineData("allow-image-kinds = [\"docker\"]", "allow-image-kinds: 'docker' is not an image kind (sif, sandbox, oci, encrypted)", "allow-image-kinds = [\"sif\", \"sandbox\", \"oci\", \"encrypted\"]")]
    [InlineData("sessiondir-max-size = \"64m\"", "sessiondir-max-size: expected a size in MiB (an integer), found a string", "sessiondir-max-size = 64")]
    public void ABadValueOrTypeNamesTheFileTheLineTheKeyAndTheFix(string text, string message, string example)
    {
        _install.Configure("# site policy\n" + text + "\n");
        Refused(Exec(), $"{Conf} line 2: {message}; write it as the default is written: {example} (the shipped burrow.conf documents every key)");
    }

    [Fact]
    public void ATomlMistakeNamesItsLine()
    {
        _install.Configure("allow-pid-ns = true\nallow-ipc-ns =\n");
        RunResult r = Exec();
        Assert.True(r.ExitCode == 255, r.ToString());
        Assert.StartsWith($"ERROR:   {Conf} line 2: not valid TOML: ", r.Stderr);
        Assert.EndsWith("; fix the TOML at that line (key = value, strings in double quotes)\n", r.Stderr);
    }

    [Fact]
    public void ASystemConfigurationAnyoneButRootMayChangeStopsBurrow()
    {
        if (!E2EEnvironment.IsRoot)
        {
            return; // a system installation needs root to make (the suite runs as root in CI)
        }
        _install.Configure("allow-fakeroot = false\n");
        try
        {
            Shell.Run("chown", $"{User.Uid}:{User.Gid}", Conf);
            Refused(Exec(), $"configuration {Conf} must be owned by root and not writable by group or others (it is owned by uid {User.Uid}, mode 0644): refusing to run; as root: chown root:root {Conf} && chmod go-w {Conf}");
            Shell.Run("chown", "0:0", Conf);
            File.SetUnixFileMode(Conf, (UnixFileMode)0x1b4);
            Refused(Exec(), $"configuration {Conf} must be owned by root and not writable by group or others (it is owned by uid 0, mode 0664): refusing to run; as root: chown root:root {Conf} && chmod go-w {Conf}");
        }
        finally
        {
            Shell.Run("chown", "0:0", Conf);
            File.SetUnixFileMode(Conf, (UnixFileMode)0x1a4);
        }
        RunResult ok = Exec();
        Assert.True(ok.ExitCode == 0, ok.ToString());
    }

    [Fact]
    public void OnlyRootChoosesTheConfigurationOfAnInstallationRootMade()
    {
        if (!E2EEnvironment.IsRoot)
        {
            return; // a system installation needs root to make (the suite runs as root in CI)
        }
        _install.Configure("allow-fakeroot = false\n");
        string own = Path.Combine(User.Home, "burrow-e2e-own.conf");
        File.WriteAllText(own, "");
        Shell.Chown(own, User);
        try
        {
            Refused(_install.RunIn(User, "/", "--config", own, "exec", "--fakeroot", E2EEnvironment.BusyboxTree, "true"),
                $"--config {own}: only root may choose the configuration of this installation ({_install.Prefix} was installed by root); its configuration is {Conf}; leave --config out (on an installation of your own, scripts/install --prefix DIR, you choose)");
            RunResult env = AsUser.Run(User, [_install.Burrow, "exec", "--fakeroot", E2EEnvironment.BusyboxTree, "true"], env: new Dictionary<string, string> { ["BURROW_CONFIG"] = own }, cwd: "/");
            Refused(env, $"BURROW_CONFIG {own}: only root may choose the configuration of this installation ({_install.Prefix} was installed by root); its configuration is {Conf}; leave BURROW_CONFIG out (on an installation of your own, scripts/install --prefix DIR, you choose)");
        }
        finally
        {
            File.Delete(own);
        }
    }

    [Fact]
    public void ConfigShowPrintsEveryKeyAndWhereItCameFrom()
    {
        _install.Configure("# site policy\n\nallow-net-ns = false\nbind-path = [\"/scratch\"]\n");
        RunResult r = _install.Run(User, "config", "show");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"# configuration: {Conf}, chosen by the installation", lines[0]);
        Assert.Matches($@"^allow-net-ns = false +# {System.Text.RegularExpressions.Regex.Escape(Conf)} line 3$", lines.Single(l => l.StartsWith("allow-net-ns ", StringComparison.Ordinal)));
        Assert.Matches($@"^bind-path = \[""/scratch""\] +# {System.Text.RegularExpressions.Regex.Escape(Conf)} line 4$", lines.Single(l => l.StartsWith("bind-path ", StringComparison.Ordinal)));
        Assert.Matches(@"^allow-pid-ns = true +# default$", lines.Single(l => l.StartsWith("allow-pid-ns ", StringComparison.Ordinal)));
        Assert.Equal(22, lines.Length); // the header and the 21 keys

        RunResult json = _install.Run(User, "config", "show", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var net = doc.RootElement.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("key").GetString() == "allow-net-ns");
        Assert.Equal("false", net.GetProperty("value").GetString());
        Assert.Equal(Conf, net.GetProperty("source").GetString());
        Assert.Equal(3, net.GetProperty("line").GetInt32());
    }

    [Fact]
    public void VersionPrintsTheCommitThePrefixAndTheConfiguration()
    {
        RunResult r = _install.Run(User, "version");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\d+\.\d+\.\d+", lines[0]);
        Assert.Matches(@"^commit: +[0-9a-f]{7,40}$", lines[1]);
        Assert.Equal($"prefix:        {_install.Prefix}", lines[2]);
        Assert.Equal($"configuration: {Conf}", lines[3]);
    }
}
