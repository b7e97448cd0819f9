namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Apptainer's <c>-W/--workdir DIR</c> and <c>-S/--scratch</c>: with --contain, the container's /tmp, /var/tmp and
/// (unless --home is given) home are DIR/tmp, DIR/var_tmp and DIR/home instead of empty tmpfs, so what a job leaves
/// there stays on the host; each --scratch directory starts empty, in a tmpfs, or in DIR/scratch/… with --workdir.
/// Burrow makes these directories on first use, in DIR, which must exist.
/// </summary>
public static class Workdir
{
    public const string Option = "--workdir";
    public const string ScratchOption = "--scratch";

    /// <summary>Modes as Apptainer makes them: tmp and var_tmp sticky and world-writable, home 0700, scratch 0750.</summary>
    public const int TmpMode = 0x3ff, HomeMode = 0x1c0, ScratchMode = 0x1e8;

    /// <summary>DIR made absolute against the caller's working directory, or null without --workdir.</summary>
    public static string? Resolve(ActionRequest request, string hostCwd)
    {
        if (request.Workdir is not { Length: > 0 } dir)
        {
            return null;
        }
        string full = Path.GetFullPath(dir, hostCwd);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    public static string Tmp(string workdir) => Join(workdir, "tmp");

    public static string VarTmp(string workdir) => Join(workdir, "var_tmp");

    public static string Home(string workdir) => Join(workdir, "home");

    /// <summary>DIR/scratch followed by the container path: --scratch /data/x is DIR/scratch/data/x.</summary>
    public static string Scratch(string workdir, string containerDirectory) => Join(workdir, "scratch") + BindSpec.NormalizeIfAbsolute(containerDirectory);

    /// <summary>Every --scratch directory (comma lists split), normalized; relative ones are kept for the check that refuses them.</summary>
    public static IReadOnlyList<string> ScratchDirectories(ActionRequest request) =>
        request.Scratch.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(BindSpec.NormalizeIfAbsolute)
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    private static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;
}
