namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// <c>--no-mount LIST</c> (Apptainer's): the default mounts to leave out. proc, sys, dev, devpts (the new pseudo-terminal
/// instance of a contained /dev), home, tmp (/tmp and /var/tmp), hostfs (Burrow mounts no host file systems anyway),
/// cwd, bind-paths (burrow.conf's bind-path entries: by default the host's /etc/hosts and /etc/localtime), or the
/// absolute container path of one of the host files Burrow binds (/etc/hosts, /etc/localtime, /etc/resolv.conf, a
/// bind-path destination).
/// </summary>
public sealed record NoMountSet(IReadOnlySet<string> Names, IReadOnlySet<string> Paths, IReadOnlyList<string> Unknown)
{
    public const string Option = "--no-mount";

    private static readonly string[] s_names = ["proc", "sys", "dev", "devpts", "home", "tmp", "hostfs", "cwd", "bind-paths"];

    public static NoMountSet Parse(IEnumerable<string> values)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (string item in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (s_names.Contains(item))
            {
                names.Add(item);
            }
            else if (item.StartsWith('/'))
            {
                paths.Add(BindSpec.NormalizeIfAbsolute(item));
            }
            else
            {
                unknown.Add(item);
            }
        }
        return new NoMountSet(names, paths, unknown);
    }

    public bool Proc => Names.Contains("proc");
    public bool Sys => Names.Contains("sys");
    public bool Dev => Names.Contains("dev");
    public bool DevPts => Names.Contains("devpts");
    public bool Home => Names.Contains("home");
    public bool Tmp => Names.Contains("tmp");
    public bool Cwd => Names.Contains("cwd");
    public bool BindPaths => Names.Contains("bind-paths");

    /// <summary>Whether the host file bound at <paramref name="target"/> stays out (by its path, or as a "bind path" entry).</summary>
    public bool SkipsHostFile(string target) =>
        Paths.Contains(target) || (BindPaths && target is "/etc/hosts" or "/etc/localtime");
}
