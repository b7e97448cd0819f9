using Burrow.E2E.Harness;

namespace Burrow.E2E.Oci;

/// <summary><c>burrow pull</c> as an unprivileged user against the local anonymous registry, archives and layouts.</summary>
public class RegistryPullTests
{
    private static TestUser User => E2EEnvironment.UserWithRange;

    private static (RunResult Result, string Sif, string Dir) Pull(string reference, params string[] extra)
    {
        string dir = OciEnvironment.Scratch(User);
        string sif = Path.Combine(dir, "out.sif");
        RunResult r = OciEnvironment.Burrow(User, Path.Combine(dir, "cache"), ["pull", .. extra, sif, reference]);
        return (r, sif, dir);
    }

    [Fact]
    public void PullsAnImageWithTheObjectsApptainerWrites()
    {
        (RunResult r, string sif, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/small:latest");
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            string list = OciEnvironment.Run("siftool", "list", sif);
            Assert.Contains("Def.FILE", list);
            Assert.Equal(2, list.Split('\n').Count(l => l.Contains("JSON.Generic", StringComparison.Ordinal)));
            Assert.Contains("FS (Squashfs/*System/amd64)", list);
            string runscript = OciEnvironment.Cat(sif, ".singularity.d/runscript");
            Assert.Contains("'/bin/echo' 'entry' 'default-arg'", runscript);
            string env = OciEnvironment.Cat(sif, ".singularity.d/env/10-docker2singularity.sh");
            Assert.Contains("export GREETING=\"${GREETING:-hello \\\"oci\\\" \\$world}\"", env);
            Assert.Contains("\"org.burrow.test\": \"small\"", OciEnvironment.Cat(sif, ".singularity.d/labels.json"));
            Assert.Contains(" bin/busybox", OciEnvironment.ListSquashfs(sif).Replace("squashfs-root/", " "));

            string cache = Path.Combine(dir, "cache");
            Assert.Equal("700", OciEnvironment.Run("stat", "-c", "%a", cache).Trim());
            RunResult again = OciEnvironment.Burrow(User, cache, ["pull", "--force", sif, $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.True(again.ExitCode == 0, again.ToString());
            Assert.Contains("INFO:    Using cached SIF image", again.Stderr);

            RunResult exists = OciEnvironment.Burrow(User, cache, ["pull", sif, $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.NotEqual(0, exists.ExitCode);
            Assert.Contains("image file already exists", exists.Stderr);
            Assert.Contains("--force", exists.Stderr);
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Theory]
    [InlineData(null, "amd64")]
    [InlineData("arm64", "arm64")]
    public void SelectsThePlatformFromAnIndex(string? arch, string expected)
    {
        (RunResult r, string sif, string dir) = arch is null
            ? Pull($"docker://{OciEnvironment.Anonymous}/multi:latest")
            : Pull($"docker://{OciEnvironment.Anonymous}/multi:latest", "--arch", arch);
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(expected, OciEnvironment.Cat(sif, "arch").Trim());
            Assert.Contains($"*System/{expected})", OciEnvironment.Run("siftool", "list", sif));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void RefusesAnArchitectureTheIndexDoesNotHave()
    {
        (RunResult r, _, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/multi:latest", "--arch", "s390x");
        OciEnvironment.Remove(dir);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("has no image for linux/s390x (it has: linux/amd64, linux/arm64)", r.Stderr);
    }

    [Fact]
    public void ReadsZstdLayers()
    {
        (RunResult r, string sif, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/zstd:latest");
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("squashfs-root/bin/busybox", OciEnvironment.ListSquashfs(sif));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void FlattensWhiteoutsOpaqueDirectoriesAndHardLinksKeepingOwnersSetuidAndDevices()
    {
        (RunResult r, string sif, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/layers:latest");
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            string[] lines = OciEnvironment.ListSquashfs(sif).Split('\n');
            string Line(string path) => lines.Single(l => l.EndsWith("squashfs-root/" + path, StringComparison.Ordinal));
            bool Has(string path) => lines.Any(l => l.EndsWith("squashfs-root/" + path, StringComparison.Ordinal));
            Assert.False(Has("data/a"));                       // .wh.a
            Assert.StartsWith("drwx------", Line("data/b"));   // a file replaced by a directory
            Assert.True(Has("data/b/inner"));
            Assert.False(Has("opq/x"));                        // opaque directory
            Assert.False(Has("opq/sub/y"));
            Assert.True(Has("opq/new"));
            Assert.False(Has("hl/orig"));                      // removed after being hard-linked
            Assert.Matches(@"^-rw-r----- 1234/5678 ", Line("hl/link"));
            Assert.Equal("shared content\n", OciEnvironment.Cat(sif, "hl/link"));
            Assert.Matches(@"^-rwsr-xr-x 0/0 ", Line("bin/suid"));
            Assert.Matches(@"^crw-rw-rw- 0/0 +1, +3 ", Line("dev/null-ish"));
            Assert.Matches(@"^-rw-r--r-- 1234/5678 ", Line("owned"));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void PullsTenThousandSmallFiles()
    {
        (RunResult r, string sif, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/many:latest");
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(10000, OciEnvironment.ListSquashfs(sif).Split('\n').Count(l => l.Contains("squashfs-root/many/d", StringComparison.Ordinal) && l.StartsWith('-')));
            Assert.Equal("4321\n", OciEnvironment.Cat(sif, "many/d04/f04321"));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void PullsA200MiBLayerKeepingSetuidRootSudo()
    {
        (RunResult r, string sif, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/big:latest");
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            string list = OciEnvironment.ListSquashfs(sif);
            Assert.Matches(@"-rwsr-xr-x 0/0 +\d+ .* squashfs-root/usr/bin/sudo\n", list);
            Assert.Matches(@"-rw-r--r-- 0/0 +58720256 .* squashfs-root/big/random.bin\n", list);
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    public static IEnumerable<object[]> LocalSources() =>
    [
        ["docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar")],
        ["docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar") + ":localhost/burrow-small:latest"],
        ["oci-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-oci.tar")],
        ["oci:" + Path.Combine(OciEnvironment.Fixtures, "layouts", "small") + ":latest"],
        ["oci:" + Path.Combine(OciEnvironment.Fixtures, "layouts", "multi")],
    ];

    [Theory]
    [MemberData(nameof(LocalSources))]
    public void PullsArchivesAndLayouts(string source)
    {
        (RunResult r, string sif, string dir) = Pull(source);
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("squashfs-root/bin/busybox", OciEnvironment.ListSquashfs(sif));
            Assert.Contains("'/bin/echo' 'entry'", OciEnvironment.Cat(sif, ".singularity.d/runscript"));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void SaysNotFoundForAMissingTag()
    {
        (RunResult r, _, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/small:nonexistent");
        OciEnvironment.Remove(dir);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"ERROR:   not found: docker://{OciEnvironment.Anonymous}/small:nonexistent", r.Stderr);
    }

    [Fact]
    public void RefusesALayerWithAPathEscapeAndWritesNothingOutside()
    {
        (RunResult r, _, string dir) = Pull($"docker://{OciEnvironment.Anonymous}/escape:latest");
        try
        {
            Assert.NotEqual(0, r.ExitCode);
            Assert.Matches(@"ERROR:   layer sha256:[0-9a-f]{64}: refusing entry ""\.\./escape-victim"": the name contains ""\.\.""", r.Stderr);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir, "escape-victim", SearchOption.AllDirectories));
            Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "escape-victim")));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(dir, "cache", "sif"), "*", SearchOption.AllDirectories));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }
}
