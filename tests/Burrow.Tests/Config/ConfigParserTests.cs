using Burrow.Core.Config;
using Burrow.Core.Diagnostics;

namespace Burrow.Tests.Config;

public class ConfigParserTests
{
    private const string File = "/opt/burrow/etc/burrow/burrow.conf";

    private static BurrowConfig Parse(string text) => ConfigParser.Parse(text, File, BurrowConfig.Default);

    private static BurrowException Fails(string text) => Assert.Throws<BurrowException>(() => Parse(text));

    [Fact]
    public void TheShippedFileIsAllDefaultsAndDocumentsEveryKey()
    {
        string shipped = System.IO.File.ReadAllText(Path.Combine(RepoRoot(), "etc", "burrow.conf"));
        BurrowConfig config = Parse(shipped);
        Assert.Empty(config.Origins);
        foreach (string key in ConfigKeys.Names)
        {
            // Each key appears, commented out, with exactly its default value.
            Assert.Contains($"# {key} = {ConfigKeys.Render(BurrowConfig.Default, key).Replace("/etc/burrow/ecl.toml", "ecl.toml")}\n", shipped);
        }
        // Uncommenting every default line gives the defaults again.
        BurrowConfig uncommented = Parse(string.Join('\n', shipped.Split('\n').Select(l => ConfigKeys.Names.Any(k => l.StartsWith("# " + k + " =", StringComparison.Ordinal)) ? l[2..] : l)));
        Assert.Equal(ConfigKeys.Names.Count, uncommented.Origins.Count);
        foreach (string key in ConfigKeys.Names.Where(k => k != "ecl-file"))
        {
            Assert.Equal(ConfigKeys.Render(BurrowConfig.Default, key), ConfigKeys.Render(uncommented, key));
        }
    }

    [Fact]
    public void EachKeyIsReadWithItsLine()
    {
        BurrowConfig c = Parse("""
            allow-image-kinds = ["sif"]
            limit-container-paths = ["/scratch/", "/data//images"]
            limit-container-owners = ["alice", "1001"]
            bind-path = ["/scratch", "/opt/sw:/sw:ro"]
            user-bind-control = false
            mount-home = "no"
            mount-tmp = false
            mount-proc = "no"
            mount-sys = "no"
            mount-dev = "minimal"
            allow-pid-ns = "no"
            allow-ipc-ns = false
            allow-uts-ns = false
            allow-net-ns = false
            allow-fakeroot = false
            allow-userns-modes = ["keep-id"]
            sessiondir-max-size = 16
            cache-dir = "/scratch/$USER/cache"
            temp-dir = "$HOME/tmp"
            binary-path = "/opt/helpers/bin:$PATH"
            ecl-file = "/etc/burrow/ecl.toml"
            """);
        Assert.Equal([ImageKind.Sif], c.AllowedImageKinds);
        Assert.Equal(["/scratch", "/data/images"], c.LimitContainerPaths);
        Assert.Equal(["alice", "1001"], c.LimitContainerOwners);
        Assert.Equal(["/scratch", "/opt/sw:/sw:ro"], c.BindPaths);
        Assert.False(c.UserBindControl);
        Assert.Equal([MountMode.No, MountMode.No, MountMode.No, MountMode.No, MountMode.Minimal], [c.MountHome, c.MountTmp, c.MountProc, c.MountSys, c.MountDev]);
        Assert.False(c.AllowPidNs || c.AllowIpcNs || c.AllowUtsNs || c.AllowNetNs || c.AllowFakeroot);
        Assert.Equal(["keep-id"], c.AllowedUserNsModes);
        Assert.Equal(16, c.SessionDirMaxSizeMiB);
        Assert.Equal("/scratch/$USER/cache", c.CacheDir);
        Assert.Equal("$HOME/tmp", c.TempDir);
        Assert.Equal("/opt/helpers/bin:$PATH", c.BinaryPath);
        Assert.Equal("/etc/burrow/ecl.toml", c.EclFile);
        Assert.Equal(File, c.File);
        Assert.Equal(new ConfigOrigin(File, 1), c.OriginOf("allow-image-kinds"));
        Assert.Equal(new ConfigOrigin(File, 21), c.OriginOf("ecl-file"));
        Assert.Equal($"allow-fakeroot = false in {File} line 15", c.Cite("allow-fakeroot"));
        Assert.Equal("allow-fakeroot = true (Burrow's default)", BurrowConfig.Default.Cite("allow-fakeroot"));
    }

    [Fact]
    public void AnEmptyFileIsEveryDefault()
    {
        BurrowConfig c = Parse("# nothing set\n\n");
        Assert.Empty(c.Origins);
        Assert.All(ConfigKeys.Names, k => Assert.Equal(ConfigKeys.Render(BurrowConfig.Default, k), ConfigKeys.Render(c, k)));
    }

    [Fact]
    public void AnUnknownKeyNamesTheFileTheLineAndTheKeyAndSuggestsTheNearest()
    {
        BurrowException e = Fails("allow-pid-ns = true\nalow-fakeroot = false\n");
        Assert.Equal($"{File} line 2: unknown key 'alow-fakeroot'", e.Message);
        Assert.Equal("did you mean 'allow-fakeroot'? every key is listed, with its default, in the burrow.conf that Burrow ships", e.Hint);
        Assert.Equal($"{File} line 1: unknown key 'bind path'", Fails("\"bind path\" = []").Message);
        Assert.Equal($"{File} line 1: unknown key 'mount.home'", Fails("mount.home = \"no\"").Message);
    }

    [Theory]
    [InlineData("allow-fakeroot = 1", "allow-fakeroot: expected true or false, found an integer")]
    [InlineData("allow-fakeroot = \"maybe\"", "allow-fakeroot: 'maybe' is not true, false, yes or no")]
    [InlineData("mount-home = \"minimal\"", "mount-home: 'minimal' is not one of yes, no")]
    [InlineData("mount-dev = \"some\"", "mount-dev: 'some' is not one of yes, no, minimal")]
    [InlineData("mount-dev = 3", "mount-dev: expected \"yes\", \"no\" or \"minimal\", found an integer")]
    [InlineData("allow-image-kinds = [\"sif\", \"docker\"]", "allow-image-kinds: 'docker' is not an image kind (sif, sandbox, oci, encrypted)")]
    [InlineData("allow-image-kinds = \"sif\"", "allow-image-kinds: expected an array of strings, found a string")]
    [InlineData("allow-image-kinds = [1]", "allow-image-kinds: expected an array of strings, found an integer in it")]
    [InlineData("allow-userns-modes = [\"nomap\"]", "allow-userns-modes: 'nomap' is not a --userns mode (auto, keep-id)")]
    [InlineData("limit-container-paths = [\"scratch\"]", "limit-container-paths: 'scratch' is not an absolute path")]
    [InlineData("limit-container-owners = [\"a b\"]", "limit-container-owners: 'a b' is not a user name or uid")]
    [InlineData("bind-path = [\"data:/data\"]", "bind-path: 'data:/data' is not src[:dst[:ro|rw]] with absolute paths")]
    [InlineData("bind-path = [\"/data:/data:rx\"]", "bind-path: '/data:/data:rx': unknown bind option 'rx' (ro or rw)")]
    [InlineData("sessiondir-max-size = 0", "sessiondir-max-size: 0 is out of range (1 to 1048576 MiB)")]
    [InlineData("sessiondir-max-size = \"64m\"", "sessiondir-max-size: expected a size in MiB (an integer), found a string")]
    [InlineData("sessiondir-max-size = 6.5", "sessiondir-max-size: expected a size in MiB (an integer), found a float")]
    [InlineData("cache-dir = \"cache\"", "cache-dir: 'cache' is not an absolute path (it may start with $HOME)")]
    [InlineData("binary-path = \"bin:$PATH\"", "binary-path: 'bin' is not an absolute directory or $PATH")]
    [InlineData("binary-path = \":\"", "binary-path: it names no directory")]
    [InlineData("ecl-file = \"\"", "ecl-file: expected a file path, found an empty string")]
    public void ABadValueNamesTheFileTheLineAndTheKey(string line, string message)
    {
        BurrowException e = Fails("# a comment\n" + line + "\n");
        Assert.Equal($"{File} line 2: {message}", e.Message);
        string key = line.Split(' ')[0];
        Assert.Equal($"write it as the default is written: {key} = {ConfigKeys.Render(BurrowConfig.Default, key)} (the shipped burrow.conf documents every key)", e.Hint);
    }

    [Fact]
    public void TomlMistakesAndTablesAreErrorsWithTheirLine()
    {
        BurrowException toml = Fails("allow-pid-ns = true\n\nallow-ipc-ns = \n");
        Assert.StartsWith($"{File} line 3: not valid TOML: ", toml.Message);
        Assert.Equal("fix the TOML at that line (key = value, strings in double quotes)", toml.Hint);
        Assert.StartsWith($"{File} line 2: not valid TOML: ", Fails("allow-pid-ns = true\nallow-pid-ns = false\n").Message);
        Assert.Equal($"{File} line 2: unknown table [mounts]: burrow.conf has only top-level keys", Fails("allow-pid-ns = true\n[mounts]\nhome = \"no\"\n").Message);
    }

    internal static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir, "Burrow.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("no repository root");
    }
}
