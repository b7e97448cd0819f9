using Burrow.E2E.Harness;

namespace Burrow.E2E;

public class SmokeTests
{
    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void VersionRunsAsUnprivilegedUser(TestUser user)
    {
        RunResult r = AsUser.Burrow(user, "version");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Stdout);
    }
}
