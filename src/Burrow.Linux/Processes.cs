using System.Runtime.InteropServices;
using System.Text;
using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>How a child ended: exited with a code, or killed by a signal.</summary>
public readonly record struct ExitStatus(int Code, int Signal)
{
    public bool Signaled => Signal != 0;

    /// <summary>The shell's convention: the code, or 128+N for signal N.</summary>
    public int ShellCode => Signaled ? 128 + Signal : Code;
}

/// <summary>posix_spawn, waitpid and execve, with argv/envp marshalled by hand (they need a NULL terminator).</summary>
public static class Processes
{
    /// <summary>
    /// Starts <paramref name="path"/> with every signal at its default disposition and none blocked
    /// (the .NET runtime ignores and blocks some), and with <paramref name="inherit"/> cleared of
    /// close-on-exec in the child only (posix_spawn_file_actions_adddup2 with fd == newfd).
    /// posix_spawn uses vfork semantics, which is safe from a multi-threaded process.
    /// </summary>
    /// <param name="redirects">Descriptors to place in the child: (this process's descriptor, the child's number), e.g. a log file as 2.</param>
    public static unsafe int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, IReadOnlyList<int> inherit,
        IReadOnlyList<(int From, int To)>? redirects = null)
    {
        byte* actions = (byte*)NativeMemory.AllocZeroed(512);
        byte* attr = (byte*)NativeMemory.AllocZeroed(1024);
        byte* sigset = (byte*)NativeMemory.AllocZeroed(256);
        byte** cargv = ToCStrings(argv);
        byte** cenvp = ToCStrings(envp);
        try
        {
            Errno.CheckReturned(Sys.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            foreach (int fd in inherit)
            {
                Errno.CheckReturned(Sys.PosixSpawnFileActionsAdddup2(actions, fd, fd), "posix_spawn_file_actions_adddup2");
            }
            foreach ((int from, int to) in redirects ?? [])
            {
                Errno.CheckReturned(Sys.PosixSpawnFileActionsAdddup2(actions, from, to), "posix_spawn_file_actions_adddup2");
            }
            Errno.CheckReturned(Sys.PosixSpawnattrInit(attr), "posix_spawnattr_init");
            Errno.CheckReturned(Sys.PosixSpawnattrSetflags(attr, (short)(Sys.POSIX_SPAWN_SETSIGDEF | Sys.POSIX_SPAWN_SETSIGMASK)), "posix_spawnattr_setflags");
            Sys.Sigemptyset(sigset);
            Errno.CheckReturned(Sys.PosixSpawnattrSetsigmask(attr, sigset), "posix_spawnattr_setsigmask");
            Sys.Sigfillset(sigset);
            Errno.CheckReturned(Sys.PosixSpawnattrSetsigdefault(attr, sigset), "posix_spawnattr_setsigdefault");
            int pid;
            Errno.CheckReturned(Sys.PosixSpawn(&pid, path, actions, attr, cargv, cenvp), "posix_spawn", path);
            return pid;
        }
        finally
        {
            Sys.PosixSpawnFileActionsDestroy(actions);
            Sys.PosixSpawnattrDestroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            FreeCStrings(cargv, argv.Count);
            FreeCStrings(cenvp, envp.Count);
        }
    }

    /// <summary>Waits for a child to end (retrying EINTR).</summary>
    public static unsafe ExitStatus Wait(int pid)
    {
        int status;
        while (true)
        {
            int r = Sys.Waitpid(pid, &status, 0);
            if (r >= 0)
            {
                break;
            }
            if (Errno.Last != Errno.EINTR)
            {
                throw new LinuxException(Errno.Last, "waitpid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        int sig = status & 0x7f;
        return sig == 0 ? new ExitStatus((status >> 8) & 0xff, 0) : new ExitStatus(0, sig);
    }

    /// <summary>Reaps a child if it has ended; false if it is still running.</summary>
    public static unsafe bool TryReap(int pid)
    {
        int status;
        return Sys.Waitpid(pid, &status, Sys.WNOHANG) == pid;
    }

    /// <summary>Replaces this process; returns only on failure, with the errno.</summary>
    public static unsafe int Exec(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        byte** cargv = ToCStrings(argv);
        byte** cenvp = ToCStrings(envp);
        Sys.Execve(path, cargv, cenvp);
        int e = Errno.Last;
        FreeCStrings(cargv, argv.Count);
        FreeCStrings(cenvp, envp.Count);
        return e;
    }

    private static unsafe byte** ToCStrings(IReadOnlyList<string> strings)
    {
        byte** array = (byte**)NativeMemory.AllocZeroed((nuint)(strings.Count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < strings.Count; i++)
        {
            int n = Encoding.UTF8.GetByteCount(strings[i]);
            byte* s = (byte*)NativeMemory.Alloc((nuint)n + 1);
            Encoding.UTF8.GetBytes(strings[i], new Span<byte>(s, n));
            s[n] = 0;
            array[i] = s;
        }
        return array;
    }

    private static unsafe void FreeCStrings(byte** array, int count)
    {
        for (int i = 0; i < count; i++)
        {
            NativeMemory.Free(array[i]);
        }
        NativeMemory.Free(array);
    }
}
