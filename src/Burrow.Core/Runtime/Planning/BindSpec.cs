using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// One user bind, Apptainer's <c>-B src[:dst[:ro|rw]]</c>. The source is a host path (made absolute
/// against the caller's cwd); the destination is a container path and must be absolute when given.
/// </summary>
public sealed record BindSpec(string Source, string Destination, bool ReadOnly, string Given)
{
    /// <summary>Parses every -B value; each may be a comma list.</summary>
    public static IReadOnlyList<BindSpec> ParseAll(IEnumerable<string> values, string hostCwd)
    {
        var result = new List<BindSpec>();
        foreach (string value in values)
        {
            foreach (string item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                result.Add(Parse(item, hostCwd));
            }
        }
        return result;
    }

    public static BindSpec Parse(string given, string hostCwd)
    {
        string[] parts = given.Split(':');
        if (parts.Length > 3 || parts[0].Length == 0)
        {
            throw new BurrowException($"--bind {given}: expected src[:dst[:ro|rw]]", "for example --bind /data:/mnt/data:ro");
        }
        string source = Path.GetFullPath(parts[0], hostCwd);
        string destination = parts.Length > 1 && parts[1].Length > 0 ? parts[1] : source;
        bool readOnly = false;
        if (parts.Length == 3)
        {
            readOnly = parts[2] switch
            {
                "ro" => true,
                "rw" => false,
                _ => throw new BurrowException($"--bind {given}: unknown bind option '{parts[2]}'", "use ro or rw"),
            };
        }
        // The destination is checked by the planner (BindDestinationAbsolute) so every bad bind is reported the same way.
        return new BindSpec(source, NormalizeIfAbsolute(destination), readOnly, given);
    }

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
