using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>Credentials, capabilities and the process flags that guard them (prctl).</summary>
public static class ProcessSecurity
{
    public static uint Uid => Sys.Getuid();

    public static uint Gid => Sys.Getgid();

    public static int Pid => Sys.Getpid();

    /// <summary>The parent's pid as this process's PID namespace sees it (0 when the parent is outside it).</summary>
    public static int ParentPid => Sys.Getppid();

    /// <summary>Starts a new session with this process as its leader and no controlling terminal.</summary>
    public static void NewSession() => Errno.Check(Sys.Setsid(), "setsid");

    /// <summary>Which of <paramref name="fds"/> are terminals.</summary>
    public static IReadOnlyList<int> Terminals(params int[] fds) => fds.Where(fd => Sys.Isatty(fd) == 1).ToArray();

    /// <summary>The soft limit on this user's processes and threads (ulimit -u), or null when unlimited.</summary>
    public static unsafe ulong? ProcessLimit()
    {
        ulong* limits = stackalloc ulong[2];
        if (Sys.Getrlimit(Sys.RLIMIT_NPROC, limits) < 0 || limits[0] == Sys.RLIM_INFINITY)
        {
            return null;
        }
        return limits[0];
    }

    /// <summary>The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).</summary>
    public static int LastCapability()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 40;
        }
    }

    public static void SetParentDeathSignal(int signal) => Errno.Check(Sys.Prctl(Sys.PR_SET_PDEATHSIG, (nuint)signal, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)");

    public static void SetDumpable(bool dumpable) => Errno.Check(Sys.Prctl(Sys.PR_SET_DUMPABLE, dumpable ? 1u : 0u, 0, 0, 0), "prctl(PR_SET_DUMPABLE)");

    /// <summary>Keeps the permitted set across a change from uid 0 to another uid.</summary>
    public static void SetKeepCapabilities(bool keep) => Errno.Check(Sys.Prctl(Sys.PR_SET_KEEPCAPS, keep ? 1u : 0u, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)");

    public static void SetNoNewPrivileges() => Errno.Check(Sys.Prctl(Sys.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");

    public static unsafe void SetGroups(IReadOnlyList<uint> groups)
    {
        uint[] list = groups.ToArray();
        fixed (uint* p = list)
        {
            Errno.Check(Sys.Setgroups((nuint)list.Length, p), "setgroups");
        }
    }

    public static void SetGid(uint gid) => Errno.Check(Sys.Setresgid(gid, gid, gid), "setresgid", gid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static void SetUid(uint uid) => Errno.Check(Sys.Setresuid(uid, uid, uid), "setresuid", uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Removes every capability not in <paramref name="keep"/> from the bounding set (needs CAP_SETPCAP).</summary>
    public static void LimitBoundingSet(ulong keep, int lastCap)
    {
        for (int cap = 0; cap <= lastCap; cap++)
        {
            if ((keep & (1UL << cap)) == 0 && Sys.Prctl(Sys.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0) < 0 && Errno.Last != Errno.EINVAL)
            {
                throw new LinuxException(Errno.Last, "prctl(PR_CAPBSET_DROP)", "capability " + cap);
            }
        }
    }

    public static unsafe void SetCapabilities(ulong effective, ulong permitted, ulong inheritable)
    {
        var header = new Sys.CapHeader { Version = Sys.LINUX_CAPABILITY_VERSION_3 };
        Sys.CapData* data = stackalloc Sys.CapData[2];
        data[0] = new Sys.CapData { Effective = (uint)effective, Permitted = (uint)permitted, Inheritable = (uint)inheritable };
        data[1] = new Sys.CapData { Effective = (uint)(effective >> 32), Permitted = (uint)(permitted >> 32), Inheritable = (uint)(inheritable >> 32) };
        Errno.Check(Sys.Capset(&header, data), "capset");
    }

    /// <summary>Clears the ambient set, then raises the given capabilities (each must be permitted and inheritable).</summary>
    public static void SetAmbient(ulong ambient, int lastCap)
    {
        Errno.Check(Sys.Prctl(Sys.PR_CAP_AMBIENT, Sys.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
        for (int cap = 0; cap <= lastCap; cap++)
        {
            if ((ambient & (1UL << cap)) != 0)
            {
                Errno.Check(Sys.Prctl(Sys.PR_CAP_AMBIENT, Sys.PR_CAP_AMBIENT_RAISE, (nuint)cap, 0, 0), "prctl(PR_CAP_AMBIENT_RAISE)", "capability " + cap);
            }
        }
    }

    public static int SetUmask(int mask) => Sys.Umask(mask);

    public static void ChangeDirectory(string path) => Errno.Check(Sys.Chdir(path), "chdir", path);

    public static unsafe void SetHostname(string name)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(name);
        fixed (byte* p = bytes)
        {
            Errno.Check(Sys.Sethostname(p, (nuint)bytes.Length), "sethostname", name);
        }
    }

    /// <summary>
    /// True when one of <paramref name="fds"/> is a terminal whose foreground process group is this process's: then the
    /// terminal itself sends this process group the signals of its keys (Ctrl-C, Ctrl-\) and of a resize.
    /// </summary>
    public static bool IsTerminalForeground(params int[] fds)
    {
        int group = Sys.Getpgrp();
        return fds.Any(fd => Sys.Isatty(fd) == 1 && Sys.Tcgetpgrp(fd) == group);
    }

    public static void Kill(int pid, int signal)
    {
        if (Sys.Kill(pid, signal) < 0 && Errno.Last != Errno.ESRCH)
        {
            throw new LinuxException(Errno.Last, "kill", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
