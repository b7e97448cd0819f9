using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>--add-caps, --drop-caps and --no-privs: inside the user namespace for the root modes, refused otherwise.</summary>
public class CapabilityTests
{
    private static TestUser WithRange => E2EEnvironment.UserWithRange;

    private static string Status(RunResult r, string field) =>
        r.Stdout.Split('\n').First(l => l.StartsWith(field + ":", StringComparison.Ordinal)).Split(':')[1].Trim();

    [Fact]
    public void DropCapsRemovesThemAndTheirPowers()
    {
        RunResult r = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", "--drop-caps", "CAP_SYS_ADMIN,net_raw", E2EEnvironment.BusyboxImage, "sh", "-c",
            "grep -E '^(CapEff|CapBnd)' /proc/self/status; mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo refused");

        Assert.True(r.ExitCode == 0, r.ToString());
        ulong expected = ((1UL << 41) - 1) & ~(1UL << 21) & ~(1UL << 13);
        Assert.Equal(expected.ToString("x16"), Status(r, "CapEff"));
        Assert.Equal(expected.ToString("x16"), Status(r, "CapBnd"));
        Assert.EndsWith("refused\n", r.Stdout);
    }

    [Fact]
    public void NoPrivsDropsAllAndAddCapsAddsBack()
    {
        RunResult none = Sandboxes.Burrow(WithRange, "exec", "--fakeroot", "--no-privs", E2EEnvironment.BusyboxImage, "grep", "-E", "^(CapEff|CapBnd)", "/proc/self/status");
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal("0000000000000000", Status(none, "CapEff"));
        Assert.Equal("0000000000000000", Status(none, "CapBnd"));

        RunResult some = Sandboxes.Burrow(WithRange, "exec", "--userns=auto", "--no-privs", "--add-caps", "chown,CAP_FOWNER", E2EEnvironment.BusyboxImage, "grep", "^CapEff", "/proc/self/status");
        Assert.True(some.ExitCode == 0, some.ToString());
        Assert.Equal(((1UL << 0) | (1UL << 3)).ToString("x16"), Status(some, "CapEff"));
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void DroppingInTheDefaultModeLeavesNothing(TestUser user)
    {
        RunResult r = Sandboxes.Burrow(user, "exec", "--drop-caps", "CAP_NET_RAW", E2EEnvironment.BusyboxImage, "grep", "^CapEff", "/proc/self/status");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0000000000000000", Status(r, "CapEff"));
    }
}
