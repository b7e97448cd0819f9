namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The ordered mount list of the default container (apptainer-behaviour.md §2.1), in Apptainer's tag order
/// (mount_linux.go): dev, bind paths (burrow.conf's bind-path; by default /etc/hosts, /etc/localtime), kernel file systems, home, tmp, scratch, generated
/// files, user binds (shallowest first), cwd. A user bind therefore wins over a default mount at the same place (which
/// is left out) and hides those below it (left out too, with a warning naming them). Every mount is nosuid; binds are
/// also nodev except device nodes, which nodev would make unusable. The configuration's mount-* keys leave kernel
/// file systems, home and tmp out (mount-dev = minimal: the contained /dev without --contain).
/// </summary>
public static class MountPlanner
{
    public const MountFlags BindFlags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.Recursive;

    /// <summary>Host working directories Apptainer never binds (they would shadow the image's own).</summary>
    private static readonly string[] s_cwdNeverBound = ["/", "/etc", "/bin", "/mnt", "/usr", "/var", "/opt", "/sbin", "/lib", "/lib64"];
    private static readonly string[] s_cwdNeverBoundUnder = ["/sys", "/proc", "/dev"];

    /// <summary>Device nodes a contained /dev gets from the host.</summary>
    public static readonly IReadOnlyList<string> ContainedDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"];

    /// <summary>The links every /dev has, which a contained one must have too (bash's &lt;(…), /dev/stdin for tools).</summary>
    public static readonly IReadOnlyList<(string Link, string Target)> ContainedDevLinks =
        [("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2")];

    /// <summary>Apptainer's hosts file for a container with a network namespace of its own and --contain.</summary>
    public const string DefaultHosts = "127.0.0.1   localhost\n::1         localhost ip6-localhost ip6-loopback\nff02::1     ip6-allnodes\nff02::2     ip6-allrouters\n";

    /// <summary>The ordered mounts, and the warnings of user binds that hide default mounts.</summary>
    public sealed record Result(IReadOnlyList<MountStep> Mounts, IReadOnlyList<string> Warnings);

    /// <param name="generated">The targets of the files the planner generates (passwd, group, hostname, hosts, resolv.conf): each is placed in the order.</param>
    public static Result Plan(PlanInput input, IReadOnlyList<BindSpec> binds, NamespacePlan namespaces, IReadOnlySet<string> generated)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActionRequest request = input.Request;
        NoMountSet no = NoMountSet.Parse(request.NoMount);
        Config.BurrowConfig config = input.Host.Config;
        var mounts = new List<MountStep>();
        if (!no.Dev && config.MountDev != Config.MountMode.No)
        {
            AddDev(mounts, input, namespaces.Ipc, devpts: !no.DevPts, minimal: config.MountDev == Config.MountMode.Minimal);
        }

        // A generated /etc/hosts (--contain with a network of its own) takes the place of the host's.
        foreach (string file in new[] { "/etc/hosts", "/etc/localtime" })
        {
            if (generated.Contains(file) && !no.SkipsHostFile(file))
            {
                mounts.Add(Generated(file));
            }
        }
        // The administrator's bind paths (Apptainer's "bind path"), where the host has them; --contain keeps them.
        foreach (BindSpec bind in FactQueries.ConfiguredBinds(config))
        {
            if (no.BindPaths || generated.Contains(bind.Destination) || no.SkipsHostFile(bind.Destination))
            {
                continue;
            }
            PathKind kind = input.Host.KindOf(bind.Source);
            if (kind is PathKind.File or PathKind.Directory)
            {
                mounts.Add(BindPath(bind, kind));
            }
        }

        if (!no.Proc && config.MountProc == Config.MountMode.Yes)
        {
            mounts.Add(namespaces.Pid
                ? new MountStep { Kind = MountKind.Proc, Target = "/proc", Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, Reason = "proc: a fresh proc for the new PID namespace" }
                : new MountStep { Kind = MountKind.Bind, Source = "/proc", Target = "/proc", Flags = BindFlags, Reason = "proc: the host's (host PID namespace)" });
        }
        if (!no.Sys && config.MountSys == Config.MountMode.Yes)
        {
            AddSys(mounts, input, namespaces.Net);
        }

        HomeSpec home = HomeSpec.Resolve(request, input.Host.User, input.Identity, input.Host.Cwd);
        if (!no.Home && HomeIsMounted(input, home))
        {
            mounts.Add(HomeMount(input, home));
        }

        if (!no.Tmp && !request.BuildContainer && config.MountTmp == Config.MountMode.Yes) // a build binds its own
        {
            AddTmp(mounts, input);
        }
        AddScratch(mounts, input);

        if (request.Nested)
        {
            mounts.AddRange(NestedRuntime.Mounts(input, request.IsContained || request.BuildContainer));
        }

        // resolv.conf is generated with a network helper (naming its resolver) or --dns.
        foreach (string file in new[] { "/etc/passwd", "/etc/group", "/etc/hostname", "/etc/resolv.conf" })
        {
            if (generated.Contains(file))
            {
                mounts.Add(Generated(file));
            }
        }
        // --contain keeps only hosts and localtime from the host (Apptainer's rule).
        if (!generated.Contains("/etc/resolv.conf") && !request.IsContained && !no.SkipsHostFile("/etc/resolv.conf") && input.Host.KindOf("/etc/resolv.conf") == PathKind.File)
        {
            mounts.Add(HostFile("/etc/resolv.conf"));
        }

        var warnings = new List<string>();
        foreach (BindSpec bind in UserBinds.InMountOrder(binds))
        {
            // The same place: the user's bind replaces the default. Below it: hidden, so not mounted, and said.
            mounts.RemoveAll(m => IsDefault(m) && m.Target == bind.Destination);
            List<MountStep> hidden = mounts.Where(m => IsDefault(m) && m.Kind != MountKind.Symlink && ContainerPaths.IsAtOrUnder(m.Target, bind.Destination)).ToList();
            if (hidden.Count > 0)
            {
                mounts.RemoveAll(m => IsDefault(m) && ContainerPaths.IsAtOrUnder(m.Target, bind.Destination));
                warnings.Add($"{bind.Origin} {bind.Given} hides {Describe(hidden)}");
            }
            mounts.Add(new MountStep
            {
                Kind = MountKind.Bind, Source = bind.Source, Target = bind.Destination,
                Flags = BindFlags | (bind.ReadOnly ? MountFlags.ReadOnly : MountFlags.None),
                TargetKind = input.Host.KindOf(bind.Source) == PathKind.Directory ? TargetKind.Directory : TargetKind.File,
                Reason = UserBindReason + bind.Origin + " " + bind.Given,
            });
        }

        if (!no.Cwd && CwdNeedsBind(input, mounts))
        {
            string cwd = input.Host.Cwd;
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = cwd, Target = cwd, Flags = BindFlags, Reason = "cwd: your working directory, not otherwise visible in the container" });
        }
        return new Result(mounts, warnings);
    }

    /// <summary>How every user bind's reason starts (the stage's messages tell user binds from Burrow's own by it).</summary>
    public const string UserBindReason = "user bind ";

    public static bool IsUserBind(MountStep m) => m.Reason.StartsWith(UserBindReason, StringComparison.Ordinal);

    private static bool IsDefault(MountStep m) => !IsUserBind(m);

    private static string Describe(IReadOnlyList<MountStep> hidden)
    {
        static string Name(MountStep m)
        {
            string what = m.Kind == MountKind.Generated ? "generated" : m.Reason.Split(':')[0];
            return what == m.Target ? m.Target : m.Target + " (" + what + ")";
        }
        return hidden.Count <= 3
            ? string.Join(", ", hidden.Select(Name)) + ", which " + (hidden.Count == 1 ? "is" : "are") + " not mounted"
            : string.Join(", ", hidden.Take(3).Select(Name)) + $" and {hidden.Count - 3} more, which are not mounted";
    }

    /// <summary>The home is mounted unless --no-home; the default home only when it exists on the host (or --contain makes it empty).</summary>
    public static bool HomeIsMounted(PlanInput input, HomeSpec home) =>
        !input.Request.NoHome && !input.Request.BuildContainer && input.Host.Config.MountHome == Config.MountMode.Yes && (home.Custom || input.Request.IsContained || input.Host.KindOf(home.Source) == PathKind.Directory)
        && home.Destination != "/";

    private static MountStep HomeMount(PlanInput input, HomeSpec home)
    {
        ActionRequest request = input.Request;
        string destination = home.Destination;
        if (home.Custom && input.Host.KindOf(home.Source) == PathKind.Directory)
        {
            return new MountStep { Kind = MountKind.Bind, Source = home.Source, Target = destination, Flags = BindFlags, Reason = $"home: {home.Source} (--home)" };
        }
        if (!home.Custom && !request.IsContained)
        {
            return new MountStep { Kind = MountKind.Bind, Source = home.Source, Target = destination, Flags = BindFlags, Reason = "home: your host home" + (destination == home.Source ? "" : " at " + destination) };
        }
        if (!home.Custom && Workdir.Resolve(request, input.Host.Cwd) is { } workdir)
        {
            return new MountStep
            {
                Kind = MountKind.Bind, Source = Workdir.Home(workdir), Target = destination, Flags = BindFlags, MakeSource = Workdir.HomeMode, ContainerOwned = true,
                Reason = "home: " + Workdir.Home(workdir) + " (--contain --workdir)",
            };
        }
        return new MountStep
        {
            Kind = MountKind.Tmpfs, Target = destination, Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=0700",
            Reason = home.Custom ? $"home: an empty private home ({home.Source} does not exist on the host)" : "home: an empty private home (--contain)",
        };
    }

    private static void AddTmp(List<MountStep> mounts, PlanInput input)
    {
        ActionRequest request = input.Request;
        string? workdir = request.IsContained ? Workdir.Resolve(request, input.Host.Cwd) : null;
        // An image whose /var/tmp leads to its /tmp (a "../tmp" link) gets one mount there, as in Apptainer: binding the
        // host's /var/tmp through the link would put it over the container's /tmp.
        bool varTmpIsTmp = input.Image.ResolvedPath("/var/tmp") == input.Image.ResolvedPath("/tmp");
        foreach ((string tmp, string workdirName) in new[] { ("/tmp", "tmp"), ("/var/tmp", "var_tmp") })
        {
            if (tmp == "/var/tmp" && varTmpIsTmp)
            {
                continue;
            }
            if (workdir is not null)
            {
                string source = workdirName == "tmp" ? Workdir.Tmp(workdir) : Workdir.VarTmp(workdir);
                mounts.Add(new MountStep
                {
                    Kind = MountKind.Bind, Source = source, Target = tmp, Flags = BindFlags, MakeSource = Workdir.TmpMode, ContainerOwned = true,
                    Reason = $"{tmp}: {source} (--contain --workdir)",
                });
            }
            else if (request.IsContained)
            {
                mounts.Add(new MountStep { Kind = MountKind.Tmpfs, Target = tmp, Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=1777", Reason = tmp + ": empty and private (--contain)" });
            }
            else if (input.Host.KindOf(tmp) == PathKind.Directory)
            {
                mounts.Add(new MountStep { Kind = MountKind.Bind, Source = tmp, Target = tmp, Flags = BindFlags, Reason = tmp + ": the host's" });
            }
        }
    }

    private static void AddScratch(List<MountStep> mounts, PlanInput input)
    {
        string? workdir = Workdir.Resolve(input.Request, input.Host.Cwd);
        foreach (string dir in Workdir.ScratchDirectories(input.Request).Where(d => d.StartsWith('/') && d != "/"))
        {
            mounts.Add(workdir is null
                ? new MountStep { Kind = MountKind.Tmpfs, Target = dir, Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=0750", Reason = dir + ": an empty scratch directory (--scratch)" }
                : new MountStep
                {
                    Kind = MountKind.Bind, Source = Workdir.Scratch(workdir, dir), Target = dir, Flags = BindFlags, MakeSource = Workdir.ScratchMode, ContainerOwned = true,
                    Reason = $"{dir}: {Workdir.Scratch(workdir, dir)} (--scratch --workdir)",
                });
        }
    }

    private static void AddSys(List<MountStep> mounts, PlanInput input, bool networkNamespace)
    {
        if (!networkNamespace)
        {
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = "/sys", Target = "/sys", Flags = BindFlags, Reason = "sys: the host's (a user namespace cannot mount a fresh sysfs for the host network namespace)" });
            return;
        }
        // The new network namespace belongs to the container's user namespace, so the kernel lets it mount a sysfs of
        // its own: /sys/class/net lists the namespace's interfaces (lo), not the host's.
        mounts.Add(new MountStep { Kind = MountKind.Sysfs, Target = "/sys", Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, Reason = "sys: a fresh sysfs for the new network namespace (--net)" });
        if (input.Host.KindOf(FactQueries.HostCgroups) == PathKind.Directory)
        {
            mounts.Add(new MountStep
            {
                Kind = MountKind.Bind, Source = FactQueries.HostCgroups, Target = FactQueries.HostCgroups, Flags = BindFlags | MountFlags.ReadOnly, Optional = true,
                Reason = "sys: the host's cgroups, read-only, as the host's /sys shows them (skipped if they cannot be bound)",
            });
        }
    }

    /// <summary>Apptainer binds the host cwd unless it is contained, a system directory, or already visible at the same path.</summary>
    public static bool CwdNeedsBind(PlanInput input, IReadOnlyList<MountStep> mountsSoFar)
    {
        string cwd = input.Host.Cwd;
        if (input.Request.IsContained || input.Request.BuildContainer || IsNeverBound(cwd) || input.Host.KindOf(cwd) != PathKind.Directory)
        {
            return false;
        }
        return !mountsSoFar.Any(m => m.Kind == MountKind.Bind && m.Source is not null
            && ContainerPaths.TryRebase(cwd, m.Target, m.Source, out string? hostPath) && hostPath == cwd);
    }

    public static bool IsNeverBound(string cwd) =>
        s_cwdNeverBound.Contains(cwd) || s_cwdNeverBoundUnder.Any(d => ContainerPaths.IsAtOrUnder(cwd, d));

    private static MountStep HostFile(string file) => new()
    {
        Kind = MountKind.Bind, Source = file, Target = file, Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.ReadOnly,
        TargetKind = TargetKind.File, Optional = true, Reason = file + ": the host's, read-only (skipped if the image cannot take it)",
    };

    /// <summary>A bind-path entry. The defaults (/etc/hosts, /etc/localtime, read-only) are the host files every container gets.</summary>
    private static MountStep BindPath(BindSpec bind, PathKind kind)
    {
        if (bind.Source == bind.Destination && bind.ReadOnly && kind == PathKind.File && FactQueries.HostEtcFiles.Contains(bind.Source))
        {
            return HostFile(bind.Source);
        }
        string ro = bind.ReadOnly ? ", read-only" : "";
        return new MountStep
        {
            Kind = MountKind.Bind, Source = bind.Source, Target = bind.Destination,
            Flags = BindFlags | (bind.ReadOnly ? MountFlags.ReadOnly : MountFlags.None),
            TargetKind = kind == PathKind.Directory ? TargetKind.Directory : TargetKind.File, Optional = true,
            Reason = (bind.Source == bind.Destination ? bind.Source : bind.Source + " at " + bind.Destination)
                + $": the host's{ro} (bind-path; skipped if the image cannot take it)",
        };
    }

    private static MountStep Generated(string file) => new()
    {
        Kind = MountKind.Generated, Target = file, Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.ReadOnly, TargetKind = TargetKind.File,
        Reason = file + ": generated (see Synthesized files)",
    };

    private static void AddDev(List<MountStep> mounts, PlanInput input, bool ipcNamespace, bool devpts, bool minimal)
    {
        if (!input.Request.IsContained && !input.Request.BuildContainer && !minimal)
        {
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = "/dev", Target = "/dev", Flags = MountFlags.NoSuid | MountFlags.Recursive, Reason = "dev: the host's (not nodev: it holds the device nodes)" });
            return;
        }
        mounts.Add(new MountStep { Kind = MountKind.Tmpfs, Target = "/dev", Flags = MountFlags.NoSuid | MountFlags.NoExec, Data = "mode=0755", Reason = "dev: a minimal /dev (" + (minimal && !input.Request.IsContained && !input.Request.BuildContainer ? "mount-dev = minimal" : "--contain") + ")" });
        foreach (string device in ContainedDevices)
        {
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = device, Target = device, Flags = MountFlags.NoSuid, TargetKind = TargetKind.File, Reason = "dev: the host's " + Path.GetFileName(device) + " device (not nodev: it is a device node)" });
        }
        if (input.Host.TerminalDevice is { } terminal)
        {
            // As Apptainer: the caller's terminal is the container's console, so ttyname() finds the payload's terminal in /dev.
            mounts.Add(new MountStep { Kind = MountKind.Bind, Source = terminal, Target = "/dev/console", Flags = MountFlags.NoSuid, TargetKind = TargetKind.File, Reason = $"dev: your terminal {terminal} as the console" });
        }
        if (devpts)
        {
            // A pseudo-terminal instance of the container's own: it lists none of the host's terminals.
            mounts.Add(new MountStep { Kind = MountKind.Devpts, Target = "/dev/pts", Flags = MountFlags.NoSuid | MountFlags.NoExec, Data = "newinstance,ptmxmode=0666,mode=0620", Reason = "dev: a new pseudo-terminal instance (the host's terminals are not listed)" });
            mounts.Add(new MountStep { Kind = MountKind.Symlink, Source = "pts/ptmx", Target = "/dev/ptmx", Flags = MountFlags.None, Reason = "dev: opens new pseudo-terminals in the container's /dev/pts" });
        }
        foreach ((string link, string target) in ContainedDevLinks)
        {
            mounts.Add(new MountStep { Kind = MountKind.Symlink, Source = target, Target = link, Flags = MountFlags.None, Reason = "dev: the usual link to the process's descriptors" });
        }
        mounts.Add(new MountStep { Kind = MountKind.Tmpfs, Target = "/dev/shm", Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=1777", Reason = "dev: private shared memory" });
        if (ipcNamespace)
        {
            mounts.Add(new MountStep { Kind = MountKind.Mqueue, Target = "/dev/mqueue", Flags = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, Reason = "dev: message queues of the new IPC namespace" });
        }
    }
}
