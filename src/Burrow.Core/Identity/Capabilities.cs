using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Core.Identity;

/// <summary>
/// Linux capability names and numbers (linux/capability.h, capabilities(7)), and parsing of the
/// --add-caps/--drop-caps lists: case-insensitive, the CAP_ prefix optional, "all" for every one.
/// </summary>
public static class Capabilities
{
    /// <summary>Index = capability number. CAP_CHECKPOINT_RESTORE (40) is the last one up to Linux 6.18.</summary>
    private static readonly string[] s_names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    public static IReadOnlyList<string> Names => s_names;

    public static int LastCap => s_names.Length - 1;

    /// <summary>Every capability Burrow knows, as a mask.</summary>
    public static ulong All => (1UL << s_names.Length) - 1;

    public static string NameOf(int number) => s_names[number];

    /// <summary>The number of a capability name, or -1. Accepts "chown", "CAP_CHOWN", "Cap_Chown".</summary>
    public static int NumberOf(string name)
    {
        string upper = name.Trim().ToUpperInvariant();
        if (!upper.StartsWith("CAP_", StringComparison.Ordinal))
        {
            upper = "CAP_" + upper;
        }
        return Array.IndexOf(s_names, upper);
    }

    /// <summary>Turns a list of names (already split at commas) into a mask; an unknown name is an error, not a silent no-op.</summary>
    public static ulong Parse(IReadOnlyList<string> names, string option)
    {
        ulong mask = 0;
        foreach (string raw in names)
        {
            string name = raw.Trim();
            if (name.Length == 0)
            {
                continue;
            }
            if (name.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                mask |= All;
                continue;
            }
            int n = NumberOf(name);
            if (n < 0)
            {
                throw new BurrowException(
                    $"{option}: unknown capability '{name}'",
                    "use names from capabilities(7) such as CAP_NET_ADMIN or net_admin, or 'all'");
            }
            mask |= 1UL << n;
        }
        return mask;
    }

    /// <summary>The names in a mask, in number order, for --explain.</summary>
    public static string Describe(ulong mask)
    {
        if (mask == 0)
        {
            return "none";
        }
        if (mask == All)
        {
            return "all";
        }
        return string.Join(",", Enumerable.Range(0, s_names.Length).Where(i => (mask & (1UL << i)) != 0).Select(i => s_names[i]));
    }

    /// <summary>
    /// A root payload holds the mask in its bounding, permitted and effective sets; as uid 0 it keeps
    /// them across execve from the bounding set. Inheritable and ambient stay empty, so a later
    /// non-root program cannot pick them up (crun CVE-2022-27650).
    /// </summary>
    public static CapabilitySets ForRoot(ulong mask) => new(mask, mask, mask, 0, 0);
}
