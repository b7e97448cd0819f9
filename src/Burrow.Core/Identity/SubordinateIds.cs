namespace Burrow.Core.Identity;

/// <summary>The text of /etc/subuid and /etc/subgid as read by the engine (null when a file is missing).</summary>
public sealed record SubordinateIds(string? SubUid, string? SubGid)
{
    public const string SubUidFile = "/etc/subuid";
    public const string SubGidFile = "/etc/subgid";

    /// <summary>
    /// Test and diagnosis hooks: read these files instead of /etc/subuid and /etc/subgid. They change only
    /// which maps Burrow asks for; newuidmap/newgidmap still check every range against the real files.
    /// </summary>
    public const string SubUidVariable = "BURROW_SUBUID_FILE";
    public const string SubGidVariable = "BURROW_SUBGID_FILE";

    public static SubordinateIds None { get; } = new(null, null);

    /// <summary>Where the texts came from, for messages.</summary>
    public string SubUidPath { get; init; } = SubUidFile;
    public string SubGidPath { get; init; } = SubGidFile;

    /// <summary>Reads both files (engine side, I/O), honouring <see cref="SubUidVariable"/> and <see cref="SubGidVariable"/>.</summary>
    public static SubordinateIds ReadFromHost()
    {
        string uidPath = Environment.GetEnvironmentVariable(SubUidVariable) is { Length: > 0 } u ? u : SubUidFile;
        string gidPath = Environment.GetEnvironmentVariable(SubGidVariable) is { Length: > 0 } g ? g : SubGidFile;
        return new SubordinateIds(ReadIfExists(uidPath), ReadIfExists(gidPath)) { SubUidPath = uidPath, SubGidPath = gidPath };
    }

    private static string? ReadIfExists(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Diagnostics.BurrowException($"cannot read {path}: {e.Message}",
                "the subordinate id files must be readable by everyone (mode 0644), as shadow installs them");
        }
    }
}
