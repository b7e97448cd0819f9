using Burrow.Linux;

namespace Burrow.Core.Runtime;

/// <summary>
/// Finds the host helpers Burrow runs (squashfuse_ll, unsquashfs, tar2sqfs, newuidmap…) the way a shell would, in
/// burrow.conf's <c>binary-path</c>: a colon list of absolute directories in which <c>$PATH</c> stands for the caller's PATH.
/// </summary>
public static class ExecutableSearch
{
    /// <summary>binary-path, set once by the CLI from the configuration; the default searches $PATH, then the standard places
    /// (a cron job or a batch system may run burrow with a minimal PATH).</summary>
    public static string BinaryPath { get; set; } = Config.BurrowConfig.DefaultBinaryPath;

    /// <summary>The directories searched, in order: binary-path with $PATH expanded, relative entries dropped.</summary>
    public static IReadOnlyList<string> Directories()
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var dirs = new List<string>();
        foreach (string entry in BinaryPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            IEnumerable<string> expanded = entry == "$PATH" ? path.Split(':', StringSplitOptions.RemoveEmptyEntries) : [entry];
            // A relative PATH entry would make the helper depend on the working directory.
            dirs.AddRange(expanded.Where(d => d.StartsWith('/') && !dirs.Contains(d)));
        }
        return dirs;
    }

    /// <summary>
    /// <see cref="OnPath"/>, or a BurrowException naming the directories searched (binary-path, with $PATH expanded)
    /// and the Debian package that has the program: a helper missing from binary-path is never looked up elsewhere.
    /// </summary>
    public static string Require(string name, string package, string purpose) =>
        OnPath(name) ?? throw new Diagnostics.BurrowException(
            $"{name} (needed for {purpose}) is not in binary-path ({string.Join(":", Directories())})",
            $"install {package} (apt install {package}), or add its directory to binary-path in burrow.conf (burrow config show prints it)");

    /// <summary>The first executable regular file called <paramref name="name"/> in <see cref="Directories"/>, or null.</summary>
    public static string? OnPath(string name)
    {
        foreach (string dir in Directories())
        {
            string candidate = Path.Combine(dir, name);
            try
            {
                if (FileStatus.OfPath(candidate) is { Kind: FileKind.Regular } st && (st.Permissions & 0x49) != 0)
                {
                    return candidate;
                }
            }
            catch (LinuxException)
            {
                // An unreadable directory is skipped, as a shell skips it.
            }
        }
        return null;
    }
}
