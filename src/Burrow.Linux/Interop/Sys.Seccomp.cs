using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

// libseccomp (Debian's libseccomp2) compiles the payload's system-call filter; the project writes no BPF by hand.
// Its functions return a negative errno instead of setting errno, so none of these imports sets the last error.
internal static partial class Sys
{
    internal const string LibSeccomp = "libseccomp.so.2";

    internal const uint SCMP_ACT_ALLOW = 0x7fff0000;
    internal const uint SCMP_ACT_ERRNO_BASE = 0x00050000;
    internal const int SCMP_FLTATR_CTL_NNP = 3;
    internal const int SCMP_CMP_MASKED_EQ = 7;
    internal const uint SCMP_ARCH_X86 = 0x40000003, SCMP_ARCH_X86_64 = 0xc000003e, SCMP_ARCH_X32 = 0x4000003e;
    internal const uint SCMP_ARCH_ARM = 0x40000028, SCMP_ARCH_AARCH64 = 0xc00000b7;
    internal const int NR_SCMP_ERROR = -1;

    internal const int SECCOMP_SET_MODE_FILTER = 1;
    internal const uint SECCOMP_FILTER_FLAG_TSYNC = 1;

    /// <summary>struct scmp_arg_cmp: for SCMP_CMP_MASKED_EQ, (arg &amp; DatumA) == DatumB.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ScmpArgCmp
    {
        public uint Arg;
        public int Op;
        public ulong DatumA;
        public ulong DatumB;
    }

    /// <summary>struct sock_fprog: a classic BPF program (8-byte instructions) for seccomp(2).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct SockFprog
    {
        public ushort Length;
        public byte* Filter;
    }

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_init")]
    internal static partial nint SeccompInit(uint defaultAction);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_release")]
    internal static partial void SeccompRelease(nint ctx);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_arch_native")]
    internal static partial uint SeccompArchNative();

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_arch_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint SeccompArchResolveName(string name);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_arch_add")]
    internal static partial int SeccompArchAdd(nint ctx, uint arch);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_attr_set")]
    internal static partial int SeccompAttrSet(nint ctx, int attribute, uint value);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SeccompSyscallResolveName(string name);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_rule_add_array")]
    internal static unsafe partial int SeccompRuleAddArray(nint ctx, uint action, int syscall, uint count, ScmpArgCmp* args);

    [LibraryImport(LibSeccomp, EntryPoint = "seccomp_export_bpf")]
    internal static partial int SeccompExportBpf(nint ctx, int fd);
}
