namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// What keeps the payload from acting on the host through its relations to other processes rather than
/// through files: typing into the caller's terminal (TIOCSTI, bubblewrap's CVE-2017-5226), and stopping or
/// crippling the starter's monitor, which must stay able to kill the whole container when burrow dies.
/// Pure: decided from host facts and the namespaces; the stage carries it out (setsid, seccomp).
/// </summary>
public static class PayloadGuards
{
    public const uint TIOCSTI = 0x5412, TIOCLINUX = 0x541c, FIOSETOWN = 0x8901, SIOCSPGRP = 0x8902;
    public const uint F_SETOWN = 8, F_SETOWN_EX = 15;
    public const int EPERM = 1, ENOSYS = 38;

    private static readonly string[] s_stdioNames = ["stdin", "stdout", "stderr"];

    /// <summary>
    /// A new session when none of 0, 1, 2 is a terminal: nothing then needs the caller's terminal, and without a
    /// controlling terminal the payload cannot open /dev/tty or use TIOCSTI on any terminal (the kernel allows it
    /// only on one's controlling terminal). An interactive payload keeps the session: job control needs it.
    /// </summary>
    public static SessionPlan Session(HostFacts host)
    {
        ArgumentNullException.ThrowIfNull(host);
        IReadOnlyList<int> terminals = host.TerminalFds.Where(fd => fd is >= 0 and <= 2).Distinct().Order().ToArray();
        if (terminals.Count == 0)
        {
            return new SessionPlan(true, "none of stdin, stdout and stderr is a terminal: the payload gets a session of its own "
                + "and no controlling terminal, so it can neither open /dev/tty nor type into your terminal");
        }
        string names = string.Join(" and ", terminals.Select(fd => s_stdioNames[fd]));
        return new SessionPlan(false, $"{names} {(terminals.Count == 1 ? "is a terminal" : "are terminals")}: the payload keeps your session "
            + "for job control, and the seccomp filter refuses TIOCSTI and TIOCLINUX");
    }

    /// <summary>
    /// The payload's seccomp filter: the terminal rules always (a second wall behind the new session), and,
    /// without a PID namespace, every way to signal the monitor or change its limits (in a new PID namespace
    /// the monitor is outside it and no pid the payload can write names it).
    /// </summary>
    public static IReadOnlyList<SyscallRule> Filter(NamespacePlan namespaces)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        var rules = new List<SyscallRule>
        {
            Rule("ioctl", EPERM, "would queue keystrokes on a terminal, for your shell to run after burrow exits (TIOCSTI, CVE-2017-5226)", Arg(1, TIOCSTI)),
            Rule("ioctl", EPERM, "would paste into a virtual console (TIOCLINUX, CVE-2023-28100)", Arg(1, TIOCLINUX)),
        };
        if (namespaces.Pid)
        {
            return rules;
        }
        const string signal = "the monitor kills every process of the container if burrow dies; a stopped monitor could not";
        rules.AddRange(
        [
            Rule("kill", EPERM, signal, Monitor(0)),
            Rule("kill", EPERM, signal + " (its process group)", Group(0)),
            Rule("kill", EPERM, "kill(-1) would reach every process of yours, the monitor and burrow included", Arg(0, uint.MaxValue)),
            Rule("tkill", EPERM, signal, Monitor(0)),
            Rule("tgkill", EPERM, signal, Monitor(0)),
            Rule("tgkill", EPERM, signal, Monitor(1)),
            Rule("rt_sigqueueinfo", EPERM, signal, Monitor(0)),
            Rule("rt_tgsigqueueinfo", EPERM, signal, Monitor(0)),
            Rule("rt_tgsigqueueinfo", EPERM, signal, Monitor(1)),
            Rule("pidfd_send_signal", ENOSYS, "a pidfd (from pidfd_open or from opening /proc/PID) can name the monitor where seccomp cannot see it; "
                + "ENOSYS makes callers fall back to kill"),
            Rule("prlimit64", EPERM, "would change the monitor's limits (no descriptors left to find the container's processes, a CPU limit that kills it)", Monitor(0)),
        ]);
        const string owner = "would have the kernel signal the monitor on I/O (with F_SETSIG any signal, SIGSTOP included)";
        foreach (string fcntl in new[] { "fcntl", "fcntl64" })
        {
            rules.Add(Rule(fcntl, EPERM, owner, Arg(1, F_SETOWN), Monitor(2)));
            rules.Add(Rule(fcntl, EPERM, owner + " (its process group)", Arg(1, F_SETOWN), Group(2)));
            rules.Add(Rule(fcntl, EPERM, "F_SETOWN_EX names its target through a pointer seccomp cannot read; F_SETOWN still works", Arg(1, F_SETOWN_EX)));
        }
        rules.Add(Rule("ioctl", EPERM, "FIOSETOWN is F_SETOWN for sockets, through a pointer seccomp cannot read; F_SETOWN still works", Arg(1, FIOSETOWN)));
        rules.Add(Rule("ioctl", EPERM, "SIOCSPGRP is F_SETOWN for sockets, through a pointer seccomp cannot read; F_SETOWN still works", Arg(1, SIOCSPGRP)));
        return rules;
    }

    /// <summary>"arg1 == 0x5412", "arg0 == monitor": how --explain writes a test.</summary>
    public static string Describe(SyscallArgument a) => a.Operand switch
    {
        SyscallOperand.MonitorPid => $"arg{a.Index} == monitor pid",
        SyscallOperand.MonitorProcessGroup => $"arg{a.Index} == -(monitor pid)",
        _ when a.Value == uint.MaxValue => $"arg{a.Index} == -1",
        _ => $"arg{a.Index} == 0x{a.Value:x}",
    };

    private static SyscallRule Rule(string syscall, int errno, string reason, params SyscallArgument[] args) =>
        new() { Syscall = syscall, Errno = errno, Arguments = args, Reason = reason };

    private static SyscallArgument Arg(int index, uint value) => new(index, SyscallOperand.Value, value);

    private static SyscallArgument Monitor(int index) => new(index, SyscallOperand.MonitorPid);

    private static SyscallArgument Group(int index) => new(index, SyscallOperand.MonitorProcessGroup);
}
