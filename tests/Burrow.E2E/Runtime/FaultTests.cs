using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>Faults the runtime must turn into a clear ERROR: line, a non-zero exit and nothing left behind.</summary>
public class FaultTests
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    [Fact]
    public void UserNamespacesUnavailableIsAClearError()
    {
        // user.max_user_namespaces is per user namespace and writable by its owner: inside a namespace
        // where it is 0, creating another one fails exactly as on a machine where they are disabled.
        RunResult r = AsUser.Run(User, ["unshare", "--user", "--map-root-user", "sh", "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" exec \"$1\" true", E2EEnvironment.Burrow, E2EEnvironment.BusyboxImage]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ERROR:   cannot create a user namespace", r.Stderr);
        Assert.Contains("user namespaces are disabled or exhausted", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void PowerlessNewuidmapIsAClearError()
    {
        // Under no_new_privs the setuid helper cannot gain anything; burrow must say so, not "Permission denied".
        TestUser user = E2EEnvironment.UserWithRange;
        RunResult r = AsUser.Run(user, ["setpriv", "--no-new-privs", "--", E2EEnvironment.Burrow, "exec", "--fakeroot", E2EEnvironment.BusyboxImage, "true"]);
        Assert.NotEqual(0, r.ExitCode);
        // The identity resolver checks first; the launcher's own check backs it up for plans from elsewhere.
        Assert.Matches(@"ERROR:   .*new[ug]idmap.*no_new_privs", r.Stderr);
        Assert.DoesNotContain("Permission denied", r.Stderr);
    }

    [Fact]
    public void UnwritableSessionPlaceFallsBackToAPrivateTmpDirectory()
    {
        string tmp = "/tmp/burrow-session-fallback-" + Random.Shared.Next(100000, 999999);
        RunResult r = AsUser.Run(User, ["sh", "-c", $"mkdir -m 0755 {tmp} && {E2EEnvironment.Burrow} exec {E2EEnvironment.BusyboxImage} true && stat -c '%a %u' {tmp}/burrow-{User.Uid}; rm -rf {tmp}"],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = "/proc/burrow-cannot-be-here", ["TMPDIR"] = tmp });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"700 {User.Uid}", r.Stdout.Trim());
    }

    [Fact]
    public void UnwritableSessionPlacesAreAClearError()
    {
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxImage, "true"],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = "/proc/burrow-cannot-be-here", ["TMPDIR"] = "/proc/nor-here" });
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("/proc/burrow-cannot-be-here", r.Stderr);
        Assert.Contains("/proc/nor-here", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void CommandNotFoundExits127WithAMessage()
    {
        RunResult r = AsUser.Burrow(User, "exec", E2EEnvironment.BusyboxImage, "no-such-command-here", "x");
        Assert.Equal(127, r.ExitCode);
        Assert.Contains("ERROR:   no-such-command-here: command not found in the container", r.Stderr);
    }

    [Fact]
    public void CommandNotExecutableExits126WithAMessage()
    {
        RunResult r = AsUser.Burrow(User, "exec", E2EEnvironment.BusyboxImage, "/etc/passwd");
        Assert.Equal(126, r.ExitCode);
        Assert.Contains("ERROR:   /etc/passwd: cannot execute in the container", r.Stderr);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SigkillOfBurrowLeavesNoStrayProcess(bool pidNamespace)
    {
        // Unusual sleep lengths mark this run's processes; the background one is an orphan-to-be.
        string a = Random.Shared.Next(100000, 999999).ToString(), b = Random.Shared.Next(100000, 999999).ToString();
        string[] pid = pidNamespace ? ["--pid"] : [];
        using BackgroundBurrow burrow = BackgroundBurrow.Start(User, ["exec", .. pid, E2EEnvironment.BusyboxImage, "sh", "-c",
            $"sleep {a} & (sleep {b}; true) & echo started; wait"]);
        burrow.WaitForOutput("started");
        Assert.True(SpinUntil(() => HostProcesses.Matching("sleep " + a).Count > 0 && HostProcesses.Matching("sleep " + b).Count > 0), "sleeps never started");
        burrow.Signal(9);
        burrow.WaitForExit();
        Assert.True(HostProcesses.WaitUntilGone("sleep " + a, TimeSpan.FromSeconds(10)), "stray: sleep " + a);
        Assert.True(HostProcesses.WaitUntilGone("sleep " + b, TimeSpan.FromSeconds(10)), "stray: sleep " + b);
    }

    private static bool SpinUntil(Func<bool> condition)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(20))
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }
}
