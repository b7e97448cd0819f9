namespace Burrow.Core.Identity;

/// <summary>The caller as the host sees them: read once by the engine, then handed to the pure planners.</summary>
public sealed record HostUser
{
    public required string Name { get; init; }
    public required uint Uid { get; init; }
    public required uint Gid { get; init; }

    /// <summary>Every group the caller is in (primary included), with names where the host has them.</summary>
    public required IReadOnlyList<HostGroup> Groups { get; init; }

    public required string Home { get; init; }
    public string Gecos { get; init; } = "";
    public string Shell { get; init; } = "/bin/sh";
}

public sealed record HostGroup(uint Gid, string? Name);
