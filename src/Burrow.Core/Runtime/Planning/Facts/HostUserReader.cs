using System.Diagnostics;
using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>
/// Who is calling: ids and groups from /proc/self/status (what the kernel will use, not what $USER
/// claims), names from /etc/passwd and /etc/group, falling back to getent for directory-service
/// accounts (LDAP, SSSD) that are not in the local files.
/// </summary>
public static class HostUserReader
{
    public static HostUser Read()
    {
        string status = File.ReadAllText("/proc/self/status");
        uint uid = StatusIds(status, "Uid:")[0];
        uint gid = StatusIds(status, "Gid:")[0];
        uint[] groups = StatusIds(status, "Groups:");

        string[] pw = FindEntry("/etc/passwd", "passwd", uid)
            ?? throw new BurrowException($"your uid {uid} has no passwd entry on this host", "ask the administrator to add one; Burrow names you in the container after it");
        string? groupText = File.Exists("/etc/group") ? File.ReadAllText("/etc/group") : null;
        var hostGroups = new[] { gid }.Concat(groups).Distinct()
            .Select(g => new HostGroup(g, GroupName(groupText, g)))
            .ToArray();
        return new HostUser
        {
            Name = pw[0],
            Uid = uid,
            Gid = gid,
            Groups = hostGroups,
            Gecos = pw.Length > 4 ? pw[4] : "",
            Home = pw.Length > 5 && pw[5].Length > 0 ? pw[5] : "/",
            Shell = pw.Length > 6 && pw[6].Length > 0 ? pw[6] : "/bin/sh",
        };
    }

    /// <summary>The user name of a uid (local files, then NSS), or null when it has none.</summary>
    public static string? NameOf(uint uid) => FindEntry("/etc/passwd", "passwd", uid)?[0];

    /// <summary>The ids on a /proc/self/status line such as "Uid:\t1000\t1000\t1000\t1000" (real id first).</summary>
    public static uint[] StatusIds(string status, string key)
    {
        string? line = status.Split('\n').FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? [] : line[key.Length..]
            .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => uint.Parse(s, CultureInfo.InvariantCulture))
            .ToArray();
    }

    private static string? GroupName(string? groupText, uint gid) =>
        (groupText is null ? null : Find(groupText, gid))?[0] ?? GetEnt("group", gid)?[0];

    private static string[]? FindEntry(string file, string database, uint id) =>
        (File.Exists(file) ? Find(File.ReadAllText(file), id) : null) ?? GetEnt(database, id);

    private static string[]? Find(string text, uint id)
    {
        string key = id.ToString(CultureInfo.InvariantCulture);
        return text.Split('\n').Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 2 && f[2] == key);
    }

    /// <summary>getent DATABASE ID: the NSS view, for accounts that live in a directory service.</summary>
    private static string[]? GetEnt(string database, uint id)
    {
        try
        {
            var psi = new ProcessStartInfo("getent") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(database);
            psi.ArgumentList.Add(id.ToString(CultureInfo.InvariantCulture));
            using Process p = Process.Start(psi)!;
            string line = p.StandardOutput.ReadToEnd().Split('\n')[0];
            p.WaitForExit();
            return p.ExitCode == 0 && line.Length > 0 ? line.Split(':') : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no getent on this host: the local files were all there is
        }
    }
}
