using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Burrow.Core.Config;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Linux;

namespace Burrow.Core.Check;

/// <summary>One line of <c>burrow check</c>: a feature, whether this machine has it, what was found, and the fix.</summary>
/// <param name="Required">False for what only some images or options need (a missing one is reported, not fatal).</param>
public sealed record CheckItem(string Feature, bool Ok, string Detail, string? Fix, bool Required);

/// <summary>
/// What <c>burrow check</c> looks at, feature by feature: the installation, its configuration, user namespaces (enabled,
/// their limit, and a real one made by Burrow's own starter), Ubuntu's AppArmor restriction, the caller's subordinate
/// ranges and the map helpers, /dev/fuse, an overlay mounted in a user namespace, the Slurm job's cgroup when run inside
/// a job, and each helper with its version.
/// </summary>
public static partial class HostCheck
{
    /// <summary>A helper Burrow may run, the Debian package that has it, and what Burrow uses it for.</summary>
    private sealed record Helper(string Program, string Package, string UsedFor);

    private static readonly Helper[] s_helpers =
    [
        new("squashfuse_ll", "squashfuse", "serving a SIF whose compressor Burrow cannot read, in plans run with __run-plan"),
        new("unsquashfs", "squashfs-tools", "--unsquash, and SIF images when /dev/fuse cannot be used"),
        new("mksquashfs", "squashfs-tools", "squashfs images built by hand (Burrow itself builds with tar2sqfs)"),
        new("tar2sqfs", "squashfs-tools-ng", "burrow pull and burrow build (OCI layers to squashfs)"),
        new("pasta", "passt", "--network pasta (outbound access and published ports)"),
        new("slirp4netns", "slirp4netns", "--network slirp4netns"),
        new("fuse-overlayfs", "fuse-overlayfs", "nothing yet (Burrow's overlays are the kernel's)"),
        new("gocryptfs", "gocryptfs", "encrypted SIF images (not supported yet)"),
    ];

    private static readonly TimeSpan s_versionTimeout = TimeSpan.FromSeconds(3);

    /// <param name="config">The configuration in force, or null when it could not be read (<paramref name="configError"/> says why).</param>
    public static IReadOnlyList<CheckItem> Run(RuntimePaths paths, LoadedConfig? config, BurrowException? configError)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var items = new List<CheckItem> { Installation(paths), Configuration(config, configError) };
        HostUser? user = null;
        try
        {
            user = HostUserReader.Read();
        }
        catch (BurrowException e)
        {
            items.Add(new CheckItem("user account", false, e.Message, e.Hint, Required: true));
        }

        ProbeResult? probe = user is null ? null
            : NamespaceProbe.Run(paths, IdentityResolver.Resolve(IdentityRequest.Default, user, SubordinateIds.None).Plan);
        string? restricted = ReadSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
        items.Add(UserNamespaces(probe, restricted, ReadSysctl("/proc/sys/user/max_user_namespaces"), ReadSysctl("/proc/sys/kernel/unprivileged_userns_clone")));
        items.Add(AppArmor(paths, probe, restricted));
        items.Add(Overlay(probe));
        items.Add(Fuse());
        if (user is not null)
        {
            items.Add(SubordinateRanges(user));
        }
        items.Add(MapHelpersItem());
        items.Add(SlurmJob(Environment.GetEnvironmentVariable("SLURM_JOB_ID"), ReadSysctl("/proc/self/cgroup"), PathProbe.CanWrite));
        items.AddRange(s_helpers.Select(HelperItem));
        return items;
    }

    private static CheckItem Installation(RuntimePaths paths)
    {
        FileStatus? starter = Stat(paths.Starter);
        return starter is { Kind: FileKind.Regular } s && (s.Permissions & 0x49) != 0
            ? new CheckItem("installation", true, $"prefix {paths.Prefix}, starter {paths.Starter}", null, Required: true)
            : new CheckItem("installation", false, $"prefix {paths.Prefix}: the starter {paths.Starter} is missing or not executable",
                "reinstall: scripts/install --prefix " + paths.Prefix, Required: true);
    }

    private static CheckItem Configuration(LoadedConfig? config, BurrowException? error)
    {
        if (config is null)
        {
            return new CheckItem("configuration", false, error?.Message ?? "not read", error?.Hint, Required: true);
        }
        string how = config.ChosenBy == "installation" ? "" : $" (from {config.ChosenBy})";
        return new CheckItem("configuration", true,
            config.Exists ? config.Path + how : $"{config.Path}{how} does not exist: every key has its default", null, Required: true);
    }

    /// <param name="restricted">kernel.apparmor_restrict_unprivileged_userns, or null where the kernel has no such knob.</param>
    /// <param name="max">user.max_user_namespaces.</param>
    /// <param name="clone">kernel.unprivileged_userns_clone (Debian's older kernels), or null.</param>
    internal static CheckItem UserNamespaces(ProbeResult? probe, string? restricted, string? max, string? clone)
    {
        const string feature = "user namespaces";
        if (max == "0")
        {
            return new CheckItem(feature, false, "disabled: user.max_user_namespaces = 0",
                "an administrator: sysctl -w user.max_user_namespaces=15000 (and the same in /etc/sysctl.d/ to keep it)", Required: true);
        }
        if (clone == "0")
        {
            return new CheckItem(feature, false, "disabled for unprivileged users: kernel.unprivileged_userns_clone = 0",
                "an administrator: sysctl -w kernel.unprivileged_userns_clone=1 (and the same in /etc/sysctl.d/ to keep it)", Required: true);
        }
        string limit = max is null ? "" : $"user.max_user_namespaces = {max}; ";
        if (probe is null)
        {
            return new CheckItem(feature, false, limit + "not tried (no user account)", null, Required: true);
        }
        if (probe.UserNamespace.Works)
        {
            return new CheckItem(feature, true, limit + "burrow-starter made one: " + probe.UserNamespace.Detail, null, Required: true);
        }
        string fix = restricted == "1"
            ? "see the AppArmor line below"
            : "an administrator: check user.max_user_namespaces (sysctl) and that no security module forbids unprivileged user namespaces";
        return new CheckItem(feature, false, limit + probe.UserNamespace.Detail, fix, Required: true);
    }

    internal static CheckItem AppArmor(RuntimePaths paths, ProbeResult? probe, string? restricted)
    {
        const string feature = "AppArmor userns restriction";
        if (restricted is null or "0")
        {
            return new CheckItem(feature, true, restricted is null ? "none (no kernel.apparmor_restrict_unprivileged_userns)" : "off (kernel.apparmor_restrict_unprivileged_userns = 0)", null, Required: true);
        }
        if (probe?.UserNamespace.Works == true && probe.Overlay?.Works != false)
        {
            return new CheckItem(feature, true, "on, and a profile lets burrow-starter use user namespaces", null, Required: true);
        }
        string profile = Path.Combine(paths.ConfigDir, "apparmor", "burrow-starter");
        return new CheckItem(feature, false,
            "on (kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 24.04's default) and no profile lets burrow-starter use user namespaces",
            $"an administrator installs the profile Burrow ships: sed 's|@PREFIX@|{paths.Prefix}|g' {profile} > /etc/apparmor.d/burrow-starter && apparmor_parser -r /etc/apparmor.d/burrow-starter",
            Required: true);
    }

    private static CheckItem Overlay(ProbeResult? probe)
    {
        const string feature = "overlay in a user namespace";
        return probe?.Overlay switch
        {
            { Works: true } o => new CheckItem(feature, true, o.Detail, null, Required: true),
            { } o => new CheckItem(feature, false, o.Detail,
                "overlayfs in a user namespace needs Linux 5.11 or later, and a temporary directory on a local file system (not NFS); set temp-dir in burrow.conf or BURROW_TMPDIR",
                Required: true),
            null => new CheckItem(feature, false, "not tried: no user namespace", "fix the user namespaces first", Required: true),
        };
    }

    private static CheckItem Fuse() => FuseDevice.Unusable() is { } why
        ? new CheckItem(FuseDevice.Path, false, why + ": SIF images are unpacked to a temporary directory instead of mounted (slower)",
            $"an administrator: chmod 0666 {FuseDevice.Path} (Debian's default; modprobe fuse if it is absent)", Required: false)
        : new CheckItem(FuseDevice.Path, true, "can be opened: SIF images are mounted and served by burrow", null, Required: false);

    private static CheckItem SubordinateRanges(HostUser user)
    {
        const string feature = "subordinate ids";
        SubordinateIds ids = SubordinateIds.ReadFromHost();
        SubordinateIdEntries uid = SubordinateIdFile.ForUser(ids.SubUid, ids.SubUidPath, user);
        SubordinateIdEntries gid = SubordinateIdFile.ForUser(ids.SubGid, ids.SubGidPath, user);
        if (uid.HasEnabled && gid.HasEnabled)
        {
            return new CheckItem(feature, true,
                $"{user.Name}: uids {string.Join(", ", uid.Enabled)} in {ids.SubUidPath}, gids {string.Join(", ", gid.Enabled)} in {ids.SubGidPath}", null, Required: false);
        }
        string missing = !uid.HasEnabled && !gid.HasEnabled ? $"{ids.SubUidPath} and {ids.SubGidPath}" : !uid.HasEnabled ? ids.SubUidPath : ids.SubGidPath;
        return new CheckItem(feature, false,
            $"{user.Name} has no range in {missing}: --fakeroot maps only root, --userns=auto and keep-id cannot be used",
            $"an administrator: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user.Name} (a range of 65536 no other user has)", Required: false);
    }

    private static CheckItem MapHelpersItem()
    {
        const string feature = "newuidmap/newgidmap";
        try
        {
            MapHelpers.Paths p = MapHelpers.Require();
            return new CheckItem(feature, true, $"{p.NewUidMap} and {p.NewGidMap} can write subordinate ranges", null, Required: false);
        }
        catch (BurrowException e)
        {
            return new CheckItem(feature, false, e.Message + ": only your own ids can be mapped", e.Hint ?? "install uidmap (apt install uidmap)", Required: false);
        }
    }

    /// <summary>
    /// Inside a Slurm job (SLURM_JOB_ID set): the job's cgroup, from /proc/self/cgroup. Burrow makes no cgroup of its own,
    /// so a container's processes stay in the job's (or step's) cgroup, under its limits, and Slurm's kill reaches them;
    /// write access to it is not needed. A job without a cgroup (proctrack/linuxproc or pgid) is tracked by process tree,
    /// which Burrow keeps too. Never required: it only describes the job.
    /// </summary>
    /// <param name="jobId">SLURM_JOB_ID, or null outside a job.</param>
    /// <param name="procSelfCgroup">The text of /proc/self/cgroup, or null when it could not be read.</param>
    /// <param name="canWrite">Whether the caller may write in a directory (access W_OK).</param>
    internal static CheckItem SlurmJob(string? jobId, string? procSelfCgroup, Func<string, bool> canWrite)
    {
        ArgumentNullException.ThrowIfNull(canWrite);
        const string feature = "Slurm job cgroup";
        if (string.IsNullOrEmpty(jobId))
        {
            return new CheckItem(feature, true, "not in a Slurm job (SLURM_JOB_ID is not set)", null, Required: false);
        }
        // Lines are "ID:CONTROLLERS:PATH" (v1: one per hierarchy; v2: "0::PATH"). Slurm names the job's "…/job_ID/…".
        string marker = "/job_" + jobId;
        var inJob = (procSelfCgroup ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 3))
            .Where(f => f.Length == 3 && (f[2].Contains(marker + "/", StringComparison.Ordinal) || f[2].EndsWith(marker, StringComparison.Ordinal)))
            .ToList();
        if (inJob.Count == 0)
        {
            return new CheckItem(feature, true,
                $"job {jobId} has no cgroup of its own here (the node tracks jobs without cgroups, e.g. proctrack/linuxproc): Slurm follows the container's processes by their parents, and Burrow keeps them under this task",
                null, Required: false);
        }
        string[] first = inJob[0];
        string controllers = string.Join(",", inJob.Select(f => f[1].Length == 0 ? "unified" : f[1]));
        string dir = first[1].Length == 0 ? "/sys/fs/cgroup" + first[2] : $"/sys/fs/cgroup/{first[1].Split(',')[0].Replace("name=", "", StringComparison.Ordinal)}{first[2]}";
        string access = canWrite(dir) ? "writable by you" : "not writable by you";
        return new CheckItem(feature, true,
            $"job {jobId}: {first[2]} ({controllers}), {access}; not needed: Burrow makes no cgroup of its own, every container process stays in the job's cgroup and under its limits",
            null, Required: false);
    }

    private static CheckItem HelperItem(Helper helper)
    {
        string? path = ExecutableSearch.OnPath(helper.Program);
        if (path is null)
        {
            return new CheckItem(helper.Program, false, $"not found in binary-path ({string.Join(":", ExecutableSearch.Directories())}) (used for: {helper.UsedFor})",
                $"install {helper.Package} (apt install {helper.Package}), or add its directory to binary-path in burrow.conf", Required: false);
        }
        string version = VersionOf(helper.Program, path) is { } v ? " " + v : "";
        return new CheckItem(helper.Program, true, $"{path}{version} (used for: {helper.UsedFor})", null, Required: false);
    }

    /// <summary>The version the program prints (each has its own flag), or null.</summary>
    private static string? VersionOf(string program, string path)
    {
        string flag = program is "unsquashfs" or "mksquashfs" or "gocryptfs" ? "-version" : "--version";
        try
        {
            var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            psi.ArgumentList.Add(flag);
            using Process p = Process.Start(psi)!;
            p.StandardInput.Close();
            Task<string> output = p.StandardOutput.ReadToEndAsync();
            Task<string> errors = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(s_versionTimeout))
            {
                p.Kill(entireProcessTree: true);
                return null;
            }
            string stem = program.Split('_')[0];
            string? line = (output.Result + "\n" + errors.Result).Split('\n')
                .FirstOrDefault(l => l.Contains(stem, StringComparison.Ordinal) && VersionNumber().IsMatch(l));
            return line is null ? null : VersionNumber().Match(line).Value;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\d+(\.\d+)+")]
    private static partial Regex VersionNumber();

    private static string? ReadSysctl(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static FileStatus? Stat(string path)
    {
        try
        {
            return FileStatus.OfPath(path);
        }
        catch (LinuxException)
        {
            return null;
        }
    }
}
