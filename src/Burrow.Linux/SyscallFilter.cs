using System.Runtime.InteropServices;
using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>One condition on a system call's argument: <c>(arg[Index] &amp; Mask) == Value</c>.</summary>
public readonly record struct SyscallArgumentTest(int Index, ulong Mask, ulong Value);

/// <summary>A system call that fails with <paramref name="Errno"/> when every test holds (all of them: AND).</summary>
public sealed record SyscallDenial(string Syscall, int Errno, IReadOnlyList<SyscallArgumentTest> Tests);

/// <summary>One comparison of a profile rule: libseccomp's struct scmp_arg_cmp (<paramref name="Op"/> is SCMP_CMP_NE=1 … SCMP_CMP_MASKED_EQ=7).</summary>
public readonly record struct SyscallCondition(int Index, int Op, ulong DatumA, ulong DatumB);

/// <summary>A profile rule: <paramref name="Syscall"/> gets <paramref name="Action"/> (an SCMP_ACT_* value) when every condition holds.</summary>
public sealed record SyscallProfileRule(string Syscall, uint Action, IReadOnlyList<SyscallCondition> Conditions, string Entry);

/// <summary>
/// A seccomp filter that allows everything except the listed calls, which fail with their errno.
/// Compiled by libseccomp into a classic BPF program while the host's root is still the stage's
/// (so the library is loaded from the host, never from an image), then installed with one system
/// call at the very end, on every thread of the process (TSYNC) so that it does not matter which
/// thread calls execve. The filter covers the native architecture and its compatibility ABIs
/// (i386 and x32 on x86-64, arm on arm64), so a 32-bit <c>int 0x80</c> cannot go around it.
/// </summary>
public static class SyscallFilter
{
    /// <summary>The BPF program for <paramref name="rules"/>: 8-byte sock_filter instructions.</summary>
    public static unsafe byte[] Compile(IReadOnlyList<SyscallDenial> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        nint ctx;
        try
        {
            ctx = Sys.SeccompInit(Sys.SCMP_ACT_ALLOW);
        }
        catch (DllNotFoundException e)
        {
            throw new LinuxException(Errno.ENOENT, "load " + Sys.LibSeccomp + " (" + e.Message + ")", null);
        }
        if (ctx == 0)
        {
            throw new LinuxException(Errno.ENOMEM, "seccomp_init", null);
        }
        try
        {
            // no_new_privs is the stage's business (the plan says whether), not the library's.
            Check(Sys.SeccompAttrSet(ctx, Sys.SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(CTL_NNP)");
            foreach (uint arch in CompatibilityArchitectures(Sys.SeccompArchNative()))
            {
                int r = Sys.SeccompArchAdd(ctx, arch);
                if (r < 0 && r != -Errno.EEXIST)
                {
                    Check(r, "seccomp_arch_add");
                }
            }
            Sys.ScmpArgCmp* args = stackalloc Sys.ScmpArgCmp[6]; // a system call has at most six arguments
            foreach (SyscallDenial rule in rules)
            {
                int number = Sys.SeccompSyscallResolveName(rule.Syscall);
                if (number == Sys.NR_SCMP_ERROR)
                {
                    throw new LinuxException(Errno.EINVAL, "seccomp_syscall_resolve_name", rule.Syscall);
                }
                if (rule.Tests.Count > 6 || rule.Tests.Any(t => t.Index is < 0 or > 5))
                {
                    throw new LinuxException(Errno.EINVAL, "seccomp rule (a system call has six arguments, 0 to 5)", rule.Syscall);
                }
                for (int i = 0; i < rule.Tests.Count; i++)
                {
                    SyscallArgumentTest t = rule.Tests[i];
                    args[i] = new Sys.ScmpArgCmp { Arg = (uint)t.Index, Op = Sys.SCMP_CMP_MASKED_EQ, DatumA = t.Mask, DatumB = t.Value };
                }
                uint action = Sys.SCMP_ACT_ERRNO_BASE | (uint)(rule.Errno & 0xffff);
                Check(Sys.SeccompRuleAddArray(ctx, action, number, (uint)rule.Tests.Count, args), "seccomp_rule_add", rule.Syscall);
            }
            return Export(ctx);
        }
        finally
        {
            Sys.SeccompRelease(ctx);
        }
    }

    public const uint ActionKillProcess = 0x80000000, ActionKillThread = 0, ActionTrap = 0x00030000, ActionLog = 0x7ffc0000, ActionAllow = Sys.SCMP_ACT_ALLOW;

    public static uint ActionErrno(ushort errno) => Sys.SCMP_ACT_ERRNO_BASE | errno;

    public static uint ActionTrace(ushort message) => 0x7ff00000u | message;

    /// <summary>
    /// The BPF program of an OCI seccomp profile: <paramref name="defaultAction"/> for every call no rule names. The
    /// filter covers <paramref name="architectures"/> (libseccomp names) besides the native one, or, when none are given,
    /// the native one and its compatibility ABIs as <see cref="Compile"/> does. A system call name libseccomp does not
    /// know is passed to <paramref name="skipped"/> and left out; a rule libseccomp refuses is an error naming its entry.
    /// </summary>
    public static unsafe byte[] CompileProfile(uint defaultAction, IReadOnlyList<string> architectures, IReadOnlyList<SyscallProfileRule> rules, Action<string>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(architectures);
        ArgumentNullException.ThrowIfNull(rules);
        nint ctx;
        try
        {
            ctx = Sys.SeccompInit(defaultAction);
        }
        catch (DllNotFoundException e)
        {
            throw new LinuxException(Errno.ENOENT, "load " + Sys.LibSeccomp + " (" + e.Message + ")", null);
        }
        if (ctx == 0)
        {
            throw new LinuxException(Errno.EINVAL, "seccomp_init (the default action)", null);
        }
        try
        {
            Check(Sys.SeccompAttrSet(ctx, Sys.SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(CTL_NNP)");
            var arches = new List<uint>();
            if (architectures.Count == 0)
            {
                arches.AddRange(CompatibilityArchitectures(Sys.SeccompArchNative()));
            }
            foreach (string name in architectures)
            {
                uint token = Sys.SeccompArchResolveName(name);
                if (token == 0)
                {
                    throw new LinuxException(Errno.EINVAL, "seccomp_arch_resolve_name (an architecture libseccomp does not know)", name);
                }
                arches.Add(token);
            }
            foreach (uint arch in arches)
            {
                int r = Sys.SeccompArchAdd(ctx, arch);
                if (r < 0 && r != -Errno.EEXIST)
                {
                    Check(r, "seccomp_arch_add");
                }
            }
            Sys.ScmpArgCmp* args = stackalloc Sys.ScmpArgCmp[6];
            foreach (SyscallProfileRule rule in rules)
            {
                int number = Sys.SeccompSyscallResolveName(rule.Syscall);
                if (number == Sys.NR_SCMP_ERROR)
                {
                    skipped?.Invoke(rule.Syscall);
                    continue;
                }
                if (rule.Conditions.Count > 6 || rule.Conditions.Any(c => c.Index is < 0 or > 5))
                {
                    throw new LinuxException(Errno.EINVAL, "seccomp rule (a system call has six arguments, 0 to 5)", rule.Entry);
                }
                for (int i = 0; i < rule.Conditions.Count; i++)
                {
                    SyscallCondition c = rule.Conditions[i];
                    args[i] = new Sys.ScmpArgCmp { Arg = (uint)c.Index, Op = c.Op, DatumA = c.DatumA, DatumB = c.DatumB };
                }
                Check(Sys.SeccompRuleAddArray(ctx, rule.Action, number, (uint)rule.Conditions.Count, args), "seccomp_rule_add", $"{rule.Entry} ({rule.Syscall})");
            }
            return Export(ctx);
        }
        finally
        {
            Sys.SeccompRelease(ctx);
        }
    }

    private static byte[] Export(nint ctx)
    {
        using SafeFileHandle memory = FileDescriptors.MemoryFile("burrow-seccomp", []);
        Check(Sys.SeccompExportBpf(ctx, (int)memory.DangerousGetHandle()), "seccomp_export_bpf");
        Errno.Check(Sys.Lseek((int)memory.DangerousGetHandle(), 0, 0), "lseek", "the seccomp program");
        byte[] program = FileDescriptors.ReadAll(memory, 8 * ushort.MaxValue, "the seccomp program");
        if (program.Length == 0 || program.Length % 8 != 0)
        {
            throw new LinuxException(Errno.EINVAL, "seccomp_export_bpf (program of " + program.Length + " bytes)", null);
        }
        return program;
    }

    /// <summary>
    /// Installs a compiled program on every thread of this process. The kernel requires
    /// no_new_privs or CAP_SYS_ADMIN in the current user namespace.
    /// </summary>
    public static unsafe void Install(byte[] program)
    {
        ArgumentNullException.ThrowIfNull(program);
        long number = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 317,
            Architecture.Arm64 => 277,
            _ => throw new LinuxException(Errno.ENOSYS, "seccomp (unsupported architecture " + RuntimeInformation.ProcessArchitecture + ")", null),
        };
        fixed (byte* p = program)
        {
            var prog = new Sys.SockFprog { Length = (ushort)(program.Length / 8), Filter = p };
            long r = Sys.Syscall(number, Sys.SECCOMP_SET_MODE_FILTER, Sys.SECCOMP_FILTER_FLAG_TSYNC, (long)&prog, 0, 0);
            Errno.Check(r, "seccomp(SECCOMP_SET_MODE_FILTER)");
            if (r > 0)
            {
                // TSYNC names the thread that could not take the filter (it has a different one).
                throw new LinuxException(Errno.EBUSY, "seccomp(SECCOMP_FILTER_FLAG_TSYNC) thread " + r, null);
            }
        }
    }

    private static uint[] CompatibilityArchitectures(uint native) => native switch
    {
        Sys.SCMP_ARCH_X86_64 => [Sys.SCMP_ARCH_X86, Sys.SCMP_ARCH_X32],
        Sys.SCMP_ARCH_AARCH64 => [Sys.SCMP_ARCH_ARM],
        _ => [],
    };

    private static void Check(int result, string operation, string? what = null)
    {
        if (result < 0)
        {
            throw new LinuxException(-result, operation, what);
        }
    }
}
