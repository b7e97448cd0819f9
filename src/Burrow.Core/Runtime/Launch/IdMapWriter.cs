using System.Globalization;
using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// Writes the starter's uid and gid maps from the host side: directly for a single mapping of the
/// caller's own ids, through shadow's setuid newgidmap/newuidmap for subordinate ranges.
/// </summary>
internal static class IdMapWriting
{
    /// <param name="helpers">newuidmap/newgidmap as the engine found and checked them; required for subordinate maps.</param>
    public static void Write(int pid, IdentityPlan identity, MapHelpers.Paths? helpers)
    {
        if (identity.UidMap.Count == 0 || identity.GidMap.Count == 0)
        {
            throw new BurrowException("the launch plan has an empty uid or gid map");
        }
        string proc = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        if (!identity.AllowSetgroups)
        {
            WriteProcFile(proc + "/setgroups", "deny");
        }
        if (identity.Writer == IdMapWriter.Direct)
        {
            WriteProcFile(proc + "/gid_map", Format(identity.GidMap, "\n"));
            WriteProcFile(proc + "/uid_map", Format(identity.UidMap, "\n"));
            return;
        }

        if (helpers is null)
        {
            throw new InvalidOperationException("a subordinate id map needs the newuidmap/newgidmap the engine checked");
        }
        RunHelper(helpers.NewGidMap, pid, identity.GidMap, "/etc/subgid");
        RunHelper(helpers.NewUidMap, pid, identity.UidMap, "/etc/subuid");
    }

    private static void RunHelper(string helper, int pid, IReadOnlyList<IdMapEntry> map, string database)
    {
        string name = Path.GetFileName(helper);
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
