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

    /// <summary>Which /etc/passwd and /etc/group entries the planner adds for this identity.</summary>
    public AccountEntries AccountEntries { get; init; } = AccountEntries.Caller;

    /// <summary>Visible warnings (security fallbacks are never silent).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>How the planner writes /etc/passwd and /etc/group for an identity.</summary>
public enum AccountEntries
{
    /// <summary>Apptainer's default: the caller's passwd line (the image's line with that uid rewritten, else appended) and a group line per host group.</summary>
    Caller,

    /// <summary>
    /// Podman's keep-id: append <c>name:*:uid:gid:gecos:home:/bin/sh</c> only when the image has neither
    /// the caller's name nor uid, and <c>name:x:gid:name</c> only when it lacks the gid (the image's own lines are kept).
    /// </summary>
    CallerIfMissing,

    /// <summary>The image's files as they are: the root modes (root is in the image) and --security (the ids need no names).</summary>
    Image,
}
