using System.Diagnostics;
using Burrow.E2E.Harness;
using Burrow.E2E.Oci;
using Burrow.E2E.Runtime;

namespace Burrow.E2E.Build;

/// <summary>
/// <c>burrow build</c> from definition files as the unprivileged test users: fakeroot implied, the sections Apptainer
/// users write most, owners kept in the image, and one clear ERROR for each bad input.
/// </summary>
public class BuildTests
{
    private static TestUser User => E2EEnvironment.UserWithRange;

    private static string BusyboxSif => E2EEnvironment.BusyboxTree + ".sif";

    /// <summary>A definition exercising %files, %post (as root: owners, setuid), %environment, %runscript, %labels, %test.</summary>
    private static string Recipe(string bootstrap) => bootstrap + """

        %files
            hello.txt /opt/hello.txt

        %post
            echo made > /made-by-post
            mkdir -p /data
            echo x > /data/owned
            chown 1000:1000 /data/owned
            cp /bin/busybox /su-copy
            chmod 4755 /su-copy
            echo 'export FROMPOST=yes' >> $APPTAINER_ENVIRONMENT

        %environment
            export GREETING=built

        %runscript
            echo "runscript says $GREETING $FROMPOST $*"

        %labels
            Maintainer burrow-test

        %test
            test -f /made-by-post
        """ + "\n";

    private sealed class Workspace : IDisposable
    {
        public Workspace(string definition)
        {
            Dir = OciEnvironment.Scratch(User);
            File.WriteAllText(Path.Combine(Dir, "hello.txt"), "hello from the host\n");
            File.WriteAllText(Path.Combine(Dir, "image.def"), definition);
        }

        public string Dir { get; }

        public string Def => Path.Combine(Dir, "image.def");

        public string Cache => Path.Combine(Dir, "cache");

        public RunResult Burrow(TestUser user, params string[] args) =>
            AsUser.Run(user, [E2EEnvironment.Burrow, .. args], env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Cache }, cwd: Dir,
                timeout: TimeSpan.FromSeconds(240));

        public void Dispose() => OciEnvironment.Remove(Dir);
    }

    [Fact]
    public void BuildsASifFromALocalImageWithOwnersKept()
    {
        using var w = new Workspace(Recipe($"Bootstrap: localimage\nFrom: {BusyboxSif}\n"));
        string sif = Path.Combine(w.Dir, "out.sif");
        RunResult r = w.Burrow(User, "build", sif, "image.def");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("INFO:    Implying --fakeroot", r.Stderr);
        Assert.Contains("Running post scriptlet", r.Stderr);
        Assert.Contains("Running testscript", r.Stderr);
        Assert.Contains("Build complete", r.Stderr);
        Assert.False(File.Exists(sif + ".tmp"));

        // An independent reader: siftool sees the recipe and the squashfs, unsquashfs the container's owners.
        string list = OciEnvironment.Run("siftool", "list", sif);
        Assert.Contains("Def.FILE", list);
        Assert.Contains("FS (Squashfs/*System/amd64)", list);
        string files = OciEnvironment.ListSquashfs(sif);
        Assert.Matches(@"-rw-r--r-- 0/0 .* squashfs-root/made-by-post\n", files);
        Assert.Matches(@"-rw-r--r-- 1000/1000 .* squashfs-root/data/owned\n", files);
        Assert.Matches(@"-rwsr-xr-x 0/0 .* squashfs-root/su-copy\n", files);
        Assert.Matches(@" 0/0 .* squashfs-root/opt/hello.txt\n", files);
        Assert.Matches(@" 0/0 .* squashfs-root/bin/busybox\n", files);

        RunResult exec = w.Burrow(User, "exec", sif, "cat", "/opt/hello.txt", "/made-by-post");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("hello from the host\nmade\n", exec.Stdout);
        RunResult run = w.Burrow(User, "run", sif, "arg1");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("runscript says built yes arg1\n", run.Stdout);
        RunResult deffile = w.Burrow(User, "inspect", "--deffile", sif);
        Assert.True(deffile.ExitCode == 0, deffile.ToString());
        Assert.Contains("echo made > /made-by-post", deffile.Stdout);
        RunResult labels = w.Burrow(User, "inspect", "--labels", sif);
        Assert.Contains("Maintainer", labels.Stdout);
        Assert.Contains("burrow-test", labels.Stdout);
        RunResult test = w.Burrow(User, "test", sif);
        Assert.True(test.ExitCode == 0, test.ToString());
    }

    [Fact]
    public void BuildsFromTheLocalRegistry()
    {
        using var w = new Workspace(Recipe($"Bootstrap: docker\nFrom: {OciEnvironment.Anonymous}/small:latest\n"));
        string sif = Path.Combine(w.Dir, "out.sif");
        RunResult r = w.Burrow(User, "build", sif, "image.def");
        Assert.True(r.ExitCode == 0, r.ToString());
        RunResult exec = w.Burrow(User, "exec", sif, "sh", "-c", "cat /made-by-post; echo $GREETING $FROMPOST");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("made\nbuilt yes\n", exec.Stdout);
        Assert.Matches(@"-rw-r--r-- 1000/1000 .* squashfs-root/data/owned\n", OciEnvironment.ListSquashfs(sif));
        Assert.Contains($"{OciEnvironment.Anonymous}/small:latest", OciEnvironment.Cat(sif, ".singularity.d/labels.json"));
    }

    [Fact]
    [Trait("Category", "SandboxOnly")]
    public void BuildsASandboxFromASandbox()
    {
        using var w = new Workspace(Recipe($"Bootstrap: localimage\nFrom: {E2EEnvironment.BusyboxTree}\n"));
        string dir = Path.Combine(w.Dir, "sandbox");
        RunResult r = w.Burrow(User, "build", "--sandbox", dir, "image.def");
        Assert.True(r.ExitCode == 0, r.ToString());
        // On disk, container root is the caller and container uid 1000 is the range's 1000th id.
        Assert.Equal(User.Uid.ToString(), OciEnvironment.Run("stat", "-c", "%u", Path.Combine(dir, "made-by-post")).Trim());
        Assert.NotEqual(User.Uid.ToString(), OciEnvironment.Run("stat", "-c", "%u", Path.Combine(dir, "data", "owned")).Trim());
        RunResult exec = w.Burrow(User, "exec", "--fakeroot", dir, "stat", "-c", "%u:%g %A", "/data/owned", "/su-copy");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("1000:1000 -rw-r--r--\n0:0 -rwsr-xr-x\n", exec.Stdout);
        RunResult run = w.Burrow(User, "run", dir);
        Assert.Equal("runscript says built yes \n", run.Stdout);

        // The sandbox again into a SIF: owners as the container sees them.
        string sif = Path.Combine(w.Dir, "again.sif");
        RunResult pack = w.Burrow(User, "build", "--fakeroot", sif, dir);
        Assert.True(pack.ExitCode == 0, pack.ToString());
        Assert.Matches(@"-rw-r--r-- 1000/1000 .* squashfs-root/data/owned\n", OciEnvironment.ListSquashfs(sif));
        Assert.Matches(@"-rw-r--r-- 0/0 .* squashfs-root/made-by-post\n", OciEnvironment.ListSquashfs(sif));
    }

    [Fact]
    public void AUserWithoutARangeIsToldTheFix()
    {
        using var w = new Workspace($"Bootstrap: localimage\nFrom: {BusyboxSif}\n%post\n    true\n");
        string sif = Path.Combine(w.Dir, "out.sif");
        RunResult r = w.Burrow(E2EEnvironment.UserWithoutRange, "build", sif, "image.def");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("/etc/subuid", r.Stderr);
        Assert.Contains("usermod --add-subuids", r.Stderr);
        Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal));
        Assert.False(File.Exists(sif));
    }

    [Fact]
    public void AFailingPostNamesFileLineAndSectionAndExitsWithItsStatus()
    {
        using var w = new Workspace($"Bootstrap: localimage\nFrom: {BusyboxSif}\n\n%post\n    echo first\n    false_command_here --flag\n    echo never\n");
        string sif = Path.Combine(w.Dir, "out.sif");
        RunResult r = w.Burrow(User, "build", sif, "image.def");
        Assert.Equal(127, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("%post failed with exit status 127 at line 6 of image.def: false_command_here --flag", r.Stderr);
        Assert.DoesNotContain("never", r.Stdout + r.Stderr.Replace("echo never", ""));
        Assert.False(File.Exists(sif));
        Assert.Empty(Directory.GetFiles(w.Dir, "out.sif*"));

        // --quiet: no progress and no trace, but the script's own messages and the error stay.
        File.WriteAllText(w.Def, $"Bootstrap: localimage\nFrom: {BusyboxSif}\n\n%post\n    echo 'why it fails' >&2\n    exit 3\n");
        RunResult three = w.Burrow(User, "-q", "build", sif, "image.def");
        Assert.Equal(3, three.ExitCode);
        Assert.Contains("%post failed with exit status 3", three.Stderr);
        Assert.Contains("why it fails", three.Stderr);
        Assert.DoesNotContain("INFO:", three.Stderr);
        Assert.DoesNotContain("+ exit", three.Stderr);
    }

    [Theory]
    [InlineData("Bootstrap: nosuchagent\nFrom: x\n", "line 1", "unknown bootstrap agent \"nosuchagent\"")]
    [InlineData("From: x\n%post\n    true\n", "image.def", "Bootstrap")]
    [InlineData("Bootstrap: localimage\n\n%post\n    true\n", "line 1", "From:")]
    [InlineData("Bootstrap: localimage\nFrom: /nonexistent/image.sif\n", "line 2", "does not exist")]
    [InlineData("Bootstrap: localimage\nFrom: BUSYBOX\n\n%files\n    missing-file.txt /opt/\n", "line 5", "missing-file.txt")]
    [InlineData("Bootstrap: localimage\nFrom: BUSYBOX\n\n%nosuchsection\n    true\n", "line 4", "nosuchsection")]
    public void BadDefinitionsGetOneClearError(string definition, string where, string what)
    {
        using var w = new Workspace(definition.Replace("BUSYBOX", BusyboxSif));
        string sif = Path.Combine(w.Dir, "out.sif");
        RunResult r = w.Burrow(User, "build", sif, "image.def");
        Assert.NotEqual(0, r.ExitCode);
        string[] errors = r.Stderr.Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, r.ToString());
        Assert.Contains(where, errors[0]);
        Assert.Contains(what, errors[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(File.Exists(sif));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(15)]
    public void ASignalMidPostLeavesNothingBehind(int signal)
    {
        using var w = new Workspace($"Bootstrap: localimage\nFrom: {BusyboxSif}\n\n%post\n    touch /started\n    sleep 60\n");
        string tmp = Path.Combine(w.Dir, "tmp");
        string outDir = Path.Combine(w.Dir, "out");
        foreach (string d in new[] { tmp, outDir })
        {
            Directory.CreateDirectory(d);
            OciEnvironment.Run("chown", User.Uid + ":" + User.Gid, d);
        }
        var env = new Dictionary<string, string> { ["BURROW_CACHEDIR"] = w.Cache, ["TMPDIR"] = tmp };
        using BackgroundBurrow burrow = BackgroundBurrow.StartWith(User, env, "build", Path.Combine(outDir, "out.sif"), w.Def);
        var clock = Stopwatch.StartNew();
        while (!burrow.Stderr.Contains("+ sleep 60", StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "never reached %post's sleep\n" + burrow.Stderr);
            Thread.Sleep(50);
        }
        Thread.Sleep(200);
        burrow.Signal(signal);
        int exit = burrow.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(exit == 128 + signal, $"exit {exit}\n{burrow.Stderr}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), "the build waited for %post's sleep");
        Assert.Single(burrow.Stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal));
        Assert.Contains("interrupted by", burrow.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(outDir));
        Assert.Empty(Directory.GetFileSystemEntries(tmp));
    }
}
