using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>burrow exits with the payload's status (128+N for signal N) and relays the signals it gets.</summary>
public class SignalAndExitTests
{
    private static TestUser User => E2EEnvironment.UserWithRange;

    public static IEnumerable<object[]> NamespaceModes() => [[new string[0]], [new[] { "--pid" }], [new[] { "--pid", "--no-init" }]];

    [Theory]
    [MemberData(nameof(NamespaceModes))]
    public void ExitStatusIsThePayloads(string[] mode)
    {
        Assert.Equal(42, AsUser.Burrow(User, ["exec", .. mode, E2EEnvironment.BusyboxImage, "sh", "-c", "exit 42"]).ExitCode);
        Assert.Equal(0, AsUser.Burrow(User, ["exec", .. mode, E2EEnvironment.BusyboxImage, "true"]).ExitCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeathBySignalIs128PlusN(bool pidNamespace)
    {
        // The payload itself dies (exec, so no shell is left to turn the signal into a status).
        // With --no-init the payload is PID 1, which the kernel protects from its own namespace's signals.
        string[] mode = pidNamespace ? ["--pid"] : [];
        Assert.Equal(128 + 15, AsUser.Burrow(User, ["exec", .. mode, E2EEnvironment.BusyboxImage, "sh", "-c", "exec sh -c 'kill -TERM $$'"]).ExitCode);
        Assert.Equal(128 + 9, AsUser.Burrow(User, ["exec", .. mode, E2EEnvironment.BusyboxImage, "sh", "-c", "exec sh -c 'kill -KILL $$'"]).ExitCode);
    }

    [Fact]
    public void PayloadStartsWithNoSignalIgnoredOrBlocked()
    {
        RunResult r = AsUser.Burrow(User, "exec", E2EEnvironment.BusyboxImage, "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", r.Stdout);
    }

    public static IEnumerable<object[]> Signals()
    {
        foreach ((string name, int number) in new[] { ("INT", 2), ("TERM", 15), ("HUP", 1), ("QUIT", 3), ("USR1", 10), ("USR2", 12), ("WINCH", 28) })
        {
            yield return [name, number, new string[0]];
            yield return [name, number, new[] { "--pid" }];
        }
    }

    [Theory]
    [MemberData(nameof(Signals))]
    public void SignalsSentToBurrowReachThePayload(string name, int number, string[] mode)
    {
        using BackgroundBurrow burrow = BackgroundBurrow.Start(User, ["exec", .. mode, E2EEnvironment.BusyboxImage, "sh", "-c",
            $"trap 'echo got-{name}; exit 3' {name}; echo ready; while :; do sleep 0.05; done"]);
        burrow.WaitForOutput("ready");
        burrow.Signal(number);
        int code = burrow.WaitForExit();
        Assert.Contains("got-" + name, burrow.Stdout);
        Assert.True(code == 3, $"exit {code}\n{burrow.Stderr}");
    }
}
