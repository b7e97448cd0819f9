using System.Globalization;
using Burrow.Linux;

namespace Burrow.Core.Config;

/// <summary>
/// The configuration's cache-dir and temp-dir, set once by the CLI when it has read the configuration (as the log
/// level is), for the code that makes caches and temporary directories. The user's own variables still win
/// ($BURROW_CACHEDIR, $BURROW_TMPDIR): they are the user's files. $USER, $UID and $HOME in the values are expanded.
/// </summary>
public static class ConfiguredDirectories
{
    public const string TempVariable = "BURROW_TMPDIR";

    /// <summary>The configuration's cache directory, expanded; null: the default.</summary>
    public static string? Cache { get; private set; }

    /// <summary>The configuration's temporary directory, expanded; null: the default.</summary>
    public static string? Temp { get; private set; }

    public static void Apply(BurrowConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Cache = config.CacheDir is { } cache ? Expand(cache) : null;
        Temp = config.TempDir is { } temp ? Expand(temp) : null;
        Runtime.ExecutableSearch.BinaryPath = config.BinaryPath;
    }

    /// <summary>Where temporary sandboxes and downloads go: $BURROW_TMPDIR, else temp-dir, else $TMPDIR, else /tmp.</summary>
    public static string TempRoot() =>
        Environment.GetEnvironmentVariable(TempVariable) is { Length: > 0 } own ? Path.GetFullPath(own) : Temp ?? Path.GetTempPath();

    /// <summary>" (BURROW_TMPDIR)", " (temp-dir in burrow.conf)", " (TMPDIR)" or "": for messages about the temporary directory.</summary>
    public static string TempRootChosenBy() =>
        Environment.GetEnvironmentVariable(TempVariable) is { Length: > 0 } ? $" ({TempVariable})"
        : Temp is not null ? " (temp-dir in burrow.conf)"
        : Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } ? " (TMPDIR)" : "";

    /// <summary>$USER, $UID and $HOME, so that one value gives every user a directory of their own.</summary>
    public static string Expand(string value)
    {
        string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : "/";
        return value
            .Replace("$HOME", home.TrimEnd('/'), StringComparison.Ordinal)
            .Replace("$USER", Environment.UserName, StringComparison.Ordinal)
            .Replace("$UID", ProcessSecurity.Uid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
