using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>
/// The README's promise: if burrow is killed, even with SIGKILL, every process of the container dies, orphans
/// included; and when the payload exits, nothing it started outlives burrow. The payload, the same user in the
/// host's PID namespace without --pid, finds the starter's monitor as its parent and tries to stop it first.
/// </summary>
public class MonitorTests
{
    private static readonly Random s_random = new();

    public static IEnumerable<object[]> Modes() =>
    [
        [E2EEnvironment.UserWithRange, new string[0]],
        [E2EEnvironment.UserWithoutRange, new string[0]],
        [E2EEnvironment.UserWithRange, new[] { "--fakeroot" }],
        [E2EEnvironment.UserWithRange, new[] { "--fakeroot", "--add-caps", "all" }],
        [E2EEnvironment.UserWithRange, new[] { "--fakeroot", "--no-privs" }],
        [E2EEnvironment.UserWithRange, new[] { "--userns=keep-id" }],
        [E2EEnvironment.UserWithoutRange, new[] { "--security", "uid:3210,gid:3210" }],
        [E2EEnvironment.UserWithoutRange, new[] { "--contain" }],
        [E2EEnvironment.UserWithRange, new[] { "--pid" }],
        [E2EEnvironment.UserWithRange, new[] { "--pid", "--no-init" }],
        [E2EEnvironment.UserWithoutRange, new[] { "--containall" }],
    ];

    [Theory]
    [MemberData(nameof(Modes))]
    public void APayloadCannotStopTheMonitorAndSigkillOfBurrowLeavesNothing(TestUser user, string[] mode)
    {
        bool pidNamespace = mode.Contains("--pid") || mode.Contains("--containall");
        string[] marks = Marks(3);
        // Without a PID namespace $PPID is the monitor; in one, it is the init (1) or nothing (0).
        string script = (pidNamespace ? "" : "kill -STOP $PPID && echo stop-worked || echo stop-refused; "
                + "kill -STOP -$PPID && echo group-stop-worked || echo group-stop-refused; kill -STOP -1 && echo all-stop-worked; ")
            + $"setsid sleep {marks[0]} & sleep {marks[1]} & echo ready; sleep {marks[2]}";
        using BackgroundBurrow burrow = BackgroundBurrow.Start(user, ["exec", .. mode, E2EEnvironment.BusyboxImage, "sh", "-c", script]);
        try
        {
            burrow.WaitForOutput("ready");
            Assert.All(marks, m => Assert.True(WaitUntilRunning("sleep " + m), "the payload's processes run\n" + burrow.Stderr));
            if (!pidNamespace)
            {
                Assert.Contains("stop-refused", burrow.Stdout);
                Assert.Contains("group-stop-refused", burrow.Stdout);
                Assert.DoesNotContain("worked", burrow.Stdout);
            }
            burrow.Signal(9);
            burrow.WaitForExit();
            foreach (string m in marks)
            {
                Assert.True(HostProcesses.WaitUntilGone("sleep " + m, TimeSpan.FromSeconds(10)), $"sleep {m} outlived burrow's SIGKILL\n{burrow.Stdout}");
            }
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (MonitorsOf(burrow.Pid).Count > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(20);
            }
            Assert.Empty(MonitorsOf(burrow.Pid));
        }
        finally
        {
            KillLeftovers(marks);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void WhenThePayloadExitsNothingItStartedIsLeft(TestUser user, string[] mode)
    {
        string[] marks = Marks(2);
        try
        {
            RunResult r = AsUser.Burrow(user, ["exec", .. mode, E2EEnvironment.BusyboxImage, "sh", "-c",
                $"setsid sleep {marks[0]} & sleep {marks[1]} & exit 5"]);
            Assert.True(r.ExitCode == 5, r.ToString());
            // The monitor kills them before it reports the status: gone by the time burrow exits.
            Assert.All(marks, m => Assert.Empty(HostProcesses.Matching("sleep " + m)));
        }
        finally
        {
            KillLeftovers(marks);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("--fakeroot --add-caps all")]
    public void TheIndirectWaysToSignalTheMonitorAreClosedAndTheDirectOnesStillWorkOnTheContainer(string options)
    {
        string[] mode = options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        const string script = """
            my $m = getppid();
            sub say { my ($what, $r) = @_; print "$what: ", ($r ? "ok" : "$!"), "\n" }
            pipe(R, W);
            say("F_SETOWN monitor", fcntl(W, 8, $m));
            say("F_SETOWN monitor group", fcntl(W, 8, -$m));
            say("F_SETOWN self", fcntl(W, 8, 0 + $$));
            say("kill monitor high bits", syscall(62, (1 << 32) | $m, 19) == 0);
            say("tgkill monitor", syscall(234, $m, $m, 19) == 0);
            say("tkill monitor", syscall(200, $m, 19) == 0);
            my $fd = syscall(434, $m, 0);
            say("pidfd_send_signal monitor", $fd >= 0 && syscall(424, $fd, 19, 0, 0) == 0);
            my $lim = pack("QQ", 0, 0);
            say("prlimit monitor", syscall(302, $m, 7, $lim, 0) == 0);
            my $child = fork(); if ($child == 0) { sleep 100; exit 0 }
            say("kill own child", kill("TERM", $child));
            waitpid($child, 0);
            open(P, "<", "/proc/$m/status"); while (<P>) { print "monitor $_" if /^State/ }
            """;
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithRange, ["exec", .. mode, E2EEnvironment.DebianImage, "perl", "-e", script]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("F_SETOWN monitor: Operation not permitted", r.Stdout);
        Assert.Contains("F_SETOWN monitor group: Operation not permitted", r.Stdout);
        Assert.Contains("F_SETOWN self: ok", r.Stdout);
        Assert.Contains("kill monitor high bits: Operation not permitted", r.Stdout);
        Assert.Contains("tgkill monitor: Operation not permitted", r.Stdout);
        Assert.Contains("tkill monitor: Operation not permitted", r.Stdout);
        Assert.Contains("pidfd_send_signal monitor: Function not implemented", r.Stdout);
        Assert.Contains("prlimit monitor: Operation not permitted", r.Stdout);
        Assert.Contains("kill own child: ok", r.Stdout);
        Assert.Matches(@"monitor State:\s+S \(sleeping\)", r.Stdout);
    }

    [Fact]
    public void TheMonitorIsAloneInItsSessionAndGroup()
    {
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithoutRange, "exec", E2EEnvironment.BusyboxImage, "sh", "-c",
            "set -- $(cut -d' ' -f5,6 /proc/$PPID/stat); echo \"pgrp=$1 sid=$2 monitor=$PPID\"");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] f = r.Stdout.Trim().Split(' ').Select(x => x.Split('=')[1]).ToArray();
        Assert.Equal(f[2], f[0]);
        Assert.Equal(f[2], f[1]);
    }

    /// <summary>Distinct 7-digit sleep durations: no mark is a prefix of another in a command line.</summary>
    private static string[] Marks(int count)
    {
        int first;
        lock (s_random)
        {
            first = s_random.Next(1_000_000, 9_000_000);
        }
        return Enumerable.Range(first, count).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>Live starters of an engine: argv is burrow-starter SYNC_FD ENGINE_PID … (a zombie has no command line).</summary>
    private static IReadOnlyList<int> MonitorsOf(int engine) =>
        HostProcesses.Matching("burrow-starter").Where(pid =>
        {
            try
            {
                string[] argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
                return argv.Length > 2 && argv[0].EndsWith("/burrow-starter", StringComparison.Ordinal) && argv[2] == engine.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return false;
            }
        }).ToArray();

    private static bool WaitUntilRunning(string text)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (HostProcesses.Matching(text).Count == 0)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10))
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    private static void KillLeftovers(string[] marks)
    {
        foreach (int pid in marks.SelectMany(m => HostProcesses.Matching("sleep " + m)))
        {
            try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
    }
}
