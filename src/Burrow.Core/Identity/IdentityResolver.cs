using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Core.Identity;

/// <summary>
/// Decides the maps and the payload's ids from the request, the caller and the subordinate id files.
/// Pure: everything it reads is passed in.
/// </summary>
public static class IdentityResolver
{
    public static IdentityDecision Resolve(IdentityRequest request, HostUser user, SubordinateIds subordinateIds)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(subordinateIds);

        if (request.FakeRoot || request.Security.Count > 0 || request.UserNs is not null
            || request.AddCaps.Count > 0 || request.DropCaps.Count > 0)
        {
            throw new BurrowException("identity options (--fakeroot, --security, --userns, --add-caps, --drop-caps) are not available in this build");
        }
        return Yourself(user);
    }

    /// <summary>Apptainer's default: one mapping of your own ids, no setgroups, no capabilities.</summary>
    private static IdentityDecision Yourself(HostUser user) => new()
    {
        Plan = new IdentityPlan
        {
            Mode = "default",
            UidMap = [new IdMapEntry(user.Uid, user.Uid, 1)],
            GidMap = [new IdMapEntry(user.Gid, user.Gid, 1)],
            AllowSetgroups = false,
            Writer = IdMapWriter.Direct,
            Explanation = ["default: you are yourself inside; only your own uid and gid are mapped, other owners show as nobody (65534)"],
        },
        Uid = user.Uid,
        Gid = user.Gid,
        // With setgroups denied the kernel keeps the caller's groups; the payload still reports them.
        SupplementaryGroups = user.Groups.Select(g => g.Gid).Where(g => g != user.Gid).ToArray(),
        Capabilities = CapabilitySets.None,
        HomeDestination = user.Home,
    };
}
