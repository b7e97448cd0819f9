using System.Globalization;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Identity;

/// <summary>What --security asked for: the payload's uid, gid and extra groups; null when not given.</summary>
public sealed record SecurityIds(uint? Uid, uint? Gid, IReadOnlyList<uint> ExtraGroups)
{
    public static SecurityIds None { get; } = new(null, null, []);

    public bool Any => Uid is not null || Gid is not null;
}

/// <summary>
/// Parses Apptainer's --security values: <c>uid:N</c>, <c>gid:G1[:G2…]</c>, each split at its first
/// colon. seccomp:FILE is the action options' (it never reaches here); apparmor: and selinux: are recognised and refused by name.
/// </summary>
public static class SecurityOption
{
    public static SecurityIds Parse(IReadOnlyList<string> values)
    {
        uint? uid = null;
        uint? gid = null;
        var extra = new List<uint>();
        foreach (string raw in values)
        {
            string value = raw.Trim();
            int colon = value.IndexOf(':');
            if (colon < 0)
            {
                throw Bad(value, $"'{value}' is not key:value", "use uid:N or gid:N[:G2…], e.g. --security uid:3210,gid:3210");
            }
            string key = value[..colon].Trim().ToLowerInvariant();
            string rest = value[(colon + 1)..];
            switch (key)
            {
                case "seccomp":
                    continue; // a profile for the payload's filter: the action options read it, the identity has nothing to do with it
                case "uid":
                    uint u = ParseId(value, rest, "uid");
                    if (uid is not null && uid != u)
                    {
                        throw Bad(value, $"uid given twice ({uid} and {u})", "give one uid:N");
                    }
                    uid = u;
                    break;
                case "gid":
                    string[] parts = rest.Split(':');
                    uint g = ParseId(value, parts[0], "gid");
                    if (gid is not null && gid != g)
                    {
                        throw Bad(value, $"gid given twice ({gid} and {g})", "give one gid:G1[:G2…], the first being the primary group");
                    }
                    gid = g;
                    foreach (string p in parts.Skip(1))
                    {
                        uint x = ParseId(value, p, "group");
                        if (x != g && !extra.Contains(x))
                        {
                            extra.Add(x);
                        }
                    }
                    break;
                case "apparmor":
                case "selinux":
                    throw Bad(value, $"{key} profiles are not supported by Burrow", "Burrow's --security takes uid:N, gid:N[:G2…] and seccomp:FILE");
                default:
                    throw Bad(value, $"unknown key '{key}'", "Burrow's --security takes uid:N, gid:N[:G2…] and seccomp:FILE");
            }
        }
        // A supplementary group equal to the primary one is the primary one.
        extra.RemoveAll(x => x == gid);
        return new SecurityIds(uid, gid, extra);
    }

    private static uint ParseId(string whole, string text, string what)
    {
        string t = text.Trim();
        if (t.Length == 0)
        {
            throw Bad(whole, $"the {what} is missing", $"give a number, e.g. --security {(what == "uid" ? "uid:3210" : "gid:3210")}");
        }
        if (!uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) || id == uint.MaxValue)
        {
            throw Bad(whole, $"'{t}' is not a valid {what} (a number from 0 to 4294967294)", null);
        }
        return id;
    }

    private static BurrowException Bad(string value, string problem, string? hint) =>
        new($"--security {value}: {problem}", hint, ExitCodes.Usage);
}
