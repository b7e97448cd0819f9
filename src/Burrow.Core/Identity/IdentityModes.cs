using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Core.Identity;

/// <summary>One builder per row of DESIGN.md's identity table. Capabilities are filled in by the resolver.</summary>
internal static class IdentityModes
{
    public const string DefaultMode = "default";
    public const string SecurityMode = "security";
    public const string FakeRootMode = "fakeroot";
    public const string KeepIdMode = "keep-id";
    public const string AutoMode = "auto";

    private const string RootHome = "/root";

    /// <summary>Apptainer's default: one mapping of your own ids, no setgroups, no capabilities.</summary>
    public static IdentityDecision Yourself(HostUser user) => new()
    {
        Plan = new IdentityPlan
        {
            Mode = DefaultMode,
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

    /// <summary>
    /// --security uid:X,gid:Y: your own ids appear as X and Y (one mapping each, written directly).
    /// Extra groups need setgroups, which the kernel allows only with maps written by newgidmap,
    /// so they take one subordinate gid each.
    /// </summary>
    public static IdentityDecision Security(HostUser user, SecurityIds ids, SubordinateIdEntries? subGid)
    {
        uint uid = ids.Uid ?? user.Uid;
        uint gid = ids.Gid ?? user.Gid;
        var explanation = new List<string>
        {
            $"--security: your uid {user.Uid} appears as {uid} and your gid {user.Gid} as {gid}; only they are mapped, other owners show as nobody (65534)",
        };
        IReadOnlyList<IdMapEntry> gidMap = [new IdMapEntry(gid, user.Gid, 1)];
        IdMapWriter writer = IdMapWriter.Direct;
        if (ids.ExtraGroups.Count > 0)
        {
            IReadOnlyList<SubordinateRange> ranges = SubordinateRangeSelector.ForUserNamespace(subGid!, user.Name, user.Gid, "--security gid:G1:G2…")
                ?? throw new BurrowException(
                    $"--security supplementary groups ({string.Join(":", ids.ExtraGroups)}) need a range in /etc/subgid, and {user.Name} has none",
                    "the kernel allows setgroups only when newgidmap writes the map; ask the administrator for a range, or give only gid:G");
            if (IdMaps.Total(ranges) < ids.ExtraGroups.Count)
            {
                throw new BurrowException($"--security: {ids.ExtraGroups.Count} supplementary groups need as many subordinate gids, /etc/subgid gives {user.Name} {IdMaps.Total(ranges)}");
            }
            // Container gid G_k <- intermediate k (the k-th subordinate gid); G <- intermediate 0 (you).
            var outer = new List<IdMapEntry> { new(gid, 0, 1) };
            outer.AddRange(ids.ExtraGroups.Select((g, k) => new IdMapEntry(g, (uint)k + 1, 1)));
            gidMap = IdMaps.Compose(outer.OrderBy(e => e.ContainerId).ToArray(), IdMaps.Intermediate(user.Gid, ranges));
            writer = IdMapWriter.SubordinateHelper;
            explanation.Add($"supplementary groups {string.Join(",", ids.ExtraGroups)} are backed by your /etc/subgid range {string.Join(", ", ranges)} (newgidmap writes the maps so that setgroups is allowed)");
        }
        return new IdentityDecision
        {
            Plan = new IdentityPlan
            {
                Mode = SecurityMode,
                UidMap = [new IdMapEntry(uid, user.Uid, 1)],
                GidMap = gidMap,
                AllowSetgroups = writer == IdMapWriter.SubordinateHelper,
                Writer = writer,
                Explanation = explanation,
            },
            Uid = uid,
            Gid = gid,
            // As initgroups does, the primary group is in the list too (setgroups replaces the whole list).
            SupplementaryGroups = ids.ExtraGroups.Count > 0 ? [gid, .. ids.ExtraGroups] : [],
            Capabilities = CapabilitySets.None,
            HomeDestination = user.Home,
            AccountEntries = AccountEntries.Image,
        };
    }

    /// <summary>Apptainer's --fakeroot: 0 → you, 1… → one subordinate range; without a range only root, with a warning.</summary>
    public static IdentityDecision FakeRoot(HostUser user, SubordinateIdEntries subUid, SubordinateIdEntries subGid)
    {
        SubordinateRange? uidRange = SubordinateRangeSelector.ForFakeRoot(subUid, user.Name, user.Uid);
        SubordinateRange? gidRange = SubordinateRangeSelector.ForFakeRoot(subGid, user.Name, user.Gid);
        if (uidRange is null && gidRange is null)
        {
            string warning = $"--fakeroot: {user.Name} has no range in /etc/subuid and /etc/subgid, so only root is mapped (to you, uid {user.Uid}): " +
                "chown to any other id fails with 'Invalid argument' and files owned by other ids show as nobody (65534); " +
                "ask the administrator for a 65536-id range to get the full mapping";
            return RootOnly(user, FakeRootMode, warning);
        }
        RequireBoth(user, "--fakeroot", subUid, subGid, uidRange is not null);

        return new IdentityDecision
        {
            Plan = new IdentityPlan
            {
                Mode = FakeRootMode,
                UidMap = IdMaps.Compose(IdMaps.RootThenRange(uidRange!.Count), IdMaps.Intermediate(user.Uid, [uidRange])),
                GidMap = IdMaps.Compose(IdMaps.RootThenRange(gidRange!.Count), IdMaps.Intermediate(user.Gid, [gidRange])),
                AllowSetgroups = true,
                Writer = IdMapWriter.SubordinateHelper,
                Explanation =
                [
                    $"--fakeroot: root in the container is you (uid {user.Uid}, gid {user.Gid}); ids 1… are your subordinate ranges, written by newuidmap/newgidmap",
                    $"{subUid.FileName} line {uidRange.Line} ({uidRange}) and {subGid.FileName} line {gidRange.Line} ({gidRange}) chosen as Apptainer does: a range of exactly 65536 first, else the largest larger one",
                ],
            },
            Uid = 0,
            Gid = 0,
            // setgroups is allowed here, so the stage sets the list: root's own group, as a root login has.
            SupplementaryGroups = [0],
            Capabilities = CapabilitySets.None,
            HomeDestination = RootHome,
            AccountEntries = AccountEntries.Image,
        };
    }

    /// <summary>Podman's keep-id: you keep your ids (or take uid=/gid=), the whole subordinate range fills the ids around them.</summary>
    public static IdentityDecision KeepId(HostUser user, UserNsRequest request, SubordinateIdEntries subUid, SubordinateIdEntries subGid)
    {
        const string mode = "--userns=keep-id";
        uint uid = request.Uid ?? user.Uid;
        uint gid = request.Gid ?? user.Gid;
        bool named = request.Uid is null && request.Gid is null;
        IReadOnlyList<SubordinateRange>? uidRanges = SubordinateRangeSelector.ForUserNamespace(subUid, user.Name, user.Uid, mode);
        IReadOnlyList<SubordinateRange>? gidRanges = SubordinateRangeSelector.ForUserNamespace(subGid, user.Name, user.Gid, mode);
        string home = uid == 0 ? RootHome : user.Home;
        AccountEntries accounts = named ? AccountEntries.CallerIfMissing : AccountEntries.Image;
        if (uidRanges is null && gidRanges is null)
        {
            string warning = $"{mode}: {user.Name} has no range in /etc/subuid and /etc/subgid, so only your own ids are mapped (as {uid}:{gid}); " +
                "files owned by other ids show as nobody (65534). Ask the administrator for a range to get Podman's full keep-id mapping";
            return new IdentityDecision
            {
                Plan = new IdentityPlan
                {
                    Mode = KeepIdMode,
                    UidMap = [new IdMapEntry(uid, user.Uid, 1)],
                    GidMap = [new IdMapEntry(gid, user.Gid, 1)],
                    AllowSetgroups = false,
                    Writer = IdMapWriter.Direct,
                    Explanation = [$"{mode} without subordinate ranges: a single mapping of your own ids, as Podman does"],
                },
                Uid = uid,
                Gid = gid,
                SupplementaryGroups = [],
                Capabilities = CapabilitySets.None,
                HomeDestination = home,
                AccountEntries = accounts,
                Warnings = [warning],
            };
        }
        RequireBoth(user, mode, subUid, subGid, uidRanges is not null);
        uint maxUid = NamespaceLimit(mode, request.Size, IdMaps.Total(uidRanges!), subUid.FileName);
        uint maxGid = NamespaceLimit(mode, request.Size, IdMaps.Total(gidRanges!), subGid.FileName);

        return new IdentityDecision
        {
            Plan = new IdentityPlan
            {
                Mode = KeepIdMode,
                UidMap = IdMaps.Compose(IdMaps.KeepId(uid, maxUid), IdMaps.Intermediate(user.Uid, uidRanges!)),
                GidMap = IdMaps.Compose(IdMaps.KeepId(gid, maxGid), IdMaps.Intermediate(user.Gid, gidRanges!)),
                AllowSetgroups = true,
                Writer = IdMapWriter.SubordinateHelper,
                Explanation =
                [
                    $"{mode}: your uid {user.Uid} appears as {uid} and your gid {user.Gid} as {gid}; the other container ids up to {maxUid} (uids) and {maxGid} (gids) come from your subordinate ranges",
                    $"Podman's formula: 0…{uid}-1 → the range's start, {uid} → you, {uid}+1… → start+{uid}…; {subUid.FileName} {string.Join(", ", uidRanges!)}, {subGid.FileName} {string.Join(", ", gidRanges!)}",
                    named ? "passwd/group: your entries are added only if the image lacks them, as Podman does"
                          : "passwd/group: the image's own (uid=/gid= given, as Podman does)",
                ],
            },
            Uid = uid,
            Gid = gid,
            // The host's other groups are not mapped here; the payload keeps only its own group, as in Podman.
            SupplementaryGroups = [gid],
            Capabilities = CapabilitySets.None,
            HomeDestination = home,
            AccountEntries = accounts,
        };
    }

    /// <summary>Podman's rootless default: root is you, 1… the whole subordinate range (or size-1 of it).</summary>
    public static IdentityDecision Auto(HostUser user, UserNsRequest request, SubordinateIdEntries subUid, SubordinateIdEntries subGid)
    {
        const string mode = "--userns=auto";
        IReadOnlyList<SubordinateRange>? uidRanges = SubordinateRangeSelector.ForUserNamespace(subUid, user.Name, user.Uid, mode);
        IReadOnlyList<SubordinateRange>? gidRanges = SubordinateRangeSelector.ForUserNamespace(subGid, user.Name, user.Gid, mode);
        if (uidRanges is null && gidRanges is null)
        {
            throw new BurrowException(
                $"{mode} needs a range in /etc/subuid and /etc/subgid, and {user.Name} has none",
                "ask the administrator for a range, or use --fakeroot, which maps only root (with a warning) when there is none");
        }
        RequireBoth(user, mode, subUid, subGid, uidRanges is not null);
        uint uidCount = NamespaceLimit(mode, request.Size, IdMaps.Total(uidRanges!), subUid.FileName);
        uint gidCount = NamespaceLimit(mode, request.Size, IdMaps.Total(gidRanges!), subGid.FileName);

        return new IdentityDecision
        {
            Plan = new IdentityPlan
            {
                Mode = AutoMode,
                UidMap = IdMaps.Compose(IdMaps.RootThenRange(uidCount), IdMaps.Intermediate(user.Uid, uidRanges!)),
                GidMap = IdMaps.Compose(IdMaps.RootThenRange(gidCount), IdMaps.Intermediate(user.Gid, gidRanges!)),
                AllowSetgroups = true,
                Writer = IdMapWriter.SubordinateHelper,
                Explanation =
                [
                    $"{mode}: root in the container is you (uid {user.Uid}, gid {user.Gid}); ids 1…{uidCount} (uids) and 1…{gidCount} (gids) come from your subordinate ranges",
                    request.Size is { } size
                        ? $"size={size}: the namespace holds {size} ids"
                        : $"no size=: every subordinate id you have ({subUid.FileName} {string.Join(", ", uidRanges!)}, {subGid.FileName} {string.Join(", ", gidRanges!)})",
                ],
            },
            Uid = 0,
            Gid = 0,
            SupplementaryGroups = [0],
            Capabilities = CapabilitySets.None,
            HomeDestination = RootHome,
            AccountEntries = AccountEntries.Image,
        };
    }

    private static IdentityDecision RootOnly(HostUser user, string mode, string warning) => new()
    {
        Plan = new IdentityPlan
        {
            Mode = mode,
            UidMap = [new IdMapEntry(0, user.Uid, 1)],
            GidMap = [new IdMapEntry(0, user.Gid, 1)],
            AllowSetgroups = false,
            Writer = IdMapWriter.Direct,
            Explanation = [$"{mode} without subordinate ranges: only root is mapped (0 → you, uid {user.Uid}, gid {user.Gid}), written directly with setgroups denied"],
        },
        Uid = 0,
        Gid = 0,
        SupplementaryGroups = [],
        Capabilities = CapabilitySets.None,
        HomeDestination = RootHome,
        AccountEntries = AccountEntries.Image,
        Warnings = [warning],
    };

    /// <summary>newuidmap and newgidmap are written together; half a mapping would give files owners the other map cannot name.</summary>
    private static void RequireBoth(HostUser user, string mode, SubordinateIdEntries subUid, SubordinateIdEntries subGid, bool hasUid)
    {
        bool hasGid = subGid.Ranges.Count > 0;
        if (hasUid != hasGid)
        {
            string has = hasUid ? subUid.FileName : subGid.FileName;
            string lacks = hasUid ? subGid.FileName : subUid.FileName;
            throw new BurrowException(
                $"{mode}: {user.Name} has a range in {has} but none in {lacks}",
                $"ask the administrator to add a matching range to {lacks}");
        }
    }

    /// <summary>The number of subordinate ids a size= allows (size-1: one id is you), bounded by what the files give.</summary>
    private static uint NamespaceLimit(string mode, uint? size, uint total, string file)
    {
        if (size is not { } n)
        {
            return total;
        }
        if (n - 1 > total)
        {
            throw new BurrowException(
                $"{mode}: size={n} needs {n - 1} subordinate ids besides yours, and {file} gives you {total}",
                $"use size={(ulong)total + 1} or less");
        }
        return n - 1;
    }
}
