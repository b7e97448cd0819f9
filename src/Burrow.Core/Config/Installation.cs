using Burrow.Core.Runtime;
using Burrow.Linux;

namespace Burrow.Core.Config;

/// <summary>
/// The installation the running burrow belongs to: its prefix (found from the binary, so that the tree can be moved),
/// where its configuration lives, and whether root installed it. An installation under <c>/usr</c> (a distribution's
/// package) keeps its configuration in <c>/etc/burrow</c>; any other keeps it in <c>PREFIX/etc/burrow</c>.
/// </summary>
public sealed record Installation(string Prefix, string ConfigDirectory, bool InstalledByRoot)
{
    public const string ConfigFileName = "burrow.conf";
    public const string EclFileName = "ecl.toml";

    /// <summary>The installation's own configuration file (it need not exist: then every key has its default).</summary>
    public string ConfigFile => Path.Combine(ConfigDirectory, ConfigFileName);

    /// <summary>The execution control list when the configuration names none.</summary>
    public string DefaultEclFile => Path.Combine(ConfigDirectory, EclFileName);

    /// <summary>/etc/burrow for a system prefix (/usr, /), PREFIX/etc/burrow for every other.</summary>
    public static string ConfigDirectoryFor(string prefix) =>
        prefix is "/usr" or "/" ? "/etc/burrow" : Path.Combine(prefix, "etc", "burrow");

    public static Installation Detect(RuntimePaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        bool byRoot;
        try
        {
            byRoot = FileStatus.OfPath(paths.Self) is { Uid: 0 };
        }
        catch (LinuxException)
        {
            byRoot = true; // cannot tell: the stricter reading
        }
        return new Installation(paths.Prefix, paths.ConfigDir, byRoot);
    }
}
