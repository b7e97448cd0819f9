using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

internal static partial class Sys
{
    internal const int PR_SET_PDEATHSIG = 1, PR_SET_DUMPABLE = 4, PR_SET_KEEPCAPS = 8, PR_CAPBSET_DROP = 24;
    internal const int PR_SET_NO_NEW_PRIVS = 38, PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_CLEAR_ALL = 4;
    internal const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    internal const int WNOHANG = 1;
    internal const int POSIX_SPAWN_SETSIGDEF = 4, POSIX_SPAWN_SETSIGMASK = 8;

    [StructLayout(LayoutKind.Sequential)]
    internal struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport(Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Libc, EntryPoint = "capget", SetLastError = true)]
    internal static unsafe partial int Capget(CapHeader* header, CapData* data);

    [LibraryImport(Libc, EntryPoint = "capset", SetLastError = true)]
    internal static unsafe partial int Capset(CapHeader* header, CapData* data);

    [LibraryImport(Libc, EntryPoint = "setresuid", SetLastError = true)]
    internal static partial int Setresuid(uint ruid, uint euid, uint suid);

    [LibraryImport(Libc, EntryPoint = "setresgid", SetLastError = true)]
    internal static partial int Setresgid(uint rgid, uint egid, uint sgid);

    [LibraryImport(Libc, EntryPoint = "setgroups", SetLastError = true)]
    internal static unsafe partial int Setgroups(nuint size, uint* list);

    [LibraryImport(Libc, EntryPoint = "getuid")]
    internal static partial uint Getuid();

    [LibraryImport(Libc, EntryPoint = "getgid")]
    internal static partial uint Getgid();

    [LibraryImport(Libc, EntryPoint = "getpid")]
    internal static partial int Getpid();

    [LibraryImport(Libc, EntryPoint = "sethostname", SetLastError = true)]
    internal static unsafe partial int Sethostname(byte* name, nuint len);

    [LibraryImport(Libc, EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Execve(string path, byte** argv, byte** envp);

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport(Libc, EntryPoint = "waitpid", SetLastError = true)]
    internal static unsafe partial int Waitpid(int pid, int* status, int options);

    [LibraryImport(Libc, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int PosixSpawn(int* pid, string path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_init")]
    internal static unsafe partial int PosixSpawnFileActionsInit(void* fileActions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static unsafe partial int PosixSpawnFileActionsAdddup2(void* fileActions, int fd, int newfd);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static unsafe partial int PosixSpawnFileActionsDestroy(void* fileActions);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_init")]
    internal static unsafe partial int PosixSpawnattrInit(void* attr);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setflags")]
    internal static unsafe partial int PosixSpawnattrSetflags(void* attr, short flags);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static unsafe partial int PosixSpawnattrSetsigmask(void* attr, void* sigset);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static unsafe partial int PosixSpawnattrSetsigdefault(void* attr, void* sigset);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_destroy")]
    internal static unsafe partial int PosixSpawnattrDestroy(void* attr);

    [LibraryImport(Libc, EntryPoint = "sigemptyset")]
    internal static unsafe partial int Sigemptyset(void* set);

    [LibraryImport(Libc, EntryPoint = "sigfillset")]
    internal static unsafe partial int Sigfillset(void* set);
}

internal static partial class Sys
{
    internal const int RLIMIT_NPROC = 6;
    internal const ulong RLIM_INFINITY = ulong.MaxValue;

    [LibraryImport(Libc, EntryPoint = "setsid", SetLastError = true)]
    internal static partial int Setsid();

    [LibraryImport(Libc, EntryPoint = "getppid")]
    internal static partial int Getppid();

    [LibraryImport(Libc, EntryPoint = "isatty")]
    internal static partial int Isatty(int fd);

    [LibraryImport(Libc, EntryPoint = "tcgetpgrp", SetLastError = true)]
    internal static partial int Tcgetpgrp(int fd);

    [LibraryImport(Libc, EntryPoint = "getpgrp")]
    internal static partial int Getpgrp();

    [LibraryImport(Libc, EntryPoint = "getrlimit", SetLastError = true)]
    internal static unsafe partial int Getrlimit(int resource, ulong* limits);
}
