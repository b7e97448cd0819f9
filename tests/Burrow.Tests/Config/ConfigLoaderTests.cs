using Burrow.Core.Config;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Tests.Config;

/// <summary>Which file applies, and who may own it (the rules are pure; the loader reads real files).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Installation Install(bool byRoot) => new(_dir, Path.Combine(_dir, "etc", "burrow"), byRoot);

    private static FileStatus Status(uint uid, uint mode) => new(FileKind.Regular, 0x8000 | mode, uid, 0, 10, 0, 0, 1);

    [Fact]
    public void ASystemFileMustBeRootsAndWritableByNoOneElse()
    {
        const string path = "/etc/burrow/burrow.conf";
        Assert.True(ConfigFileRules.IsSystem(path, Status(1001, 0x1a4), installedByRoot: false));
        Assert.True(ConfigFileRules.IsSystem("/opt/b/etc/burrow/burrow.conf", Status(0, 0x1a4), installedByRoot: false));
        Assert.True(ConfigFileRules.IsSystem("/opt/b/etc/burrow/burrow.conf", Status(1001, 0x1a4), installedByRoot: true));
        Assert.False(ConfigFileRules.IsSystem("/home/a/burrow/etc/burrow/burrow.conf", Status(1001, 0x1b4), installedByRoot: false));

        ConfigFileRules.Check(path, Status(0, 0x1a4), system: true); // root's, 0644: fine
        var owner = Assert.Throws<BurrowException>(() => ConfigFileRules.Check(path, Status(1001, 0x1a4), system: true));
        Assert.Equal("configuration /etc/burrow/burrow.conf must be owned by root and not writable by group or others (it is owned by uid 1001, mode 0644): refusing to run", owner.Message);
        Assert.Equal("as root: chown root:root /etc/burrow/burrow.conf && chmod go-w /etc/burrow/burrow.conf", owner.Hint);
        var group = Assert.Throws<BurrowException>(() => ConfigFileRules.Check(path, Status(0, 0x1b4), system: true));
        Assert.Equal("configuration /etc/burrow/burrow.conf must be owned by root and not writable by group or others (it is owned by uid 0, mode 0664): refusing to run", group.Message);
    }

    [Fact]
    public void AUsersOwnFileMayBeGroupWritableButNotWritableByAnyone()
    {
        ConfigFileRules.Check("/home/a/b.conf", Status(1001, 0x1b4), system: false);
        var e = Assert.Throws<BurrowException>(() => ConfigFileRules.Check("/home/a/b.conf", Status(1001, 0x1b6), system: false));
        Assert.Equal("configuration /home/a/b.conf is writable by anyone (mode 0666): refusing to run", e.Message);
    }

    [Fact]
    public void WithoutAFileEveryKeyHasItsDefaultAndTheEclLiesBesideIt()
    {
        LoadedConfig loaded = ConfigLoader.Load(Install(byRoot: false), null, null, 1000);
        Assert.False(loaded.Exists);
        Assert.Equal(Path.Combine(_dir, "etc", "burrow", "burrow.conf"), loaded.Path);
        Assert.Equal(Path.Combine(_dir, "etc", "burrow", "ecl.toml"), loaded.Config.EclFile);
        Assert.Equal("installation", loaded.ChosenBy);
    }

    [Fact]
    public void TheInstallationsFileIsReadAndARelativeEclIsResolvedBesideIt()
    {
        string etc = Path.Combine(_dir, "etc", "burrow");
        Directory.CreateDirectory(etc);
        File.WriteAllText(Path.Combine(etc, "burrow.conf"), "allow-fakeroot = false\necl-file = \"lists/ecl.toml\"\n");
        File.SetUnixFileMode(Path.Combine(etc, "burrow.conf"), (UnixFileMode)0x1a4);
        LoadedConfig loaded = ConfigLoader.Load(Install(byRoot: false), null, null, 1000);
        Assert.True(loaded.Exists);
        Assert.False(loaded.Config.AllowFakeroot);
        Assert.Equal(Path.Combine(etc, "lists", "ecl.toml"), loaded.Config.EclFile);
    }

    [Fact]
    public void OnlyRootMayChooseTheConfigurationOfAnInstallationRootMade()
    {
        string own = Path.Combine(_dir, "mine.conf");
        File.WriteAllText(own, "allow-net-ns = false\n");
        var e = Assert.Throws<BurrowException>(() => ConfigLoader.Load(Install(byRoot: true), own, null, 1000));
        Assert.Equal($"--config {own}: only root may choose the configuration of this installation ({_dir} was installed by root)", e.Message);
        var env = Assert.Throws<BurrowException>(() => ConfigLoader.Load(Install(byRoot: true), null, own, 1000));
        Assert.StartsWith($"BURROW_CONFIG {own}: only root may choose", env.Message);

        // On an installation of one's own, the choice is the user's; --config wins over BURROW_CONFIG.
        LoadedConfig mine = ConfigLoader.Load(Install(byRoot: false), own, "/nonexistent.conf", 1000);
        Assert.Equal("--config", mine.ChosenBy);
        Assert.False(mine.Config.AllowNetNs);
    }

    [Fact]
    public void AChosenFileThatIsMissingIsAnError()
    {
        var e = Assert.Throws<BurrowException>(() => ConfigLoader.Load(Install(byRoot: false), Path.Combine(_dir, "none.conf"), null, 1000));
        Assert.Equal($"cannot read the configuration {Path.Combine(_dir, "none.conf")} (--config): no such file", e.Message);
    }

    [Fact]
    public void TheExecutionControlListObeysTheConfigurationsOwnershipRules()
    {
        string etc = Path.Combine(_dir, "etc", "burrow");
        Directory.CreateDirectory(etc);
        string ecl = Path.Combine(etc, "ecl.toml");
        Assert.Equal(ecl, ConfigLoader.Load(Install(byRoot: false), null, null, 1000).Config.EclFile); // absent: nothing to check

        File.WriteAllText(ecl, "activated = true\n");
        File.SetUnixFileMode(ecl, (UnixFileMode)0x1b6);
        var open = Assert.Throws<BurrowException>(() => ConfigLoader.Load(Install(byRoot: false), null, null, 1000));
        // Root's file (the tests run as root in CI) is a system one, any other the user's: refused either way, named as the list.
        Assert.StartsWith($"execution control list {ecl} ", open.Message);
        Assert.EndsWith("(mode 0666): refusing to run", open.Message.Replace("(it is owned by uid 0, mode 0666)", "(mode 0666)"));
    }

    [Fact]
    public void SystemPrefixesKeepTheirConfigurationInEtc()
    {
        Assert.Equal("/etc/burrow", Installation.ConfigDirectoryFor("/usr"));
        Assert.Equal("/usr/local/etc/burrow", Installation.ConfigDirectoryFor("/usr/local"));
        Assert.Equal("/home/a/burrow/etc/burrow", Installation.ConfigDirectoryFor("/home/a/burrow"));
    }
}
