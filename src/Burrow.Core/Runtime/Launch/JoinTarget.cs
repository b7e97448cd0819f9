using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The process of a running container whose namespaces a join enters: the container's first payload process, which
/// lives as long as the container does. Its memory belongs to the container's user namespace (it was exec'd there),
/// so its owner may open its /proc/PID/ns entries although the monitor and the tiny init are closed to everyone.
/// The start time names it across pid reuse.
/// </summary>
public sealed record JoinTarget(int Pid, ulong StartTime)
{
    /// <summary>/proc/PID of the target, opened and then checked to be the same process, so a reused pid finds nothing.</summary>
    public SafeFileHandle Open()
    {
        string dir = "/proc/" + Pid.ToString(CultureInfo.InvariantCulture);
        SafeFileHandle handle;
        try
        {
            handle = FileDescriptors.OpenPath(dir);
        }
        catch (LinuxException)
        {
            throw Gone();
        }
        if (StartTimeOf(Pid) != StartTime)
        {
            handle.Dispose();
            throw Gone();
        }
        return handle;
    }

    private BurrowException Gone() => new($"the container's process {Pid.ToString(CultureInfo.InvariantCulture)} is gone", "the instance has ended; see burrow instance list");

    /// <summary>
    /// Once the stage reports the payload (it is about to exec, keeping its pid): the starter's child, or with a tiny
    /// init the init's child. Found through /proc/*/stat, which is readable whatever the processes' dumpable state.
    /// </summary>
    public static JoinTarget? FindPayload(int starterPid, bool init)
    {
        int? child = OnlyChildOf(starterPid);
        if (child is int c && init)
        {
            child = OnlyChildOf(c);
        }
        return child is int pid && StartTimeOf(pid) is var t and > 0 ? new JoinTarget(pid, t) : null;
    }

    private static int? OnlyChildOf(int parent)
    {
        int? found = null;
        foreach (string entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }
            if (Stat(pid) is { } fields && fields.Length > 1 && fields[1] == parent.ToString(CultureInfo.InvariantCulture))
            {
                if (found is not null)
                {
                    return null; // more than one: not the moment the stage reported
                }
                found = pid;
            }
        }
        return found;
    }

    /// <summary>Field 22 (starttime) of /proc/PID/stat, or 0 when there is no such process.</summary>
    public static ulong StartTimeOf(int pid) =>
        Stat(pid) is { Length: > 19 } f && ulong.TryParse(f[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong t) ? t : 0;

    /// <summary>The fields of /proc/PID/stat after the command name (field 3 first), or null.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            string stat = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
            // The command name (field 2) may hold spaces and ')': fields are counted after its last ')'.
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 > stat.Length ? null : stat[(close + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
