using System.Text;

namespace Burrow.Core.Identity;

/// <summary>Reads /proc/self/mountinfo text (proc(5)) to tell whether a path lies on a nosuid mount.</summary>
public static class MountInfo
{
    /// <summary>
    /// True when the mount that holds <paramref name="path"/> (the longest matching mount point; the
    /// last one listed wins, as later mounts stack on earlier ones) has the per-mount nosuid flag.
    /// </summary>
    public static bool IsNoSuid(string mountInfo, string path)
    {
        string? bestPoint = null;
        bool bestNoSuid = false;
        foreach (string line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            if (f.Length < 6)
            {
                continue;
            }
            string point = Unescape(f[4]);
            if (!Holds(point, path) || (bestPoint is not null && point.Length < bestPoint.Length))
            {
                continue;
            }
            bestPoint = point;
            bestNoSuid = f[5].Split(',').Contains("nosuid");
        }
        return bestNoSuid;
    }

    private static bool Holds(string mountPoint, string path) =>
        mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);

    /// <summary>The kernel writes space, tab, newline and backslash in mount points as \ooo octal.</summary>
    private static string Unescape(string s)
    {
        if (!s.Contains('\\'))
        {
            return s;
        }
        var b = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1))
            {
                b.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                b.Append(s[i]);
            }
        }
        return b.ToString();
    }

    private static bool IsOctal(string s, int at) =>
        at + 3 <= s.Length && s.Substring(at, 3).All(c => c is >= '0' and <= '7');
}
