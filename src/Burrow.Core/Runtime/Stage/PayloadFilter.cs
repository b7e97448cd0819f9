using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// Turns the plan's <see cref="SyscallRule"/>s into a seccomp program. Runs at the start of the stage,
/// while its root is still the host's: libseccomp is loaded from the host, never from the image. The
/// monitor's pid, which only the stage knows, is its parent's (there is no PID namespace when the
/// planner names the monitor).
/// </summary>
internal static class PayloadFilter
{
    public static byte[]? Compile(IReadOnlyList<SyscallRule> rules) => Compile(rules, monitor: null);

    /// <param name="monitor">The monitor's pid when the caller knows it (the engine of a join, whose starter is the monitor); else the stage's parent.</param>
    public static byte[]? Compile(IReadOnlyList<SyscallRule> rules, int? monitor)
    {
        if (rules.Count == 0)
        {
            return null;
        }
        if (monitor is int known)
        {
            return CompileFor(rules, known);
        }
        int parent = 0;
        if (rules.Any(r => r.Arguments.Any(a => a.Operand != SyscallOperand.Value)))
        {
            parent = ProcessSecurity.ParentPid;
            if (parent <= 1)
            {
                throw new BurrowException($"the plan's seccomp filter names the monitor, but the stage's parent is pid {parent}, not the monitor",
                    "rules about the monitor belong in plans without a PID namespace");
            }
        }
        return CompileFor(rules, parent);
    }

    private static byte[] CompileFor(IReadOnlyList<SyscallRule> rules, int monitor)
    {
        var denials = rules.Select(r => new SyscallDenial(r.Syscall, r.Errno,
            r.Arguments.Select(a => new SyscallArgumentTest(a.Index, 0xffffffff, Operand(a, monitor))).ToArray())).ToArray();
        try
        {
            return SyscallFilter.Compile(denials);
        }
        catch (LinuxException e)
        {
            throw new BurrowException("cannot build the payload's seccomp filter: " + e.Message,
                "Burrow needs libseccomp (Debian package libseccomp2) to keep the payload from typing into your terminal and from stopping its monitor");
        }
    }

    /// <summary>
    /// The user's OCI profile as a second program. Its system call names are resolved by libseccomp here; names it
    /// does not know on this machine are skipped, as runc does (profiles cover every kernel and architecture).
    /// </summary>
    public static byte[] CompileProfile(SeccompProfilePlan profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var rules = new List<SyscallProfileRule>();
        foreach (SeccompProfileRule rule in profile.Rules)
        {
            uint action = Action(rule.Action);
            SyscallCondition[] conditions = rule.Arguments.Select(a => new SyscallCondition(a.Index, (int)a.Op + 1, a.Value, a.ValueTwo)).ToArray();
            foreach (string name in rule.Names)
            {
                rules.Add(new SyscallProfileRule(name, action, conditions, rule.Entry));
            }
        }
        try
        {
            return SyscallFilter.CompileProfile(Action(profile.DefaultAction), profile.Architectures, rules,
                skipped => Log.Verbose($"seccomp profile {profile.File}: {skipped} is not a system call libseccomp knows on this machine; skipped"));
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot build the seccomp filter of the profile {profile.File}: {e.Message}",
                "check the profile's entry named in the message; Burrow needs libseccomp (Debian package libseccomp2)");
        }
    }

    /// <summary>libseccomp's action value (SCMP_ACT_*).</summary>
    private static uint Action(SeccompAction a) => a.Kind switch
    {
        SeccompActionKind.KillThread => SyscallFilter.ActionKillThread,
        SeccompActionKind.KillProcess => SyscallFilter.ActionKillProcess,
        SeccompActionKind.Trap => SyscallFilter.ActionTrap,
        SeccompActionKind.Errno => SyscallFilter.ActionErrno((ushort)Math.Min(a.Value, 0xffff)),
        SeccompActionKind.Trace => SyscallFilter.ActionTrace((ushort)Math.Min(a.Value, 0xffff)),
        SeccompActionKind.Log => SyscallFilter.ActionLog,
        SeccompActionKind.Allow => SyscallFilter.ActionAllow,
        _ => throw new BurrowException($"unknown seccomp action {a.Kind}"),
    };

    public static void Install(byte[] program)
    {
        try
        {
            SyscallFilter.Install(program);
        }
        catch (LinuxException e)
        {
            throw new BurrowException("cannot install the payload's seccomp filter: " + e.Message,
                e.Errno == Errno.EACCES ? "the kernel needs no_new_privs or CAP_SYS_ADMIN for it; a plan without no_new_privs must keep CAP_SYS_ADMIN until then" : null);
        }
    }

    /// <summary>The low 32 bits the argument must have: -pid is written as the kernel reads an int.</summary>
    private static ulong Operand(SyscallArgument a, int monitor) => a.Operand switch
    {
        SyscallOperand.MonitorPid => (uint)monitor,
        SyscallOperand.MonitorProcessGroup => unchecked((uint)-monitor),
        _ => a.Value,
    };
}
