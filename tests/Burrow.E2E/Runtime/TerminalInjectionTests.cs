using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>
/// A payload must not push keystrokes into the caller's terminal (TIOCSTI, bubblewrap's CVE-2017-5226), with or
/// without --contain: the shell that started burrow would run them after it exits. This machine has
/// dev.tty.legacy_tiocsti=1, where the kernel still allows TIOCSTI on one's controlling terminal.
/// </summary>
public class TerminalInjectionTests
{
    private static string Burrow => E2EEnvironment.Burrow;

    private static string Debian => E2EEnvironment.DebianImage;

    /// <summary>perl (in the Debian image) queues TEXT on the terminal of FILEHANDLE, one character at a time.</summary>
    private static string Inject(string fileHandle, string text) =>
        $"perl -e {PseudoTerminal.Quote($"ioctl({fileHandle}, 0x5412, $_) or die \"TIOCSTI: $!\\n\" for split //, \"{text}\\n\"")}";

    /// <summary>After burrow: whatever was queued on the terminal is what the next read gets.</summary>
    private const string ReadBack = "; echo \"burrow exit $?\"; read -t 2 line; echo \"READ[$line]\"";

    public static IEnumerable<object[]> Modes() =>
    [
        [E2EEnvironment.UserWithRange, new string[0]],
        [E2EEnvironment.UserWithoutRange, new string[0]],
        [E2EEnvironment.UserWithRange, new[] { "--contain" }],
        [E2EEnvironment.UserWithoutRange, new[] { "--containall" }],
        [E2EEnvironment.UserWithRange, new[] { "--fakeroot" }],
        [E2EEnvironment.UserWithRange, new[] { "--fakeroot", "--add-caps", "all" }],
        [E2EEnvironment.UserWithRange, new[] { "--userns=keep-id" }],
        [E2EEnvironment.UserWithoutRange, new[] { "--security", "uid:3210,gid:3210" }],
    ];

    [Theory]
    [MemberData(nameof(Modes))]
    public void AnInteractivePayloadCannotTypeIntoTheCallersTerminal(TestUser user, string[] mode)
    {
        string marker = "injected" + Guid.NewGuid().ToString("N")[..8];
        string burrow = string.Join(' ', new[] { Burrow, "exec" }.Concat(mode).Append(Debian).Select(PseudoTerminal.Quote));
        RunResult r = PseudoTerminal.Run(user, $"{burrow} {Inject("STDIN", "echo " + marker)}{ReadBack}");
        Assert.False(r.TimedOut, r.ToString());
        Assert.Contains("TIOCSTI: Operation not permitted", r.Stdout);
        Assert.Contains("READ[]", r.Stdout);
        Assert.DoesNotContain("READ[echo " + marker, r.Stdout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--contain")]
    public void ABatchPayloadHasNoControllingTerminalToReachThroughDevTty(string options)
    {
        string[] mode = options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // stdin, stdout and stderr are not terminals, but burrow runs on one: /dev/tty would be it.
        TestUser user = E2EEnvironment.UserWithoutRange;
        string marker = "injected" + Guid.NewGuid().ToString("N")[..8];
        string log = $"/tmp/burrow-tiocsti-{marker}";
        string payload = $"perl -e {PseudoTerminal.Quote($"open(T, \"+<\", \"/dev/tty\") or die \"tty: $!\\n\"; ioctl(T, 0x5412, $_) or die \"TIOCSTI: $!\\n\" for split //, \"echo {marker}\\n\"")}";
        string burrow = string.Join(' ', new[] { Burrow, "exec" }.Concat(mode).Append(Debian).Select(PseudoTerminal.Quote));
        RunResult r = PseudoTerminal.Run(user, $"{burrow} {payload} </dev/null >{log} 2>&1{ReadBack}; cat {log}; rm -f {log}");
        Assert.False(r.TimedOut, r.ToString());
        Assert.Contains("tty: No such device or address", r.Stdout);
        Assert.Contains("READ[]", r.Stdout);
        Assert.DoesNotContain("READ[echo " + marker, r.Stdout);
    }

    [Fact]
    public void TheFilterComparesOnlyTheLow32BitsOfTheRequestAsTheKernelDoes()
    {
        // ioctl's request is an unsigned int: 0x1_0000_5412 is TIOCSTI to the kernel, and must be to the filter.
        string marker = "Q" + Guid.NewGuid().ToString("N")[..6];
        RunResult r = PseudoTerminal.Run(E2EEnvironment.UserWithRange,
            $"{Burrow} exec {Debian} perl -e {PseudoTerminal.Quote($"for (split //, \"{marker}\\n\") {{ $c = $_; $r = syscall(16, 0, 0x100005412, $c); print \"r=$r $!\\n\" }}")}{ReadBack}");
        Assert.False(r.TimedOut, r.ToString());
        Assert.Contains("r=-1 Operation not permitted", r.Stdout);
        Assert.Contains("READ[]", r.Stdout);
    }
}
