using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Config;

/// <summary>
/// Who may own a configuration file. A system configuration — under /etc, owned by root, or the configuration of an
/// installation root made — must be root's and writable by nobody else (Apptainer's rule for apptainer.conf and
/// ecl.toml), or any user who can write it could lift the administrator's limits. Any other configuration belongs to
/// whoever installed that copy, but one that anybody may write is refused too.
/// </summary>
public static class ConfigFileRules
{
    private const uint GroupWrite = 0x10, OtherWrite = 0x02;

    /// <summary>True when the file must be root's: under /etc, owned by root, or belonging to a root-made installation.</summary>
    public static bool IsSystem(string path, FileStatus status, bool installedByRoot) =>
        status.Uid == 0 || installedByRoot || path.StartsWith("/etc/", StringComparison.Ordinal);

    /// <summary>Throws when <paramref name="status"/> (of the opened file) breaks the rules; <paramref name="what"/> names it, e.g. "configuration".</summary>
    public static void Check(string path, FileStatus status, bool system, string what = "configuration")
    {
        ArgumentNullException.ThrowIfNull(status);
        if (status.Kind != FileKind.Regular)
        {
            throw new BurrowException($"{what} {path} is not a regular file", "point it at a TOML file");
        }
        string mode = Convert.ToString(status.Permissions & 0x1ff, 8).PadLeft(4, '0');
        if (system && (status.Uid != 0 || (status.Permissions & (GroupWrite | OtherWrite)) != 0))
        {
            throw new BurrowException(
                $"{what} {path} must be owned by root and not writable by group or others (it is owned by uid {status.Uid.ToString(CultureInfo.InvariantCulture)}, mode {mode}): refusing to run",
                $"as root: chown root:root {path} && chmod go-w {path}");
        }
        if ((status.Permissions & OtherWrite) != 0)
        {
            throw new BurrowException($"{what} {path} is writable by anyone (mode {mode}): refusing to run", $"chmod o-w {path}");
        }
    }
}
