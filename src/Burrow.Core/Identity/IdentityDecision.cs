using Burrow.Core.Runtime;

namespace Burrow.Core.Identity;

/// <summary>
/// The identity a container gets: the namespace maps and who the payload is inside. The runtime
/// planner copies it into the launch plan and uses <see cref="IsContainerRoot"/> and
/// <see cref="HomeDestination"/> for the home bind and the passwd/group files.
/// </summary>
public sealed record IdentityDecision
{
    public required IdentityPlan Plan { get; init; }

    /// <summary>Container-side ids of the payload.</summary>
    public required uint Uid { get; init; }
    public required uint Gid { get; init; }
    public required IReadOnlyList<uint> SupplementaryGroups { get; init; }

    public required CapabilitySets Capabilities { get; init; }

    /// <summary>True when the payload is uid 0 in its namespace (fakeroot, auto, keep-id as 0).</summary>
    public bool IsContainerRoot => Uid == 0;

    /// <summary>Where the host home is bound in the container: the host path, or /root for the root modes.</summary>
    public required string HomeDestination { get; init; }

    /// <summary>Visible warnings (security fallbacks are never silent).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
