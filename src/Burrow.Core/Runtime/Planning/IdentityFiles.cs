using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The container's /etc/passwd and /etc/group, generated from the image's copies plus the caller
/// (Apptainer's passwd.go/group.go rules). The image files are never modified: the stage binds these
/// read-only over them.
/// </summary>
public static class IdentityFiles
{
    public const int FileMode = 0x1a4; // 0644

    /// <summary>
    /// Apptainer leaves passwd and group alone when the payload is root in a writable container:
    /// root can edit them itself there and a regenerated copy would hide its changes.
    /// </summary>
    public static bool ShouldGenerate(IdentityDecision identity, bool writableRoot) =>
        identity.AccountEntries != AccountEntries.Image && !(identity.IsContainerRoot && writableRoot);

    /// <summary>The passwd the container sees, by the identity's <see cref="AccountEntries"/> rule.</summary>
    public static string PasswdFor(string imagePasswd, HostUser user, IdentityDecision identity) =>
        identity.AccountEntries == AccountEntries.CallerIfMissing ? PasswdIfMissing(imagePasswd, user, identity) : Passwd(imagePasswd, user, identity);

    /// <summary>The group file the container sees, by the identity's <see cref="AccountEntries"/> rule.</summary>
    public static string GroupFor(string imageGroup, string? imagePasswd, HostUser user, IdentityDecision identity) =>
        identity.AccountEntries == AccountEntries.CallerIfMissing
            ? GroupIfMissing(imageGroup, user, identity)
            : Group(imageGroup, user, identity, UserName(imagePasswd, user, identity));

    /// <summary>Podman's keep-id: the image's lines stay; the caller is appended only if neither their name nor uid is there.</summary>
    public static string PasswdIfMissing(string imagePasswd, HostUser user, IdentityDecision identity)
    {
        var lines = SplitLines(imagePasswd);
        string uid = identity.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!lines.Any(l => Field(l, 0) == user.Name || Field(l, 2) == uid))
        {
            lines.Add(string.Join(':', user.Name, "*", uid, identity.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                user.Gecos, identity.HomeDestination, "/bin/sh"));
        }
        return Join(lines);
    }

    /// <summary>Podman's keep-id: a <c>name:x:gid:name</c> line only when the image lacks the gid.</summary>
    public static string GroupIfMissing(string imageGroup, HostUser user, IdentityDecision identity)
    {
        var lines = SplitLines(imageGroup);
        string gid = identity.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!lines.Any(l => Field(l, 2) == gid))
        {
            lines.Add($"{user.Name}:x:{gid}:{user.Name}");
        }
        return Join(lines);
    }

    /// <summary>An existing line with the payload's uid is rewritten, else the caller's line is appended.</summary>
    public static string Passwd(string imagePasswd, HostUser user, IdentityDecision identity)
    {
        var lines = SplitLines(imagePasswd);
        string uid = identity.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int index = lines.FindIndex(l => Field(l, 2) == uid);
        if (index >= 0)
        {
            string[] f = lines[index].Split(':');
            // Root keeps the image's name and gecos; anyone else is named as on the host. gid and shell stay the image's.
            string name = identity.IsContainerRoot ? f[0] : user.Name;
            string gecos = identity.IsContainerRoot ? At(f, 4) : user.Gecos;
            lines[index] = string.Join(':', name, "x", uid, At(f, 3), gecos, identity.HomeDestination, At(f, 6));
        }
        else
        {
            lines.Add(string.Join(':', user.Name, "x", uid, identity.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                user.Gecos, identity.HomeDestination, user.Shell));
        }
        return Join(lines);
    }

    /// <summary>The payload's user name as the generated passwd will call it.</summary>
    public static string UserName(string? imagePasswd, HostUser user, IdentityDecision identity)
    {
        if (identity.IsContainerRoot && imagePasswd is not null)
        {
            string? line = SplitLines(imagePasswd).FirstOrDefault(l => Field(l, 2) == "0");
            if (line is not null)
            {
                return line.Split(':')[0];
            }
        }
        return user.Name;
    }

    /// <summary>
    /// Every group of the payload gets a line naming the user: an existing line with that gid gains the
    /// user as a member, else a line <c>name:x:gid:user</c> is appended (name from the host's group).
    /// </summary>
    public static string Group(string imageGroup, HostUser user, IdentityDecision identity, string userName)
    {
        var lines = SplitLines(imageGroup);
        IEnumerable<uint> gids = new[] { identity.Gid }.Concat(identity.SupplementaryGroups).Distinct();
        foreach (uint gid in gids)
        {
            string id = gid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int index = lines.FindIndex(l => Field(l, 2) == id);
            if (index >= 0)
            {
                string[] f = lines[index].Split(':');
                var members = At(f, 3).Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();
                if (!members.Contains(userName))
                {
                    members.Add(userName);
                }
                lines[index] = string.Join(':', f[0], At(f, 1), id, string.Join(',', members));
                continue;
            }
            string? name = user.Groups.FirstOrDefault(g => g.Gid == gid)?.Name;
            if (name is not null)
            {
                lines.Add($"{name}:x:{id}:{userName}");
            }
        }
        return Join(lines);
    }

    private static List<string> SplitLines(string text) =>
        text.Split('\n').Where(l => l.Length > 0).ToList();

    private static string Join(List<string> lines) => string.Join('\n', lines) + "\n";

    private static string? Field(string line, int index)
    {
        string[] f = line.Split(':');
        return f.Length > index ? f[index] : null;
    }

    private static string At(string[] fields, int index) => fields.Length > index ? fields[index] : "";
}
