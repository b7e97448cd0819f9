namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The ordered mount list of the default container (apptainer-behaviour.md §2.1), in Apptainer's tag
/// order: dev, kernel file systems, home, tmp, host files, user binds, cwd. Every mount is nosuid;
/// binds are also nodev except device nodes, which nodev would make unusable. The configuration's mount-* keys
/// leave kernel file systems, home and tmp out, and its bind-path entries are bound where the host has them.
/// </summary>
public static class MountPlanner
{
    public const MountFlags BindFlags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.Recursive;

    /// <summary>Host working directories Apptainer never binds (they would shadow the image's own).</summary>
    private static readonly string[] s_cwdNeverBound = ["/", "/etc", "/bin", "/mnt", "/usr", "/var", "/opt", "/sbin", "/lib", "/lib64"];
    private static readonly string[] s_cwdNeverBoundUnder = ["/sys", "/proc", "/dev"];

    /// <summary>Device nodes a contained /dev gets from the host.</summary>
    public static readonly IReadOnlyList<string> ContainedDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"];

    public static IReadOnlyList<MountStep> Plan(PlanInput input, IReadOnlyList<BindSpec> binds, NamespacePlan namespaces, NetworkPlan? network = null)
    {
        ActionRequest request = input.Request;
        Config.BurrowConfig config = input.Host.Config;
        var mounts = new List<MountStep>();
        if (config.MountDev != Config.MountMode.No)
        {
            AddDev(mounts, request.IsContained || config.MountDev == Config.MountMode.Minimal, namespaces.Ipc);
        }
        if (config.MountProc == Config.MountMode.Yes)
        {
            mounts.Add(namespaces.Pid
                ? new MountStep { Kind = MountKind.Proc, Target = "/proc", Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, Reason = "proc: a fresh proc for the new PID namespace" }
                : new MountStep { Kind = MountKind.Bind, Source = "/proc", Target = "/proc", Flags = BindFlags, Reason = "proc: the host's (host PID namespace)" });
        }
        if (config.MountSys == Config.MountMode.Yes)
        {
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = "/sys", Target = "/sys", Flags = BindFlags, Reason = "sys: the host's (a user namespace cannot mount a fresh sysfs for the host network namespace)" });
        }

        if (HomeIsMounted(input))
        {
            string home = input.Identity.HomeDestination;
            mounts.Add(request.IsContained
                ? new MountStep { Kind = MountKind.Tmpfs, Target = home, Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=0700", Reason = "home: an empty private home (--contain)" }
                : new MountStep { Kind = MountKind.Bind, Source = input.Host.User.Home, Target = home, Flags = BindFlags, Reason = "home: your host home" + (home == input.Host.User.Home ? "" : " at " + home) });
        }

        foreach (string tmp in config.MountTmp == Config.MountMode.Yes ? ["/tmp", "/var/tmp"] : Array.Empty<string>())
        {
            if (request.IsContained)
            {
                mounts.Add(new MountStep { Kind = MountKind.Tmpfs, Target = tmp, Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=1777", Reason = tmp + ": empty and private (--contain)" });
            }
            else if (input.Host.KindOf(tmp) == PathKind.Directory)
            {
                mounts.Add(new MountStep { Kind = MountKind.Bind, Source = tmp, Target = tmp, Flags = BindFlags, Reason = tmp + ": the host's" });
            }
        }

        foreach (BindSpec bind in FactQueries.ConfiguredBinds(config))
        {
            // The administrator's bind paths, where the host has them (Apptainer's "bind path"; by default /etc/localtime
            // and /etc/hosts, read-only). --contain keeps them.
            PathKind kind = input.Host.KindOf(bind.Source);
            if (kind is PathKind.File or PathKind.Directory)
            {
                string ro = bind.ReadOnly ? ", read-only" : "";
                mounts.Add(new MountStep
                {
                    Kind = MountKind.Bind, Source = bind.Source, Target = bind.Destination,
                    Flags = BindFlags | (bind.ReadOnly ? MountFlags.ReadOnly : MountFlags.None),
                    TargetKind = kind == PathKind.Directory ? TargetKind.Directory : TargetKind.File, Optional = true,
                    Reason = (bind.Source == bind.Destination ? bind.Source : bind.Source + " at " + bind.Destination)
                        + $": the host's{ro} (bind-path; skipped if the image cannot take it)",
                });
            }
        }
        // --contain keeps only the bind paths from the host, not resolv.conf (Apptainer's rule); with a network helper
        // the container gets a resolv.conf naming the helper's resolver instead.
        if (!request.IsContained && NetworkPlanner.Nameservers(request, network) is null && input.Host.KindOf(FactQueries.ResolvConf) == PathKind.File)
        {
            mounts.Add(new MountStep
            {
                Kind = MountKind.Bind, Source = FactQueries.ResolvConf, Target = FactQueries.ResolvConf, Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.ReadOnly,
                TargetKind = TargetKind.File, Optional = true, Reason = FactQueries.ResolvConf + ": the host's, read-only (skipped if the image cannot take it)",
            });
        }

        foreach (BindSpec bind in binds)
        {
            mounts.Add(new MountStep
            {
                Kind = MountKind.Bind, Source = bind.Source, Target = bind.Destination,
                Flags = BindFlags | (bind.ReadOnly ? MountFlags.ReadOnly : MountFlags.None),
                TargetKind = input.Host.KindOf(bind.Source) == PathKind.Directory ? TargetKind.Directory : TargetKind.File,
                Reason = "user bind --bind " + bind.Given,
            });
        }

        if (CwdNeedsBind(input, mounts))
        {
            string cwd = input.Host.Cwd;
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = cwd, Target = cwd, Flags = BindFlags, Reason = "cwd: your working directory, not otherwise visible in the container" });
        }
        return mounts;
    }

    public static bool HomeIsMounted(PlanInput input) =>
        !input.Request.NoHome && input.Host.Config.MountHome == Config.MountMode.Yes && (input.Request.IsContained || input.Host.KindOf(input.Host.User.Home) == PathKind.Directory);

    /// <summary>Apptainer binds the host cwd unless it is contained, a system directory, or already visible at the same path.</summary>
    public static bool CwdNeedsBind(PlanInput input, IReadOnlyList<MountStep> mountsSoFar)
    {
        string cwd = input.Host.Cwd;
        if (input.Request.IsContained || IsNeverBound(cwd) || input.Host.KindOf(cwd) != PathKind.Directory)
        {
            return false;
        }
        return !mountsSoFar.Any(m => m.Kind == MountKind.Bind && m.Source is not null
            && ContainerPaths.TryRebase(cwd, m.Target, m.Source, out string? hostPath) && hostPath == cwd);
    }

    public static bool IsNeverBound(string cwd) =>
        s_cwdNeverBound.Contains(cwd) || s_cwdNeverBoundUnder.Any(d => ContainerPaths.IsAtOrUnder(cwd, d));

    private static void AddDev(List<MountStep> mounts, bool contained, bool ipcNamespace)
    {
        if (!contained)
        {
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = "/dev", Target = "/dev", Flags = MountFlags.NoSuid | MountFlags.Recursive, Reason = "dev: the host's (not nodev: it holds the device nodes)" });
            return;
        }
        mounts.Add(new MountStep { Kind = MountKind.Tmpfs, Target = "/dev", Flags = MountFlags.NoSuid | MountFlags.NoExec, Data = "mode=0755", Reason = "dev: a minimal /dev (--contain)" });
        foreach (string device in ContainedDevices)
        {
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = device, Target = device, Flags = MountFlags.NoSuid, TargetKind = TargetKind.File, Reason = "dev: the host's " + Path.GetFileName(device) + " device (not nodev: it is a device node)" });
        }
        // The host's pseudo-terminals rather than a new devpts instance: a plan mount's source is a host path,
        // so /dev/ptmx could not be pointed at a new instance's ptmx, and a terminal must keep working.
        mounts.Add(new MountStep { Kind = MountKind.Bind, Source = "/dev/pts", Target = "/dev/pts", Flags = MountFlags.NoSuid | MountFlags.NoExec, Reason = "dev: the host's pseudo-terminals (your terminal keeps working)" });
        mounts.Add(new MountStep { Kind = MountKind.Bind, Source = "/dev/ptmx", Target = "/dev/ptmx", Flags = MountFlags.NoSuid, TargetKind = TargetKind.File, Reason = "dev: opens new pseudo-terminals in /dev/pts" });
        mounts.Add(new MountStep { Kind = MountKind.Tmpfs, Target = "/dev/shm", Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=1777", Reason = "dev: private shared memory" });
        if (ipcNamespace)
        {
            mounts.Add(new MountStep { Kind = MountKind.Mqueue, Target = "/dev/mqueue", Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, Reason = "dev: message queues of the new IPC namespace" });
        }
    }
}
