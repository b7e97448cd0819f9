using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

// The raw libc imports, one partial file per concern (as dotnet/runtime's Interop.Sys). Callers use the
// typed wrappers in Burrow.Linux, which check results and map errno in one place (Errno.Check).
internal static partial class Sys
{
    internal const string Libc = "libc";

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5);

    internal const long SYS_pivot_root = 155;
    internal const long SYS_openat2 = 437;
}
