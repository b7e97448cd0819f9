using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>--fakeroot as the user with a subordinate range (full mapping) and the one without (root only, with a warning).</summary>
public class FakeRootTests
{
    private static TestUser WithRange => E2EEnvironment.UserWithRange;
    private static TestUser WithoutRange => E2EEnvironment.UserWithoutRange;

    private static string SubUidStart(TestUser user) =>
        File.ReadLines("/etc/subuid").First(l => l.StartsWith(user.Name + ":", StringComparison.Ordinal)).Split(':')[1];

    [Theory]
    [InlineData("--fakeroot")]
    [InlineData("-f")]
    public void WithARangeRootIsYouAndTheRangeIsMapped(string option)
    {
        RunResult r = Sandboxes.Burrow(WithRange, "exec", option, E2EEnvironment.BusyboxImage, "sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map; echo HOME=$HOME");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("uid=0(root) gid=0(root)", r.Stdout);
        Assert.Matches($@"\s0\s+{WithRange.Uid}\s+1\n", r.Stdout);
        Assert.Matches($@"\s1\s+{SubUidStart(WithRange)}\s+65536\n", r.Stdout);
        Assert.Contains("HOME=/root", r.Stdout);
        Assert.DoesNotContain("WARNING", r.Stderr);
    }

    [Fact]
    public void TheHostHomeIsBoundAtRoot()
    {
        string marker = "identity-home-" + Guid.NewGuid().ToString("N");
        RunResult touch = AsUser.Run(WithRange, ["touch", Path.Combine(WithRange.Home, marker)]);
        Assert.True(touch.ExitCode == 0, touch.ToString());
        try
        {
            RunResult r = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", E2EEnvironment.BusyboxImage, "sh", "-c", $"cd && ls {marker} && stat -c %u {marker}");

            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal($"{marker}\n0\n", r.Stdout);
        }
        finally
        {
            AsUser.Run(WithRange, ["rm", "-f", Path.Combine(WithRange.Home, marker)]);
        }
    }

    [Fact]
    public void RootCanChownToOtherIdsAndBack()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string file = scratch.Write("owned", "x");
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", E2EEnvironment.BusyboxImage, "sh", "-c",
            $"chown 1:1 {file} && stat -c %u:%g {file} && chown 0:0 {file} && stat -c %u:%g {file}");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("1:1\n0:0\n", r.Stdout);
    }

    [Fact]
    public void RootWritesRootOwnedPathsInAWritableSandbox()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string sandbox = scratch.WritableBusybox();
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", "--writable", sandbox, "sh", "-c",
            "stat -c %u /etc && echo made > /etc/by-root && chown 2:2 /etc/by-root && stat -c %u:%g /etc/by-root");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0\n2:2\n", r.Stdout);
        // On the host the file belongs to the second id of the range.
        uint second = uint.Parse(SubUidStart(WithRange)) + 1;
        Assert.Equal("made\n", File.ReadAllText(Path.Combine(sandbox, "etc", "by-root")));
        Assert.Equal(second.ToString(System.Globalization.CultureInfo.InvariantCulture), Stat(Path.Combine(sandbox, "etc", "by-root")));
    }

    [Fact]
    public void RootMountsATmpfsWithCapabilitiesInsideTheNamespaceOnly()
    {
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", E2EEnvironment.BusyboxImage, "sh", "-c",
            "mount -t tmpfs none /mnt && grep ' /mnt ' /proc/self/mounts && grep -E '^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs)' /proc/self/status");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("none /mnt tmpfs", r.Stdout);
        Assert.Matches(@"CapEff:\s+000001ffffffffff", r.Stdout);
        Assert.Matches(@"CapInh:\s+0000000000000000", r.Stdout);
        Assert.Matches(@"CapAmb:\s+0000000000000000", r.Stdout);
        Assert.Matches(@"NoNewPrivs:\s+1", r.Stdout);
    }

    [Fact]
    public void ImageOwnersStayDistinct()
    {
        // An image laid out for fakeroot's map (container 0 = you, 5 = range start + 4): owners show as in the image.
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string image = scratch.BusyboxOwnedAs(WithRange.Uid, uint.Parse(SubUidStart(WithRange)) + 4);

        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", image, "stat", "-c", "%u:%g", "/bin/busybox", "/owned-by-5");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0:0\n5:5\n", r.Stdout);

        // The same image in the default mode: only you are mapped, so both owners collapse.
        RunResult plain = Sandboxes.Burrow(WithRange, "exec", image, "stat", "-c", "%u:%g", "/owned-by-5");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal("65534:65534\n", plain.Stdout);
    }

    [Fact]
    public void RunAndShellAreRootToo()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string sandbox = scratch.WritableBusybox();

        RunResult run = Sandboxes.Burrow(WithRange, "run", "--fakeroot", sandbox);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("uid=0(root) gid=0(root)", run.Stdout);

        RunResult shell = AsUser.Run(WithRange, [E2EEnvironment.Burrow, "shell", "--fakeroot", E2EEnvironment.BusyboxImage], stdin: "id -u; echo $HOME; exit\n");
        Assert.True(shell.ExitCode == 0, shell.ToString());
        Assert.Contains("0\n/root\n", shell.Stdout);
    }

    [Fact]
    public void WithoutARangeOnlyRootIsMappedAndAWarningSaysWhy()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithoutRange);
        string file = scratch.Write("owned", "x");
        RunResult r = Sandboxes.Burrow(WithoutRange, "exec", "--fakeroot", E2EEnvironment.BusyboxImage, "sh", "-c",
            $"id; cat /proc/self/uid_map; chown 1 {file} 2>/dev/null || echo chown-failed");

        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.TrimEnd().Split('\n');
        Assert.StartsWith("uid=0(root) gid=0(root)", lines[0]);
        Assert.Matches($@"^\s*0\s+{WithoutRange.Uid}\s+1$", lines[1]);
        Assert.Equal("chown-failed", lines[2]);
        Assert.Contains("WARNING:", r.Stderr);
        Assert.Contains("only root is mapped", r.Stderr);
        Assert.Contains("chown to any other id fails", r.Stderr);
    }

    private static string Stat(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string s = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return s;
    }
}
