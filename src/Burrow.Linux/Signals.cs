using System.Runtime.InteropServices;
using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>Signal dispositions that must not leak from the .NET runtime into a payload.</summary>
public static partial class Signals
{
    private const int SIG_SETMASK = 2;

    private const long SYS_rt_sigaction = 13;

    [LibraryImport(Sys.Libc, EntryPoint = "sigprocmask", SetLastError = true)]
    private static unsafe partial int Sigprocmask(int how, void* set, void* old);

    /// <summary>
    /// Gives every ignored signal its default action back and unblocks all: execve resets handled
    /// signals by itself but keeps ignored ones ignored, and the runtime ignores SIGPIPE, which would
    /// make a payload's pipelines misbehave. Handled signals are left alone (the runtime still needs
    /// its own until execve). Call right before execve.
    /// </summary>
    public static unsafe void ResetForExec()
    {
        // The kernel's struct sigaction (handler, flags, restorer, mask), through the raw system call
        // because glibc refuses its two internal signals (32, 33), and the runtime ignores one of them.
        long* old = stackalloc long[4];
        long* dfl = stackalloc long[4];
        new Span<long>(dfl, 4).Clear();
        for (int sig = 1; sig <= 64; sig++)
        {
            if (sig is not (9 or 19) && Sys.Syscall(SYS_rt_sigaction, sig, 0, (long)old, 8, 0) == 0 && old[0] == 1 /* SIG_IGN */)
            {
                Sys.Syscall(SYS_rt_sigaction, sig, (long)dfl, 0, 8, 0);
            }
        }
        byte* empty = stackalloc byte[128];
        Sys.Sigemptyset(empty);
        Errno.Check(Sigprocmask(SIG_SETMASK, empty, null), "sigprocmask");
    }
}
