using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Config;

/// <summary>The configuration in force and how it was chosen, for <c>burrow config show</c> and <c>burrow version</c>.</summary>
public sealed record LoadedConfig(BurrowConfig Config, string Path, bool Exists, string ChosenBy);

/// <summary>
/// Finds, checks and reads the configuration, once per command, at the edge. The installation's own file applies
/// unless the caller names another with <c>--config FILE</c> or <c>BURROW_CONFIG</c>, which only root may do on an
/// installation root made: everyone else runs under the administrator's file there. On an installation a user made,
/// the user chooses — such a configuration binds only the copy it belongs to (anyone can install a copy of their own),
/// so it is the administrator's policy for that installation, not a security boundary.
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentVariable = "BURROW_CONFIG";

    /// <param name="option">The --config value, or null.</param>
    /// <param name="environment">$BURROW_CONFIG, or null.</param>
    /// <param name="callerUid">The real uid of the caller.</param>
    public static LoadedConfig Load(Installation installation, string? option, string? environment, uint callerUid)
    {
        ArgumentNullException.ThrowIfNull(installation);
        (string? chosen, string by) = option is { Length: > 0 } ? (option, "--config")
            : environment is { Length: > 0 } ? (environment, EnvironmentVariable)
            : ((string?)null, "installation");
        if (chosen is not null && callerUid != 0 && installation.InstalledByRoot)
        {
            throw new BurrowException(
                $"{by} {chosen}: only root may choose the configuration of this installation ({installation.Prefix} was installed by root)",
                $"its configuration is {installation.ConfigFile}; leave {by} out (on an installation of your own, scripts/install --prefix DIR, you choose)");
        }
        string path = chosen is null ? installation.ConfigFile : System.IO.Path.GetFullPath(chosen);
        BurrowConfig defaults = BurrowConfig.Default with { EclFile = installation.DefaultEclFile };
        string? text = Read(path, installation.InstalledByRoot, required: chosen is not null, by, "configuration");
        BurrowConfig config = text is null ? defaults : ConfigParser.Parse(text, path, defaults);
        if (!config.EclFile.StartsWith('/'))
        {
            config = config with { EclFile = System.IO.Path.GetFullPath(config.EclFile, System.IO.Path.GetDirectoryName(path)!) };
        }
        // The execution control list is policy as the configuration is: the same ownership rules, checked here; its
        // rules are read and enforced by ExecutionControl (src/Burrow.Core/Trust). Absent: nothing to enforce.
        _ = Read(config.EclFile, installation.InstalledByRoot, required: false, "ecl-file", "execution control list");
        return new LoadedConfig(config, path, Exists: text is not null, by);
    }

    /// <summary>The file's text, checked on the opened file itself (no window between the check and the read); null when it does not exist and need not.</summary>
    private static string? Read(string path, bool installedByRoot, bool required, string by, string what)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (FileNotFoundException) when (!required)
        {
            return null;
        }
        catch (DirectoryNotFoundException) when (!required)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "no such file"
                : e is UnauthorizedAccessException ? "permission denied" : e.Message;
            throw new BurrowException($"cannot read the {what} {path}{(required ? $" ({by})" : "")}: {why}",
                required ? $"give the path of a burrow.conf to {by}" : "make it readable by everyone (chmod a+r), as the shipped file is");
        }
        using (handle)
        {
            FileStatus status = FileStatus.Of(handle, path);
            ConfigFileRules.Check(path, status, ConfigFileRules.IsSystem(path, status, installedByRoot), what);
            if (status.Size > ConfigParser.MaxBytes)
            {
                throw new BurrowException($"the {what} {path} is larger than {ConfigParser.MaxBytes} bytes: it is not a TOML file of Burrow's");
            }
            byte[] bytes = FileDescriptors.ReadAll(handle, ConfigParser.MaxBytes, path);
            try
            {
                return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new BurrowException($"the {what} {path} is not UTF-8 text", "TOML files are UTF-8");
            }
        }
    }
}
