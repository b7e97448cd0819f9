using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Core.Identity;

/// <summary>
/// Decides the maps and the payload's ids from the request, the caller and the subordinate id files
/// (DESIGN.md "Identity modes"). Pure: everything it reads is passed in.
/// </summary>
public static class IdentityResolver
{
    /// <param name="config">The administrator's configuration: allow-fakeroot and allow-userns-modes refuse modes it forbids.</param>
    public static IdentityDecision Resolve(IdentityRequest request, HostUser user, SubordinateIds subordinateIds, Config.BurrowConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(subordinateIds);

        // Parse everything first, so that a typo anywhere is reported before any decision is made.
        SecurityIds security = SecurityOption.Parse(request.Security);
        UserNsRequest? userNs = UserNsOption.Parse(request.UserNs);
        ulong add = Capabilities.Parse(request.AddCaps, "--add-caps");
        ulong drop = Capabilities.Parse(request.DropCaps, "--drop-caps");
        CheckConflicts(request, security, userNs);
        CheckAllowed(request, userNs, config ?? Config.BurrowConfig.Default);

        var subordinate = new Lazy<(SubordinateIdEntries Uid, SubordinateIdEntries Gid)>(() => (
            SubordinateIdFile.ForUser(subordinateIds.SubUid, subordinateIds.SubUidPath, user),
            SubordinateIdFile.ForUser(subordinateIds.SubGid, subordinateIds.SubGidPath, user)));

        IdentityDecision identity =
            request.FakeRoot ? IdentityModes.FakeRoot(user, subordinate.Value.Uid, subordinate.Value.Gid)
            : userNs?.Mode == UserNsMode.KeepId ? IdentityModes.KeepId(user, userNs, subordinate.Value.Uid, subordinate.Value.Gid)
            : userNs?.Mode == UserNsMode.Auto ? IdentityModes.Auto(user, userNs, subordinate.Value.Uid, subordinate.Value.Gid)
            : security.Any ? IdentityModes.Security(user, security, security.ExtraGroups.Count > 0 ? subordinate.Value.Gid : null)
            : IdentityModes.Yourself(user);
        return WithCapabilities(identity, request, add, drop);
    }

    private static void CheckAllowed(IdentityRequest request, UserNsRequest? userNs, Config.BurrowConfig config)
    {
        if (request.FakeRoot && !config.AllowFakeroot)
        {
            throw new BurrowException($"--fakeroot is not allowed on this installation ({config.Cite("allow-fakeroot")})",
                "run without --fakeroot, or ask the administrator");
        }
        string? mode = userNs?.Mode switch
        {
            UserNsMode.Auto => Config.UserNsModes.Auto,
            UserNsMode.KeepId => Config.UserNsModes.KeepId,
            _ => null,
        };
        if (mode is not null && !config.AllowedUserNsModes.Contains(mode))
        {
            throw new BurrowException($"--userns={request.UserNs}: the mode {mode} is not allowed on this installation ({config.Cite("allow-userns-modes")})",
                config.AllowedUserNsModes.Count > 0 ? $"use one of: {string.Join(", ", config.AllowedUserNsModes.Order(StringComparer.Ordinal).Select(m => "--userns=" + m))}" : "run without --userns, or ask the administrator");
        }
    }

    private static void CheckConflicts(IdentityRequest request, SecurityIds security, UserNsRequest? userNs)
    {
        if (request.FakeRoot && security.Any)
        {
            throw new BurrowException(
                "--fakeroot and --security uid:/gid: both choose who the payload is; give one of them",
                "--fakeroot makes you root with your subordinate range; --security uid:0,gid:0 maps only uid 0 and gives no capabilities",
                ExitCodes.Usage);
        }
        if (request.FakeRoot && userNs is not null)
        {
            throw new BurrowException(
                $"--fakeroot and --userns={request.UserNs} both choose the user namespace; give one of them",
                "--userns=auto is root with your whole subordinate range; --fakeroot is Apptainer's root with one 65536-id range",
                ExitCodes.Usage);
        }
        if (security.Any && userNs is not null)
        {
            throw new BurrowException(
                $"--security uid:/gid: and --userns={request.UserNs} both choose who the payload is; give one of them",
                "to appear as another id with your subordinate range mapped, use --userns=keep-id:uid=U,gid=G",
                ExitCodes.Usage);
        }
    }

    /// <summary>
    /// Root in its own user namespace (fakeroot, auto, keep-id as uid 0) holds every capability there,
    /// as in Apptainer's fakeroot, less --drop-caps; --no-privs starts from none; --add-caps adds.
    /// Anything else runs without capabilities, and asking for some is refused rather than ignored.
    /// </summary>
    private static IdentityDecision WithCapabilities(IdentityDecision identity, IdentityRequest request, ulong add, ulong drop)
    {
        bool rootMode = identity.IsContainerRoot && identity.Plan.Mode is IdentityModes.FakeRootMode or IdentityModes.AutoMode or IdentityModes.KeepIdMode;
        if (!rootMode)
        {
            if (add != 0)
            {
                string why = identity.Plan.Mode == IdentityModes.SecurityMode && identity.Uid == 0
                    ? "--security ids never come with capabilities, even uid 0"
                    : $"the payload is not root in its user namespace (mode {identity.Plan.Mode}, uid {identity.Uid}), so it cannot hold capabilities";
                throw new BurrowException(
                    $"--add-caps {Capabilities.Describe(add)}: {why}",
                    "combine it with --fakeroot or --userns=auto: the capabilities then apply inside the user namespace only",
                    ExitCodes.Usage);
            }
            string note = drop != 0 || request.NoPrivs ? " (--drop-caps/--no-privs have nothing left to drop)" : "";
            return identity with
            {
                Capabilities = CapabilitySets.None,
                Plan = identity.Plan with { Explanation = [.. identity.Plan.Explanation, "capabilities: none, no_new_privs set" + note] },
            };
        }

        ulong mask = request.NoPrivs ? 0 : Capabilities.All;
        mask = (mask | add) & ~drop;
        string how = request.NoPrivs ? "--no-privs starts from none" : "root in its namespace starts from all";
        if (add != 0)
        {
            how += ", --add-caps " + Capabilities.Describe(add);
        }
        if (drop != 0)
        {
            how += ", --drop-caps " + Capabilities.Describe(drop);
        }
        return identity with
        {
            Capabilities = Capabilities.ForRoot(mask),
            Plan = identity.Plan with
            {
                Explanation =
                [
                    .. identity.Plan.Explanation,
                    $"capabilities (inside the user namespace only, bounding/permitted/effective; inheritable and ambient empty): {Capabilities.Describe(mask)} ({how}); no_new_privs set",
                ],
            },
        };
    }
}
