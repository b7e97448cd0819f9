using Burrow.Core.Diagnostics;

namespace Burrow.Core.Identity;

/// <summary>What the engine found out about newuidmap or newgidmap (gathered by <see cref="MapHelpers"/>).</summary>
public sealed record MapHelperFacts
{
    /// <summary>newuidmap or newgidmap.</summary>
    public required string Name { get; init; }

    /// <summary>The file found, or null when none was.</summary>
    public string? Path { get; init; }

    /// <summary>Where it was looked for (the override alone when one was given).</summary>
    public required IReadOnlyList<string> Searched { get; init; }

    /// <summary>The environment variable that chose the path, or null for the standard search.</summary>
    public string? OverrideVariable { get; init; }

    public bool IsRegularFile { get; init; }
    public bool Executable { get; init; }
    public uint OwnerUid { get; init; }
    public bool SetUid { get; init; }

    /// <summary>The permitted set of the security.capability attribute; null when the file has none.</summary>
    public ulong? FileCapabilities { get; init; }

    /// <summary>The file system holding it is mounted nosuid, which voids both setuid and file capabilities.</summary>
    public bool OnNoSuidMount { get; init; }

    /// <summary>burrow's own capability bounding set (CapBnd); a setuid or file-capability program gains only what is in it.</summary>
    public ulong BoundingSet { get; init; } = ulong.MaxValue;

    /// <summary>burrow itself runs with no_new_privs (e.g. inside a container), which voids them too.</summary>
    public bool NoNewPrivileges { get; init; }
}

/// <summary>
/// Decides whether a newuidmap/newgidmap can write a subordinate map, and if not says what is wrong,
/// which package provides it and what to check. Pure, so every verdict is unit-tested.
/// </summary>
public static class MapHelperCheck
{
    public const string Package = "uidmap";

    /// <summary>The capability the helper needs: CAP_SETUID for newuidmap, CAP_SETGID for newgidmap.</summary>
    public static int RequiredCapability(string name) =>
        Capabilities.NumberOf(name == "newgidmap" ? "CAP_SETGID" : "CAP_SETUID");

    public static void Require(MapHelperFacts f)
    {
        string capName = Capabilities.NameOf(RequiredCapability(f.Name)).ToLowerInvariant();
        string inspect = $"check it with 'ls -l {f.Path ?? "/usr/bin/" + f.Name}' (expect -rwsr-xr-x, owner root) or 'getcap {f.Path ?? "/usr/bin/" + f.Name}' (expect {capName}=ep)";
        if (f.Path is null || !f.IsRegularFile)
        {
            string where = f.OverrideVariable is not null
                ? $"{f.OverrideVariable}={f.Searched[0]} is not a regular file"
                : $"{f.Name} is not installed (looked in {string.Join(", ", f.Searched)})";
            throw new BurrowException(
                $"{where}; mapping your subordinate id range needs it",
                $"install shadow's {Package} package (Debian/Ubuntu: apt-get install {Package}; Fedora/RHEL: dnf install shadow-utils), " +
                "or use a mode that maps only your own ids (the default, --security, --fakeroot without a range)");
        }
        if (!f.Executable)
        {
            throw new BurrowException($"{f.Path} is not executable", $"reinstall the {Package} package; {inspect}");
        }
        bool setUidRoot = f.SetUid && f.OwnerUid == 0;
        bool hasCap = f.FileCapabilities is { } caps && (caps & (1UL << RequiredCapability(f.Name))) != 0;
        if (!setUidRoot && !hasCap)
        {
            string found = f.SetUid ? $"is setuid but owned by uid {f.OwnerUid}, not root"
                : f.FileCapabilities is not null ? $"has file capabilities but not {capName}"
                : $"is neither setuid root nor has the {capName} file capability";
            throw new BurrowException(
                $"{f.Path} {found}, so it cannot write your subordinate id map",
                $"{inspect}; reinstalling the {Package} package restores it (an administrator can also run: chmod u+s {f.Path})");
        }
        string how = setUidRoot ? "setuid root" : $"given {capName}";
        if (f.NoNewPrivileges)
        {
            throw new BurrowException(
                $"{f.Path} is {how}, but burrow runs with no_new_privs set (NoNewPrivs: 1 in /proc/self/status), so {f.Name} cannot gain the privilege to write the map",
                "this happens inside a container (Burrow's, Apptainer's); run on the host, or use a mode that maps only your own ids (--fakeroot without a range maps only root)");
        }
        if ((f.BoundingSet & (1UL << RequiredCapability(f.Name))) == 0)
        {
            throw new BurrowException(
                $"{f.Path} is {how}, but burrow runs without {capName} in its capability bounding set (CapBnd in /proc/self/status), so {f.Name} cannot gain it to write the map",
                "something (a container, setpriv --bounding-set, capsh --drop) dropped it before burrow started; run burrow from a normal login session");
        }
        if (f.OnNoSuidMount)
        {
            throw new BurrowException(
                $"{f.Path} is {how}, but its file system is mounted nosuid, so {f.Name} cannot gain the privilege to write the map",
                "this happens inside a container; run on the host, or ask the administrator to mount it without nosuid");
        }
    }
}
