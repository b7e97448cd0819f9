using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>stdin, stdout, stderr and a terminal pass through to the payload untouched.</summary>
public class StdioTests
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    [Fact]
    public void StdinStdoutAndStderrPassThrough()
    {
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxImage, "sh", "-c", "cat; echo to-stderr >&2"],
            stdin: "line one\nline two\n");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("line one\nline two\n", r.Stdout);
        Assert.Equal("to-stderr\n", r.Stderr);
    }

    [Fact]
    public void ATerminalPassesThrough()
    {
        // script(1) gives burrow a pseudo-terminal; the payload must see it as its controlling terminal.
        RunResult r = AsUser.Run(User, ["script", "-qec",
            $"{E2EEnvironment.Burrow} exec {E2EEnvironment.BusyboxImage} sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys; stty size >/dev/null && echo stty-ok'",
            "/dev/null"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"/dev/pts/\d+", r.Stdout);
        Assert.Contains("both-ttys", r.Stdout);
        Assert.Contains("stty-ok", r.Stdout);
    }
}
