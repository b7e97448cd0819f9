using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>--security uid:N,gid:N, Podman's --userns=keep-id and auto, and the default mode for contrast.</summary>
public class SecurityAndUserNsTests
{
    private static TestUser WithRange => E2EEnvironment.UserWithRange;

    private static string SubUidStart(TestUser user) =>
        File.ReadLines("/etc/subuid").First(l => l.StartsWith(user.Name + ":", StringComparison.Ordinal)).Split(':')[1];

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void SecurityRunsAsTheGivenIdsWithoutPrivilege(TestUser user)
    {
        RunResult r = Sandboxes.Burrow(user, "exec", "--security", "uid:3210,gid:3210", E2EEnvironment.BusyboxImage, "id");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("uid=3210 gid=3210 groups=3210\n", r.Stdout);

        RunResult caps = Sandboxes.Burrow(user, "exec", "--security", "uid:3210", "--security", "gid:3210", E2EEnvironment.BusyboxImage,
            "grep", "-E", "^(CapEff|CapPrm|CapBnd|NoNewPrivs)", "/proc/self/status");
        Assert.True(caps.ExitCode == 0, caps.ToString());
        Assert.Matches(@"CapEff:\s+0000000000000000", caps.Stdout);
        Assert.Matches(@"CapPrm:\s+0000000000000000", caps.Stdout);
        Assert.Matches(@"CapBnd:\s+0000000000000000", caps.Stdout);
        Assert.Matches(@"NoNewPrivs:\s+1", caps.Stdout);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("shell")]
    public void SecurityAppliesToRunAndShell(string command)
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string sandbox = scratch.WritableBusybox();
        RunResult r = AsUser.Run(WithRange, [E2EEnvironment.Burrow, command, "--security", "uid:3210,gid:3210", sandbox], stdin: "id\nexit\n");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("uid=3210 gid=3210 groups=3210", r.Stdout);
    }

    [Fact]
    public void SecuritySupplementaryGroupsComeFromTheSubgidRange()
    {
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--security", "uid:3210,gid:3210:4000:4001", E2EEnvironment.BusyboxImage, "id");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("uid=3210 gid=3210 groups=3210,4000,4001\n", r.Stdout);
    }

    [Fact]
    public void KeepIdKeepsYouAndTheImagesOwners()
    {
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--userns=keep-id", E2EEnvironment.DebianImage, "sh", "-c",
            "id; cat /proc/self/uid_map; grep '^" + WithRange.Name + ":' /etc/passwd /etc/group; echo HOME=$HOME");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith($"uid={WithRange.Uid}({WithRange.Name}) gid={WithRange.Gid}({WithRange.Name})", r.Stdout);
        // Podman's formula: 0..U-1 -> S, U -> U, U+1.. -> S+U.
        uint s = uint.Parse(SubUidStart(WithRange));
        Assert.Matches($@"\s0\s+{s}\s+{WithRange.Uid}\n", r.Stdout);
        Assert.Matches($@"\s{WithRange.Uid}\s+{WithRange.Uid}\s+1\n", r.Stdout);
        Assert.Matches($@"\s{WithRange.Uid + 1}\s+{s + WithRange.Uid}\s+{65536 - WithRange.Uid}\n", r.Stdout);
        // Podman's entries: name:*:uid:gid:gecos:home:/bin/sh and name:x:gid:name.
        Assert.Matches($@"/etc/passwd:{WithRange.Name}:\*:{WithRange.Uid}:{WithRange.Gid}:[^:]*:{WithRange.Home}:/bin/sh\n", r.Stdout);
        Assert.Contains($"/etc/group:{WithRange.Name}:x:{WithRange.Gid}:{WithRange.Name}\n", r.Stdout);
        Assert.Contains("HOME=" + WithRange.Home, r.Stdout);
    }

    [Fact]
    public void KeepIdKeepsOtherOwnersDistinct()
    {
        // An image laid out for keep-id's map (container 0..U-1 = range start..): owners show as in the image.
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        uint s = uint.Parse(SubUidStart(WithRange));
        string image = scratch.BusyboxOwnedAs(s, s + 5);

        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--userns=keep-id", image, "stat", "-c", "%u:%g", "/bin/busybox", "/owned-by-5");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0:0\n5:5\n", r.Stdout);

        RunResult plain = Sandboxes.Burrow(WithRange, "exec", image, "stat", "-c", "%u:%g", "/bin/busybox", "/owned-by-5");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal("65534:65534\n65534:65534\n", plain.Stdout);
    }

    [Fact]
    public void KeepIdCanTakeOtherIds()
    {
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--userns=keep-id:uid=2000,gid=2000", E2EEnvironment.DebianImage, "sh", "-c",
            "id; grep -c '^" + WithRange.Name + ":' /etc/passwd");

        // uid=/gid= given: Podman adds no passwd/group entries, so the ids have no names.
        Assert.Equal("uid=2000 gid=2000 groups=2000\n0\n", r.Stdout);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("shell")]
    public void KeepIdAppliesToRunAndShell(string command)
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string sandbox = scratch.WritableBusybox();
        RunResult r = AsUser.Run(WithRange, [E2EEnvironment.Burrow, command, "--userns=keep-id", sandbox], stdin: "id\nexit\n");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"uid={WithRange.Uid}({WithRange.Name})", r.Stdout);
    }

    [Fact]
    public void AutoIsRootWithTheRange()
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string image = scratch.BusyboxOwnedAs(WithRange.Uid, uint.Parse(SubUidStart(WithRange)) + 4);
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--userns=auto", image, "sh", "-c",
            "id -u; stat -c '%u' /bin/busybox /owned-by-5; cat /proc/self/uid_map");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("0\n0\n5\n", r.Stdout);
        Assert.Matches($@"\s1\s+{SubUidStart(WithRange)}\s+65536\n", r.Stdout);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("shell")]
    public void AutoAppliesToRunAndShell(string command)
    {
        using Sandboxes.Scratch scratch = Sandboxes.NewScratch(WithRange);
        string sandbox = scratch.WritableBusybox();
        // run executes the sandbox's runscript (id); shell reads the commands from stdin.
        RunResult r = AsUser.Run(WithRange, [E2EEnvironment.Burrow, command, "--userns=auto:size=1024", sandbox], stdin: "id\ncat /proc/self/uid_map\nexit\n");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("uid=0(root) gid=0(root)", r.Stdout);
        if (command == "shell")
        {
            Assert.Matches($@"\s1\s+{SubUidStart(WithRange)}\s+1023\n", r.Stdout);
        }
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void TheDefaultModeShowsOtherOwnersAsNobody(TestUser user)
    {
        RunResult r = Sandboxes.Burrow(user, "exec", E2EEnvironment.DebianImage, "sh", "-c", "stat -c %u /etc/sudo.conf; sudo true");

        Assert.NotEqual(0, r.ExitCode);
        Assert.StartsWith("65534\n", r.Stdout);
        Assert.Contains("sudo: /etc/sudo.conf is owned by uid 65534, should be 0", r.Stderr);
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void TheReadmeWalkthroughsIdentitiesSideBySide(TestUser user)
    {
        string me = $"uid={user.Uid}({user.Name}) gid={user.Gid}({user.Name})";
        Assert.StartsWith(me, Sandboxes.Burrow(user, "exec", E2EEnvironment.BusyboxImage, "id").Stdout);
        Assert.StartsWith("uid=0(root) gid=0(root)", Sandboxes.Burrow(user, "exec", "--fakeroot", E2EEnvironment.BusyboxImage, "id").Stdout);
        Assert.Equal("uid=3210 gid=3210 groups=3210\n", Sandboxes.Burrow(user, "exec", "--security", "uid:3210,gid:3210", E2EEnvironment.BusyboxImage, "id").Stdout);
        RunResult keep = Sandboxes.Burrow(user, "exec", "--userns=keep-id", E2EEnvironment.BusyboxImage, "id");
        Assert.True(keep.ExitCode == 0, keep.ToString());
        Assert.StartsWith(me, keep.Stdout);
        Assert.Equal(!user.HasSubordinateRange, keep.Stderr.Contains("WARNING:", StringComparison.Ordinal));
    }
}
