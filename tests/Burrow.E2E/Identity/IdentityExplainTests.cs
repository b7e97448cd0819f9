using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>What the identity options show and refuse before anything runs: --explain, and capabilities for a non-root payload.</summary>
public class IdentityExplainTests
{
    private static string SubUidStart(TestUser user) =>
        File.ReadLines("/etc/subuid").First(l => l.StartsWith(user.Name + ":", StringComparison.Ordinal)).Split(':')[1];

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void ExplainShowsTheMapsAndWhy(TestUser user)
    {
        RunResult r = Sandboxes.Burrow(user, "exec", "--explain", "--fakeroot", E2EEnvironment.BusyboxImage, "id");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"container 0 = host {user.Uid}, count 1", r.Stdout);
        if (user.HasSubordinateRange)
        {
            Assert.Contains($"container 1 = host {SubUidStart(user)}, count 65536", r.Stdout);
            Assert.Contains("a range of exactly 65536 first", r.Stdout);
        }
        else
        {
            Assert.Contains("only root is mapped", r.Stdout);
        }
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void CapabilitiesForANonRootPayloadAreRefused(TestUser user)
    {
        string token = "caps-refused-" + Guid.NewGuid().ToString("N");
        RunResult r = Sandboxes.Burrow(user, "exec", "--add-caps", "NET_ADMIN", E2EEnvironment.BusyboxImage, "echo", token);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("the payload is not root in its user namespace", r.Stderr);
        Assert.DoesNotContain(token, r.Stdout);
        Sandboxes.AssertNothingLeftRunning(token);
    }

    [Fact]
    public void ExplainShowsKeepIdAndAuto()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        uint s = uint.Parse(SubUidStart(user));

        RunResult keep = Sandboxes.Burrow(user, "exec", "--explain", "--userns=keep-id", E2EEnvironment.BusyboxImage, "id");
        Assert.True(keep.ExitCode == 0, keep.ToString());
        Assert.Contains($"container 0 = host {s}, count {user.Uid}", keep.Stdout);
        Assert.Contains($"container {user.Uid} = host {user.Uid}, count 1", keep.Stdout);
        Assert.Contains($"container {user.Uid + 1} = host {s + user.Uid}, count {65536 - user.Uid}", keep.Stdout);
        Assert.Contains("Podman's formula", keep.Stdout);

        RunResult auto = Sandboxes.Burrow(user, "exec", "--explain", "--userns=auto:size=100", E2EEnvironment.BusyboxImage, "id");
        Assert.True(auto.ExitCode == 0, auto.ToString());
        Assert.Contains($"container 1 = host {s}, count 99", auto.Stdout);
        Assert.Contains("size=100", auto.Stdout);
    }
}
