using System.Runtime.InteropServices;
using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>One condition on a system call's argument: <c>(arg[Index] &amp; Mask) == Value</c>.</summary>
public readonly record struct SyscallArgumentTest(int Index, ulong Mask, ulong Value);

/// <summary>A system call that fails with <paramref name="Errno"/> when every test holds (all of them: AND).</summary>
public sealed record SyscallDenial(string Syscall, int Errno, IReadOnlyList<SyscallArgumentTest> Tests);

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
        finally
        {
            Sys.SeccompRelease(ctx);
        }
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
