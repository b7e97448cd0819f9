using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// One user bind, Apptainer's <c>-B src[:dst[:ro|rw]]</c>. The source is a host path (made absolute
/// against the caller's cwd); the destination is a container path and must be absolute when given.
/// <paramref name="Origin"/> says where it was asked for (--bind, --mount, BURROW_BIND, BURROW_BINDPATH).
/// </summary>
public sealed record BindSpec(string Source, string Destination, bool ReadOnly, string Given, string Origin = BindSpec.BindOption)
{
    public const string BindOption = "--bind";

    /// <summary>What a -B value may say after the destination (Apptainer's image-src and id bind from image files: not supported).</summary>
    private static readonly string[] s_options = ["ro", "rw"];

    /// <summary>
    /// Parses every -B value; each may be a comma list. As in Apptainer, <c>\,</c> is a comma and <c>\:</c> a colon
    /// inside a path, and a lone <c>ro</c>/<c>rw</c> after a comma is one more option of the bind before it
    /// (<c>-B /a:/b:ro,rw</c>).
    /// </summary>
    public static IReadOnlyList<BindSpec> ParseAll(IEnumerable<string> values, string hostCwd, string origin = BindOption)
    {
        var result = new List<BindSpec>();
        foreach (string value in values)
        {
            string? pending = null;
            foreach (string piece in SplitUnescaped(value, ','))
            {
                string item = piece.Trim();
                if (item.Length == 0)
                {
                    continue;
                }
                if (pending is not null && s_options.Contains(item) && SplitUnescaped(pending, ':').Count == 3)
                {
                    pending += "," + item;
                    continue;
                }
                if (pending is not null)
                {
                    result.Add(Parse(pending, hostCwd, origin));
                }
                pending = item;
            }
            if (pending is not null)
            {
                result.Add(Parse(pending, hostCwd, origin));
            }
        }
        return result;
    }

    public static BindSpec Parse(string given, string hostCwd, string origin = BindOption)
    {
        IReadOnlyList<string> parts = SplitUnescaped(given, ':');
        if (parts.Count > 3 || parts[0].Length == 0)
        {
            throw new BurrowException($"{origin} {given}: expected src[:dst[:ro|rw]]",
                "for example --bind /data:/mnt/data:ro (write \\: for a colon and \\, for a comma inside a path)");
        }
        string source = Path.GetFullPath(Unescape(parts[0]), hostCwd);
        string destination = parts.Count > 1 && parts[1].Length > 0 ? Unescape(parts[1]) : source;
        bool readOnly = false;
        if (parts.Count == 3)
        {
            foreach (string option in parts[2].Split(','))
            {
                if (option is "ro" or "rw")
                {
                    readOnly |= option == "ro"; // as Apptainer: ro anywhere in the options makes the bind read-only
                }
                else if (option.StartsWith("image-src", StringComparison.Ordinal) || option.StartsWith("id=", StringComparison.Ordinal))
                {
                    throw new BurrowException($"{origin} {given}: binding from inside an image file ({option}) is not supported",
                        "bind a host directory instead");
                }
                else
                {
                    throw new BurrowException($"{origin} {given}: unknown bind option '{option}'", "use ro or rw");
                }
            }
        }
        // The destination is checked by the planner (BindDestinationAbsolute) so every bad bind is reported the same way.
        return new BindSpec(source, NormalizeIfAbsolute(destination), readOnly, given, origin);
    }

    /// <summary>Splits at every <paramref name="separator"/> not preceded by a backslash; the escapes stay for <see cref="Unescape"/>.</summary>
    public static IReadOnlyList<string> SplitUnescaped(string value, char separator)
    {
        var parts = new List<string>();
        int start = 0;
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
                continue;
            }
            if (value[i] == separator)
            {
                parts.Add(value[start..i]);
                start = i + 1;
            }
        }
        parts.Add(value[start..]);
        return parts;
    }

    /// <summary><c>\,</c> and <c>\:</c> become the comma and colon they stand for; every other backslash stays.</summary>
    public static string Unescape(string value) =>
        value.Replace("\\,", ",", StringComparison.Ordinal).Replace("\\:", ":", StringComparison.Ordinal);

    /// <summary>Collapses "//", "." and ".." in an absolute container path without touching any file system.</summary>
    public static string NormalizeIfAbsolute(string path)
    {
        if (!path.StartsWith('/'))
        {
            return path;
        }
        var stack = new List<string>();
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                if (stack.Count > 0)
                {
                    stack.RemoveAt(stack.Count - 1);
                }
                continue;
            }
            stack.Add(part);
        }
        return "/" + string.Join('/', stack);
    }
}
