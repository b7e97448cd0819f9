using System.Globalization;
using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// Writes the starter's uid and gid maps from the host side: directly for a single mapping of the
/// caller's own ids, through shadow's setuid newgidmap/newuidmap for subordinate ranges.
/// </summary>
internal static class IdMapWriting
{
    private static readonly string[] s_helperDirectories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

    public static void Write(int pid, IdentityPlan identity)
    {
        if (identity.UidMap.Count == 0 || identity.GidMap.Count == 0)
        {
            throw new BurrowException("the launch plan has an empty uid or gid map");
        }
        string proc = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        if (identity.Writer == IdMapWriter.Direct)
        {
            if (!identity.AllowSetgroups)
            {
                WriteProcFile(proc + "/setgroups", "deny");
            }
            WriteProcFile(proc + "/gid_map", Format(identity.GidMap, "\n"));
            WriteProcFile(proc + "/uid_map", Format(identity.UidMap, "\n"));
            return;
        }

        if (!identity.AllowSetgroups)
        {
            WriteProcFile(proc + "/setgroups", "deny");
        }
        RunHelper("newgidmap", pid, identity.GidMap, "/etc/subgid");
        RunHelper("newuidmap", pid, identity.UidMap, "/etc/subuid");
    }

    /// <summary>Finds a usable newuidmap/newgidmap or says exactly what is wrong with it.</summary>
    public static string FindHelper(string name, IReadOnlyList<string>? directories = null)
    {
        string? path = (directories ?? s_helperDirectories).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        if (path is null)
        {
            throw new BurrowException($"{name} is not installed, and mapping a range of subordinate ids needs it",
                "install shadow's uidmap package (Debian/Ubuntu: apt-get install uidmap), or use an option that maps only your own ids");
        }
        RequireSetuidToWork(name);
        FileStatus st = FileStatus.OfPath(path) ?? throw new BurrowException($"{path} disappeared");
        bool setuidRoot = st.Uid == 0 && (st.Permissions & 0x800) != 0;
        if (!setuidRoot && !HasFileCapabilities(path))
        {
            throw new BurrowException($"{path} is neither setuid root nor given file capabilities, so it cannot write uid/gid maps",
                $"ask the administrator to run: chmod u+s {path} (or setcap cap_setuid,cap_setgid+ep {path})");
        }
        return path;
    }

    /// <summary>
    /// A setuid helper is powerless when burrow itself runs with no_new_privs or without
    /// CAP_SETUID/CAP_SETGID in its bounding set (a login under setpriv, a container, some batch
    /// systems): say so instead of letting the helper fail with "Permission denied".
    /// </summary>
    private static void RequireSetuidToWork(string name)
    {
        string status;
        try
        {
            status = File.ReadAllText("/proc/self/status");
        }
        catch (IOException)
        {
            return;
        }
        string? Field(string key) => status.Split('\n').FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal))?[(key.Length + 1)..].Trim();
        if (Field("NoNewPrivs") == "1")
        {
            throw new BurrowException($"{name} cannot work: burrow runs with the no_new_privs flag set, which voids setuid programs",
                "run burrow from a normal login shell, not from under no_new_privs (e.g. not inside another container)");
        }
        if (Field("CapBnd") is { } bnd && ulong.TryParse(bnd, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong bounding)
            && (bounding & 0xc0) != 0xc0)
        {
            throw new BurrowException($"{name} cannot work: CAP_SETUID and CAP_SETGID are not in burrow's capability bounding set ({bnd})",
                "run burrow from a session whose bounding set was not emptied (e.g. not under setpriv --bounding-set=-all)");
        }
    }

    private static void RunHelper(string name, int pid, IReadOnlyList<IdMapEntry> map, string database)
    {
        string helper = FindHelper(name);
        var argv = new List<string> { helper, pid.ToString(CultureInfo.InvariantCulture) };
        foreach (IdMapEntry e in map)
        {
            argv.Add(e.ContainerId.ToString(CultureInfo.InvariantCulture));
            argv.Add(e.HostId.ToString(CultureInfo.InvariantCulture));
            argv.Add(e.Count.ToString(CultureInfo.InvariantCulture));
        }
        int child = Processes.Spawn(helper, argv, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], []);
        ExitStatus status = Processes.Wait(child);
        if (status.ShellCode != 0)
        {
            throw new BurrowException($"{name} failed ({string.Join(' ', argv.Skip(1))}), exit status {status.ShellCode}",
                $"check that {database} gives your user the range the identity option needs");
        }
    }

    private static bool HasFileCapabilities(string path)
    {
        try
        {
            return Xattr.Has(path, "security.capability");
        }
        catch (LinuxException)
        {
            return false;
        }
    }

    private static string Format(IReadOnlyList<IdMapEntry> map, string separator) =>
        string.Join(separator, map.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.ContainerId} {e.HostId} {e.Count}")));

    private static void WriteProcFile(string path, string content)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
            f.Write(Encoding.ASCII.GetBytes(content + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"cannot write {path} ({content.Replace('\n', ',')}): {e.Message}",
                "only your own uid and gid can be mapped without newuidmap/newgidmap; check the identity options");
        }
    }
}
