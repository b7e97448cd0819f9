namespace Burrow.Core.Identity;

/// <summary>The text of /etc/subuid and /etc/subgid as read by the engine (null when a file is missing).</summary>
public sealed record SubordinateIds(string? SubUid, string? SubGid)
{
    public static SubordinateIds None { get; } = new(null, null);
}
