using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>
/// Keys typed at the caller's terminal reach an interactive payload once: the terminal signals its foreground
/// process group, which the payload shares with burrow, so burrow must not relay its own copy too.
/// </summary>
public class TerminalSignalTests
{
    /// <summary>Starts the command line on a new terminal, types Ctrl-C once the payload said "ready", returns the output.</summary>
    private const string Driver = """
        import os, pty, select, sys, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(sys.argv[1], sys.argv[1:])
        out = b''
        sent = False
        end = time.time() + 60
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b''
                if not data:
                    break
                out += data
            if not sent and b'ready' in out:
                time.sleep(0.3)
                os.write(fd, b'\x03')
                sent = True
        sys.stdout.write(out.decode(errors='replace').replace('\r\n', '\n'))
        """;

    [Theory]
    [InlineData("")]
    [InlineData("--pid")]
    public void CtrlCReachesAnInteractivePayloadOnce(string options)
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        // The payload counts the SIGINTs it gets in two seconds; a relayed copy would make it two.
        const string payload = "n=0; trap 'n=$((n+1))' INT; echo ready; i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; echo count=$n";
        string[] argv = [E2EEnvironment.Burrow, "exec", .. options.Split(' ', StringSplitOptions.RemoveEmptyEntries), E2EEnvironment.BusyboxImage, "sh", "-c", payload];
        RunResult r = AsUser.Run(user, ["python3", "-c", Driver, .. argv], env: new Dictionary<string, string> { ["TERM"] = "dumb" }, timeout: TimeSpan.FromSeconds(90));
        Assert.False(r.TimedOut, r.ToString());
        Assert.Contains("count=1\n", r.Stdout);
    }
}
