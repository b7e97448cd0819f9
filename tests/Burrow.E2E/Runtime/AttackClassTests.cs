using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>
/// Regression tests for the attack classes of runc, crun, Podman and Apptainer CVEs
/// (user-needs.md §e); the descriptor and /proc/self/exe classes are in <see cref="SecurityInvariantTests"/>.
/// </summary>
public class AttackClassTests
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BindDestinationSymlinkClimbingOutOfTheRootIsRefused(bool writable)
    {
        using var sandbox = new ScratchSandbox(User);
        // Followed as a host path, /escape/sub would be <scratch>/outside/sub.
        File.CreateSymbolicLink(Path.Combine(sandbox.Root, "escape"), "../outside");
        RunResult r = AsUser.Burrow(User, ["exec", .. writable ? new[] { "--writable" } : [], "-B", sandbox.Source + ":/escape/sub", sandbox.Root, "true"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("/escape/sub", r.Stderr);
        // A writable image gets no mount points made (Apptainer's rule): refused before the link is ever followed.
        Assert.Contains(writable ? "does not exist in the image" : "out of the container root", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(sandbox.Outside));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AbsoluteSymlinkOnABindDestinationIsResolvedInsideTheRoot(bool writable)
    {
        using var sandbox = new ScratchSandbox(User);
        // An absolute symlink means the container's path: it must not reach the host's <scratch>/outside.
        File.CreateSymbolicLink(Path.Combine(sandbox.Root, "escape"), sandbox.Outside);
        if (writable)
        {
            // A writable image gets no mount points made: the one at the link's in-root meaning must exist.
            Directory.CreateDirectory(sandbox.Root + sandbox.Outside + "/sub");
        }
        RunResult r = AsUser.Burrow(User, ["exec", .. writable ? new[] { "--writable" } : [], "-B", sandbox.Source + ":/escape/sub", sandbox.Root,
            "cat", sandbox.Outside + "/sub/marker"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("bound\n", r.Stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(sandbox.Outside));
        // The mount point used is the symlink's in-root meaning, never the host's path.
        Assert.Equal(writable, Directory.Exists(sandbox.Root + sandbox.Outside + "/sub"));
    }

    [Fact]
    public void SwappingAPathComponentForASymlinkDuringSetUpNeverEscapes()
    {
        using var sandbox = new ScratchSandbox(User);
        string racedir = Path.Combine(sandbox.Root, "racedir");
        Directory.CreateDirectory(racedir);
        File.CreateSymbolicLink(racedir + ".l", "../outside");
        File.CreateSymbolicLink(racedir + ".a", sandbox.Outside);
        Directory.CreateDirectory(racedir + ".d");
        // A racer flips racedir between a directory and symlinks out of the root while burrow sets up
        // its mounts (runc CVE-2021-30465); bounded by a stop file and a time limit.
        string stop = Path.Combine(sandbox.Dir, "stop");
        string racer = $$"""
            import os, time
            os.chdir({{Quote(sandbox.Root)}})
            end = time.time() + 60
            while not os.path.exists({{Quote(stop)}}) and time.time() < end:
                for link in ("racedir.l", "racedir.a"):
                    try:
                        os.rename("racedir", "racedir.d"); os.rename(link, "racedir")
                        os.rename("racedir", link); os.rename("racedir.d", "racedir")
                    except OSError:
                        pass
            """;
        using Process race = Process.Start(new ProcessStartInfo("python3", ["-c", racer]) { UseShellExecute = false })!;
        try
        {
            int ok = 0, refused = 0;
            for (int i = 0; i < 24; i++)
            {
                string[] mode = (i % 2 == 0) ? ["--writable"] : [];
                RunResult r = AsUser.Burrow(User, ["exec", .. mode, "-B", sandbox.Source + ":/racedir/sub" + i, sandbox.Root, "true"]);
                Assert.False(r.TimedOut, r.ToString());
                Assert.DoesNotContain("   at ", r.Stderr);
                if (r.ExitCode == 0) { ok++; } else { refused++; Assert.Contains("ERROR:", r.Stderr); }
            }
            Assert.True(ok + refused == 24);
        }
        finally
        {
            File.WriteAllText(stop, "");
            race.WaitForExit(10_000);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(sandbox.Outside));
    }

    private static string Quote(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}
