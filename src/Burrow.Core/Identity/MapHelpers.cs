using Burrow.Core.Runtime;
using Burrow.Linux;

namespace Burrow.Core.Identity;

/// <summary>
/// Engine side: finds newuidmap and newgidmap and checks, before anything is started, that they can
/// write a subordinate map (<see cref="MapHelperCheck"/> decides; this only gathers the facts).
/// </summary>
public static class MapHelpers
{
    /// <summary>Override the helper paths, for tests and unusual installs. Honoured only to locate the helpers.</summary>
    public const string NewUidMapVariable = "BURROW_NEWUIDMAP";
    public const string NewGidMapVariable = "BURROW_NEWGIDMAP";


    public sealed record Paths(string NewUidMap, string NewGidMap);

    /// <summary>Both helpers, checked; throws a BurrowException naming the package and what to check.</summary>
    public static Paths Require()
    {
        string status = ReadOrEmpty("/proc/self/status");
        bool noNewPrivs = StatusField(status, "NoNewPrivs") == "1";
        ulong bounding = ulong.TryParse(StatusField(status, "CapBnd"), System.Globalization.NumberStyles.HexNumber, null, out ulong b) ? b : ulong.MaxValue;
        string mountInfo = ReadOrEmpty("/proc/self/mountinfo");
        string uid = Check("newuidmap", NewUidMapVariable, noNewPrivs, bounding, mountInfo);
        string gid = Check("newgidmap", NewGidMapVariable, noNewPrivs, bounding, mountInfo);
        return new Paths(uid, gid);
    }

    /// <summary>The helpers when the plan needs them, else null.</summary>
    public static Paths? RequireFor(IdentityPlan identity) =>
        identity.Writer == IdMapWriter.SubordinateHelper ? Require() : null;

    private static string Check(string name, string variable, bool noNewPrivs, ulong bounding, string mountInfo)
    {
        string? overridden = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v ? v : null;
        IReadOnlyList<string> candidates = overridden is not null ? [overridden]
            : ExecutableSearch.Directories().Select(d => Path.Combine(d, name)).ToArray(); // burrow.conf's binary-path
        string? path = null;
        ExecutablePrivilegeInfo? info = null;
        foreach (string candidate in candidates)
        {
            // The first one that can write a range wins: a plain copy earlier on $PATH (a conda environment's) is
            // passed over for the setuid one in /usr/bin; with none usable, the first one found is the one reported.
            ExecutablePrivilegeInfo? found = ExecutablePrivileges.Inspect(candidate);
            if (found is null)
            {
                continue;
            }
            if (path is null || (found.IsRegularFile && ((found.SetUid && found.OwnerUid == 0) || found.FileCapabilities is not null)))
            {
                (path, info) = (candidate, found);
                if (found.IsRegularFile && ((found.SetUid && found.OwnerUid == 0) || found.FileCapabilities is not null))
                {
                    break;
                }
            }
        }
        var facts = new MapHelperFacts
        {
            Name = name,
            Path = path,
            Searched = candidates,
            OverrideVariable = overridden is not null ? variable : null,
            IsRegularFile = info?.IsRegularFile ?? false,
            Executable = info?.ExecutableByOthers ?? false,
            OwnerUid = info?.OwnerUid ?? 0,
            SetUid = info?.SetUid ?? false,
            FileCapabilities = info?.FileCapabilities,
            OnNoSuidMount = path is not null && MountInfo.IsNoSuid(mountInfo, RealPath(path)),
            NoNewPrivileges = noNewPrivs,
            BoundingSet = bounding,
        };
        MapHelperCheck.Require(facts);
        return path!;
    }

    private static string? StatusField(string status, string name) =>
        status.Split('\n').FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();

    /// <summary>The mount check needs the file's real place (/bin is often a link to usr/bin).</summary>
    private static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true) is { } target)
        {
            full = Path.Combine(target.FullName, Path.GetFileName(full));
        }
        return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
