using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>burrow run (runscript, else shell) and burrow shell through a pseudo-terminal.</summary>
public sealed class RunAndShellTests : IClassFixture<ActionImage>
{
    private readonly ActionImage _image;

    public RunAndShellTests(ActionImage image)
    {
        _image = image;
    }

    private static TestUser User => E2EEnvironment.UserWithRange;

    /// <summary>Runs burrow under script(1) so that it has a real terminal, feeding <paramref name="input"/> to it.</summary>
    private static RunResult InTerminal(string input, params string[] burrowArgs)
    {
        string command = string.Join(' ', new[] { E2EEnvironment.Burrow }.Concat(burrowArgs).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        return AsUser.Run(User, ["script", "-qec", command, "/dev/null"], stdin: input, env: new Dictionary<string, string> { ["TERM"] = "dumb" });
    }

    [Fact]
    public void RunExecutesTheRunscriptWithArguments()
    {
        RunResult r = AsUser.Burrow(User, "run", _image.Root, "one", "--two");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("runscript args: one --two\n", r.Stdout);
    }

    [Fact]
    public void RunWithoutRunscriptRunsTheShell()
    {
        RunResult r = AsUser.Burrow(User, "run", E2EEnvironment.BusyboxImage, "-c", "echo from $0");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("from /bin/sh\n", r.Stdout);
    }

    [Fact]
    public void ShellInTheSudoImageIsBashWithTheBurrowPromptAndTheWalkthroughHolds()
    {
        RunResult r = InTerminal("echo shell=$SHELL\ntail -n 1 /etc/passwd\nsudo whoami\nexit\n", "shell", E2EEnvironment.DebianImage);
        Assert.False(r.TimedOut, r.ToString());
        Assert.Contains("Burrow> ", r.Stdout);
        Assert.Contains("shell=/bin/bash", r.Stdout);
        Assert.Contains($"{User.Name}:x:{User.Uid}:{User.Gid}::{User.Home}:", r.Stdout);
        Assert.Contains("\"no new privileges\" flag is set", r.Stdout);
    }

    [Fact]
    public void ShellFallsBackToShAndHonoursShellOption()
    {
        RunResult r = InTerminal("echo shell=$SHELL\nexit\n", "shell", E2EEnvironment.BusyboxImage);
        Assert.Contains("Burrow> ", r.Stdout);
        Assert.Contains("shell=/bin/sh", r.Stdout);
        r = InTerminal("echo shell=$SHELL\nexit\n", "shell", "--shell", "/bin/ash", E2EEnvironment.BusyboxImage);
        Assert.Contains("shell=/bin/ash", r.Stdout);
    }

    [Fact]
    public void ShellKeepsTheTerminalAndJobControl()
    {
        // The payload is interactive: it keeps the caller's session, so bash controls jobs on the terminal.
        RunResult r = InTerminal("sleep 300 &\njobs\nkill %1; wait; echo jobs-$((6*7)); tty\nexit\n", "shell", E2EEnvironment.DebianImage);
        Assert.False(r.TimedOut, r.ToString());
        Assert.Matches(@"\[1\]\+ +Running +sleep 300 &", r.Stdout);
        Assert.Contains("jobs-42", r.Stdout);
        Assert.Matches(@"/dev/pts/\d+", r.Stdout);
    }

    [Fact]
    public void ShellExitStatusIsTheShells()
    {
        RunResult r = InTerminal("exit 7\n", "shell", E2EEnvironment.BusyboxImage);
        Assert.Equal(7, r.ExitCode);
    }
}
