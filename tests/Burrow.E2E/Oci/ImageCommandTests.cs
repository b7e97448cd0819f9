using Burrow.E2E.Harness;

namespace Burrow.E2E.Oci;

/// <summary>exec/run on OCI sources and SIF files, build, inspect and cache, as an unprivileged user.</summary>
public class ImageCommandTests
{
    private static TestUser User => E2EEnvironment.UserWithRange;

    [Fact]
    public void ExecPullsOnFirstUseThenUsesTheCachedSifAndMountsIt()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            var env = new Dictionary<string, string> { ["TMPDIR"] = dir };
            string[] args = ["exec", $"docker://{OciEnvironment.Anonymous}/small:latest", "/bin/sh", "-c", "echo \"$GREETING\"; cat /.singularity.d/labels.json"];
            RunResult first = OciEnvironment.Burrow(User, cache, args, env);
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.Contains("hello \"oci\" $world", first.Stdout);
            Assert.Contains("org.burrow.test", first.Stdout);
            Assert.DoesNotContain("Using cached SIF image", first.Stderr);
            Assert.DoesNotContain("temporary sandbox", first.Stderr);

            RunResult second = OciEnvironment.Burrow(User, cache, args, env);
            Assert.True(second.ExitCode == 0, second.ToString());
            Assert.Contains("INFO:    Using cached SIF image", second.Stderr);
            Assert.DoesNotContain("temporary sandbox", second.Stderr);
            Assert.Empty(Directory.GetDirectories(dir, "burrow-sandbox-*"));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void RunsASifFileAndItsRunscript()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            string sif = Path.Combine(dir, "small.sif");
            RunResult pull = OciEnvironment.Burrow(User, cache, ["pull", sif, $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.True(pull.ExitCode == 0, pull.ToString());
            RunResult run = OciEnvironment.Burrow(User, cache, ["run", sif, "from", "args"], new() { ["TMPDIR"] = dir });
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal("entry from args\n", run.Stdout);
            RunResult plain = OciEnvironment.Burrow(User, cache, ["run", sif], new() { ["TMPDIR"] = dir });
            Assert.Equal("entry default-arg\n", plain.Stdout);
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void BuildsASandboxAndInspectsImages()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            string sandbox = Path.Combine(dir, "sandbox");
            RunResult build = OciEnvironment.Burrow(User, cache, ["build", "--sandbox", sandbox, $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.True(build.ExitCode == 0, build.ToString());
            Assert.True(File.Exists(Path.Combine(sandbox, "bin", "busybox")));
            Assert.Equal(User.Uid.ToString(), OciEnvironment.Run("stat", "-c", "%u", Path.Combine(sandbox, "bin", "busybox")).Trim());

            string sif = Path.Combine(dir, "small.sif");
            RunResult buildSif = OciEnvironment.Burrow(User, cache, ["build", sif, $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.True(buildSif.ExitCode == 0, buildSif.ToString());

            foreach (string image in new[] { sif, sandbox })
            {
                RunResult labels = OciEnvironment.Burrow(User, cache, ["inspect", image]);
                Assert.True(labels.ExitCode == 0, labels.ToString());
                Assert.Contains("org.burrow.test: small\n", labels.Stdout);
                RunResult runscript = OciEnvironment.Burrow(User, cache, ["inspect", "--runscript", image]);
                Assert.Contains("'/bin/echo' 'entry'", runscript.Stdout);
                RunResult environment = OciEnvironment.Burrow(User, cache, ["inspect", "--environment", image]);
                Assert.Contains("=== /.singularity.d/env/10-docker2singularity.sh ===", environment.Stdout);
            }
            RunResult deffile = OciEnvironment.Burrow(User, cache, ["inspect", "--deffile", sif]);
            Assert.Equal($"bootstrap: docker\nfrom: docker://{OciEnvironment.Anonymous}/small:latest\n", deffile.Stdout);
            RunResult json = OciEnvironment.Burrow(User, cache, ["inspect", "--json", sif]);
            Assert.Contains("\"type\": \"container\"", json.Stdout);

            RunResult def = OciEnvironment.Burrow(User, cache, ["build", Path.Combine(dir, "x.sif"), "image.def"]);
            Assert.NotEqual(0, def.ExitCode);
            Assert.Contains("definition file", def.Stderr);
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void ListsAndCleansTheCache()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            RunResult pull = OciEnvironment.Burrow(User, cache, ["pull", Path.Combine(dir, "a.sif"), $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.True(pull.ExitCode == 0, pull.ToString());
            RunResult list = OciEnvironment.Burrow(User, cache, ["cache", "list"]);
            Assert.Contains("There are 1 container file(s)", list.Stdout);
            Assert.Contains("and 1 oci blob file(s)", list.Stdout);
            RunResult json = OciEnvironment.Burrow(User, cache, ["cache", "list", "--json"]);
            Assert.Contains("\"type\": \"sif\"", json.Stdout);

            RunResult dry = OciEnvironment.Burrow(User, cache, ["cache", "clean", "--type", "blob", "--dry-run"]);
            Assert.Contains("Would remove blob", dry.Stdout);
            RunResult young = OciEnvironment.Burrow(User, cache, ["cache", "clean", "--days", "1", "--force"]);
            Assert.Contains("Removed 0 cache entries", young.Stderr);
            RunResult declined = AsUser.Run(User, [E2EEnvironment.Burrow, "cache", "clean"], stdin: "n\n", env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = cache });
            Assert.Contains("Do you want to continue? [y/N]", declined.Stderr);
            Assert.Contains("There are 1 container file(s)", OciEnvironment.Burrow(User, cache, ["cache", "list"]).Stdout);
            RunResult clean = OciEnvironment.Burrow(User, cache, ["cache", "clean", "--type", "sif", "--force"]);
            Assert.True(clean.ExitCode == 0, clean.ToString());
            RunResult after = OciEnvironment.Burrow(User, cache, ["cache", "list"]);
            Assert.Contains("There are 0 container file(s) using 0 B and 1 oci blob file(s)", after.Stdout);
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void DisableCacheWritesNoCache()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            RunResult pull = OciEnvironment.Burrow(User, cache, ["pull", "--disable-cache", Path.Combine(dir, "a.sif"), $"docker://{OciEnvironment.Anonymous}/small:latest"]);
            Assert.True(pull.ExitCode == 0, pull.ToString());
            Assert.False(Directory.Exists(cache));
            Assert.Contains("FS (Squashfs", OciEnvironment.Run("siftool", "list", Path.Combine(dir, "a.sif")));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }
}
