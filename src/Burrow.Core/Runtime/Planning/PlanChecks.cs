namespace Burrow.Core.Runtime.Planning;

/// <summary>One problem a check found: what is wrong, naming the thing, how to fix it, and the exit status it stops the launch with.</summary>
public sealed record CheckFinding(string Check, string Message, string? Hint = null, int ExitCode = Diagnostics.ExitCodes.Failure);

/// <summary>What a check looks at: the input and the plan drafted from it.</summary>
public sealed record PlanContext(PlanInput Input, IReadOnlyList<BindSpec> Binds, LaunchPlan Draft);

/// <summary>
/// A small named validation rule (runc's validate.Validate style). Strict findings stop the launch with
/// <paramref name="ExitCode"/> (Apptainer's status for that mistake); warnings are printed.
/// </summary>
public sealed record PlanCheck(string Name, Func<PlanContext, IEnumerable<(string Message, string? Hint)>> Find, int ExitCode = Diagnostics.ExitCodes.Failure)
{
    public IEnumerable<CheckFinding> Run(PlanContext context) => Find(context).Select(f => new CheckFinding(Name, f.Message, f.Hint, ExitCode));
}

public static class PlanChecks
{
    public static readonly IReadOnlyList<PlanCheck> Strict =
    [
        new("command-given", CommandGiven, Diagnostics.ExitCodes.Usage),
        new("command-not-empty", CommandNotEmpty),
        new("bind-destination-absolute", BindDestinationAbsolute),
        new("bind-destination-length", BindDestinationLength),
        new("bind-destination-not-root", BindDestinationNotRoot),
        new("bind-source-exists", BindSourceExists),
        new("pwd-absolute", PwdAbsolute),
        new("pwd-exists", PwdExists),
        new("network-unprivileged", NetworkUnprivileged),
        new("hostname-valid", HostnameValid),
        new("writable-sandbox", WritableSandbox),
        new("overlay-directory", OverlayDirectory),
        new("overlay-one-writable", OverlayOneWritable),
        new("writable-bind-destination", WritableBindDestination),
        new("workdir-directory", WorkdirDirectory),
        new("scratch-absolute", ScratchAbsolute),
        // Apptainer's action script says these and exits 1.
        new("app-exists", AppExists, ExitCode: 1),
        new("app-script-exists", AppScriptExists, ExitCode: 1),
        .. ConfigChecks.Strict,
    ];

    public static readonly IReadOnlyList<PlanCheck> Warnings =
    [
        new("identity-files-in-image", IdentityFilesInImage),
        new("home-on-host", HomeOnHost),
        new("cwd-in-container", CwdInContainer),
        new("env-file-overridden", EnvFileOverridden),
        new("writable-tmpfs-ignored", WritableTmpfsIgnored),
        new("nested-runtime-identity", NestedRuntimeIdentity),
        new("no-mount-known", NoMountKnown),
        new("home-source-exists", HomeSourceExists),
    ];

    /// <summary>
    /// A container runtime inside needs ids to give: with --fakeroot and a range it has them; with root only its
    /// containers' /dev/pts (gid 5) and files of other owners fail with "Invalid argument"; without a root mode a
    /// rootless runtime needs newuidmap, which nosuid and no_new_privs stop.
    /// </summary>
    private static IEnumerable<(string, string?)> NestedRuntimeIdentity(PlanContext c)
    {
        IdentityPlan id = c.Input.Identity.Plan;
        bool rootMode = id.Mode is Burrow.Core.Identity.IdentityModes.FakeRootMode or Burrow.Core.Identity.IdentityModes.AutoMode;
        bool wantsNested = c.Input.Request.Nested || c.Binds.Any(b => b.Destination is "/etc/subuid" or "/etc/subgid");
        if (wantsNested && !rootMode)
        {
            yield return ("a container runtime inside this container cannot map users (newuidmap and newgidmap are setuid, and the container's nosuid mounts and no_new_privs stop them): add --fakeroot, so that it runs as root of a user namespace with your range",
                null);
        }
        else if (c.Input.Request.Nested && id.UidMap.Count <= 1)
        {
            yield return ("--nested: only root is mapped (you have no range in /etc/subuid and /etc/subgid), so a runtime inside can give no other owner: Podman fails on its containers' /dev/pts (gid 5) and on image files of other users with 'Invalid argument'; ask the administrator for a range of 65536 ids",
                null);
        }
    }

    private static IEnumerable<(string, string?)> CommandGiven(PlanContext c)
    {
        if (c.Input.Request.Action == ActionKind.Exec && c.Input.Request.Arguments.Count == 0)
        {
            yield return ("exec needs a command to run in the container", "burrow exec IMAGE COMMAND [ARGS…]");
        }
    }

    private static IEnumerable<(string, string?)> CommandNotEmpty(PlanContext c)
    {
        if (c.Input.Request.Action == ActionKind.Exec && c.Input.Request.Arguments.Count > 0 && c.Input.Request.Arguments[0].Length == 0)
        {
            yield return ("exec: the command to run is an empty string ('')", "give the command's name or path: burrow exec IMAGE COMMAND [ARGS…]");
        }
    }

    /// <summary>Linux refuses paths over PATH_MAX (4096 bytes with the NUL) and names over NAME_MAX (255 bytes).</summary>
    private static IEnumerable<(string, string?)> BindDestinationLength(PlanContext c)
    {
        const int pathMax = 4095, nameMax = 255;
        foreach (BindSpec b in c.Binds)
        {
            int bytes = System.Text.Encoding.UTF8.GetByteCount(b.Destination);
            int longest = b.Destination.Split('/').Max(n => System.Text.Encoding.UTF8.GetByteCount(n));
            if (bytes > pathMax || longest > nameMax)
            {
                string shown = b.Destination.Length > 60 ? b.Destination[..60] + "…" : b.Destination;
                yield return (bytes > pathMax
                    ? $"{b.Origin}: the destination {shown} is {bytes} bytes long; Linux paths are at most {pathMax}"
                    : $"{b.Origin}: the destination {shown} has a name of {longest} bytes; Linux names are at most {nameMax}",
                    "give a shorter container path");
            }
        }
    }

    private static IEnumerable<(string, string?)> BindDestinationAbsolute(PlanContext c)
    {
        foreach (BindSpec b in c.Binds.Where(b => !b.Destination.StartsWith('/')))
        {
            yield return ($"{b.Origin} {b.Given}: the destination '{b.Destination}' is not an absolute path",
                $"give the container path from /, e.g. --bind {b.Source}:/{b.Destination.TrimStart('.', '/')}");
        }
    }

    private static IEnumerable<(string, string?)> BindDestinationNotRoot(PlanContext c)
    {
        foreach (BindSpec b in c.Binds.Where(b => b.Destination == "/"))
        {
            yield return ($"{b.Origin} {b.Given}: cannot bind over the container's /", "bind into a directory, e.g. --bind " + b.Source + ":/mnt");
        }
    }

    private static IEnumerable<(string, string?)> BindSourceExists(PlanContext c)
    {
        foreach (BindSpec b in c.Binds.Where(b => c.Input.Host.KindOf(b.Source) == PathKind.Missing))
        {
            yield return ($"{b.Origin} {b.Given}: the source {b.Source} does not exist on the host",
                "create it first or fix the path (the source is a host path; write \\, for a comma and \\: for a colon in it)");
        }
    }

    private static IEnumerable<(string, string?)> PwdAbsolute(PlanContext c)
    {
        if (c.Input.Request.Pwd is { } pwd && !pwd.StartsWith('/'))
        {
            yield return ($"--pwd {pwd}: not an absolute path", "give the container directory from /, e.g. --pwd /" + pwd.TrimStart('.', '/'));
        }
    }

    private static IEnumerable<(string, string?)> PwdExists(PlanContext c)
    {
        if (c.Input.Request.Pwd is { } pwd && pwd.StartsWith('/')
            && ContainerView.KindOf(c.Draft.Process.Cwd, c.Draft.Mounts, c.Input) is { } kind && kind != PathKind.Directory)
        {
            yield return ($"--pwd {pwd}: no such directory in the container",
                "give a directory that exists in the image or in a bound path (see --explain for what is bound where)");
        }
    }

    private static IEnumerable<(string, string?)> NetworkUnprivileged(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        if (r.Network is { } type && !NetworkPlanner.Types.Contains(type))
        {
            yield return ($"--network {type}: {(type == "bridge" ? "a bridge needs privileges Burrow does not use" : "unknown network type")}",
                "use --network pasta (the default with --net) or slirp4netns for outbound access and published ports, none for lo only");
        }
        if (r.Publish.Count > 0 && r.Network == "none")
        {
            yield return ("--publish needs a network helper, and --network none has none", "use --network pasta or slirp4netns, or leave --network out");
        }
        IReadOnlyList<PortMapping> ports = c.Draft.Network?.Ports ?? [];
        foreach (PortMapping p in ports.Where(p => p.HostPort < c.Input.Host.UnprivilegedPortStart))
        {
            yield return ($"--publish {p.HostPort}:{p.ContainerPort}: host port {p.HostPort} is below {c.Input.Host.UnprivilegedPortStart}, which only root may bind here",
                $"use a host port of {c.Input.Host.UnprivilegedPortStart} or more (e.g. --publish {p.HostPort + 8000}:{p.ContainerPort}), or ask the administrator to lower sysctl net.ipv4.ip_unprivileged_port_start");
        }
        foreach (var twice in ports.GroupBy(p => (p.HostAddress, p.HostPort, p.Protocol)).Where(g => g.Count() > 1))
        {
            yield return ($"--publish: host port {twice.Key.HostPort}/{twice.Key.Protocol} is given {twice.Count()} times", "publish each host port once");
        }
    }

    private static IEnumerable<(string, string?)> HostnameValid(PlanContext c)
    {
        if (c.Input.Request.Hostname is { } name
            && (name.Length is 0 or > 64 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.')))
        {
            yield return ($"--hostname {name}: not a valid host name", "use 1 to 64 letters, digits, '-' and '.'");
        }
    }

    private static IEnumerable<(string, string?)> WritableSandbox(PlanContext c)
    {
        if (c.Input.Request.Writable && c.Input.Image.Format == Images.ImageFormat.Sif)
        {
            yield return ($"--writable: the SIF image {c.Input.Image.RootPath} cannot be changed in place",
                "use --writable-tmpfs for changes that vanish at exit, --overlay DIR to keep them in a directory, or build a sandbox (burrow build --sandbox DIR IMAGE) and run that --writable");
            yield break;
        }
        if (c.Input.Request.Writable && !c.Input.Image.RootWritableByCaller)
        {
            yield return ($"--writable: you cannot write to the image {c.Input.Image.RootPath}",
                "use a sandbox directory you own (e.g. a copy: cp -a IMAGE mine), or leave --writable out to run it read-only");
        }
    }

    private static IEnumerable<(string, string?)> OverlayDirectory(PlanContext c)
    {
        foreach (OverlaySpec o in OverlaySpec.ParseAll(c.Input.Request.Overlays, c.Input.Host.Cwd))
        {
            PathKind kind = c.Input.Host.KindOf(o.Directory);
            if (kind != PathKind.Directory)
            {
                yield return ($"--overlay {o.Given}: {o.Directory} {(kind == PathKind.Missing ? "does not exist" : "is not a directory")}",
                    kind == PathKind.Missing ? $"create it first (mkdir -p {o.Directory}); Burrow keeps the changes in its upper/ directory" : "give a directory (overlay images are not supported)");
            }
        }
    }

    private static IEnumerable<(string, string?)> OverlayOneWritable(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        IReadOnlyList<OverlaySpec> writable = OverlaySpec.ParseAll(r.Overlays, c.Input.Host.Cwd).Where(o => !o.ReadOnly).ToArray();
        if (writable.Count > 1)
        {
            yield return ($"--overlay: {writable.Count} writable overlays ({string.Join(", ", writable.Select(o => o.Given))}); only one can take the changes",
                "add :ro to all but one of them");
        }
        if (r.Overlays.Count > 0 && r.Writable)
        {
            yield return ("--overlay and --writable cannot be used together", "with --overlay, changes go to the overlay: leave --writable out");
        }
        if (writable.Count > 0 && r.WritableTmpfs)
        {
            yield return ($"--writable-tmpfs and the writable overlay {writable[0].Given} cannot be used together",
                "the overlay takes the changes already; leave --writable-tmpfs out or add :ro to the overlay");
        }
    }

    private static IEnumerable<(string, string?)> WritableTmpfsIgnored(PlanContext c)
    {
        if (c.Input.Request.WritableTmpfs && c.Input.Request.Writable)
        {
            yield return ("--writable-tmpfs is ignored with --writable: changes go to the sandbox itself", null);
        }
    }

    private static IEnumerable<(string, string?)> IdentityFilesInImage(PlanContext c)
    {
        if (!IdentityFiles.ShouldGenerate(c.Input.Identity, RootPlanner.IsWritable(c.Draft.Root)))
        {
            yield break;
        }
        if (c.Input.Image.Passwd is null)
        {
            yield return ("passwd file doesn't exist in the container, not updating it", null);
        }
        if (c.Input.Image.Group is null)
        {
            yield return ("group file doesn't exist in the container, not updating it", null);
        }
    }

    private static IEnumerable<(string, string?)> HomeOnHost(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        if (!r.NoHome && !r.IsContained && r.Home is null && c.Input.Host.KindOf(c.Input.Host.User.Home) != PathKind.Directory)
        {
            yield return ($"your home directory {c.Input.Host.User.Home} does not exist on the host; it is not bound", null);
        }
    }

    private static IEnumerable<(string, string?)> CwdInContainer(PlanContext c)
    {
        if (ContainerView.WorkingDirectory(c.Input, c.Draft.Mounts).FellBack)
        {
            string wanted = c.Input.Request.IsContained ? c.Input.Identity.HomeDestination : c.Input.Host.Cwd;
            yield return ($"{wanted} does not exist in the container; starting in {c.Draft.Process.Cwd} instead", null);
        }
    }

    /// <summary>As Apptainer: a variable both in an --env-file and in --env takes --env's value, visibly.</summary>
    private static IEnumerable<(string, string?)> EnvFileOverridden(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        var fromOptions = EnvironmentPlanner.EnvOptionValues(r.Env).Select(e => e.Split('=', 2)[0]).ToHashSet(StringComparer.Ordinal);
        foreach ((string file, EnvVar v) in EnvironmentPlanner.EnvFileValues(r, c.Input.Host).Where(x => fromOptions.Contains(x.Value.Name)))
        {
            yield return ($"ignored {v.Name} from --env-file {file}: --env sets it", null);
        }
    }

    /// <summary>As Apptainer: with --writable, Burrow makes no mount point for a bind (or --home) in the image itself.</summary>
    private static IEnumerable<(string, string?)> WritableBindDestination(PlanContext c)
    {
        if (!c.Input.Request.Writable)
        {
            yield break;
        }
        IReadOnlyList<MountStep> mounts = c.Draft.Mounts;
        HomeSpec home = HomeSpec.Resolve(c.Input.Request, c.Input.Host.User, c.Input.Identity, c.Input.Host.Cwd);
        for (int i = 0; i < mounts.Count; i++)
        {
            MountStep m = mounts[i];
            bool customHome = home.Custom && m.Target == home.Destination;
            if ((MountPlanner.IsUserBind(m) || customHome) && m.Target.StartsWith('/') && m.Target != "/"
                && WritableRoot.WouldCreateInImage(m.Target, mounts.Take(i).ToArray(), c.Input))
            {
                string what = customHome ? $"{HomeSpec.Option} {c.Input.Request.Home}" : m.Reason[MountPlanner.UserBindReason.Length..];
                yield return ($"{what}: {m.Target} does not exist in the image, and Burrow makes no mount point in a writable image",
                    $"create it in the sandbox first (mkdir -p {c.Input.Image.RootPath.TrimEnd('/')}{m.Target}), or leave --writable out: mount points then go to a throw-away layer");
            }
        }
    }

    private static IEnumerable<(string, string?)> WorkdirDirectory(PlanContext c)
    {
        if (Workdir.Resolve(c.Input.Request, c.Input.Host.Cwd) is { } dir && c.Input.Host.KindOf(dir) != PathKind.Directory)
        {
            yield return ($"{Workdir.Option} {c.Input.Request.Workdir}: {dir} {(c.Input.Host.KindOf(dir) == PathKind.Missing ? "does not exist" : "is not a directory")}",
                $"create it first (mkdir -p {dir}); Burrow makes tmp, var_tmp, home and scratch in it");
        }
    }

    private static IEnumerable<(string, string?)> ScratchAbsolute(PlanContext c)
    {
        foreach (string dir in Workdir.ScratchDirectories(c.Input.Request).Where(d => !d.StartsWith('/') || d == "/"))
        {
            yield return ($"{Workdir.ScratchOption} {dir}: {(dir == "/" ? "cannot be the container's /" : "not an absolute path")}", "give a container directory from /, e.g. --scratch /scratch");
        }
    }

    private static IEnumerable<(string, string?)> AppExists(PlanContext c)
    {
        if (c.Input.Request.App is not { } app)
        {
            yield break;
        }
        if (!ScifApp.IsValidName(app))
        {
            yield return ($"--app {app}: not a valid app name", "an app is a directory of /scif/apps: a name without '/'");
        }
        else if (c.Input.Image.KindOf(ScifApp.Root(app)) != PathKind.Directory)
        {
            yield return ($"--app {app}: the image has no SCIF app {app} ({ScifApp.Root(app)} does not exist)", "list the image's apps with: burrow inspect --list-apps IMAGE");
        }
    }

    private static IEnumerable<(string, string?)> AppScriptExists(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        if (r.App is { } app && ScifApp.IsValidName(app) && c.Input.Image.KindOf(ScifApp.Root(app)) == PathKind.Directory && c.Draft.Process.Argv.Count == 0)
        {
            yield return r.Action == ActionKind.Test
                ? ($"no test for the SCIF app {app}: {ScifApp.Test(app)} does not exist", "the definition's %apptest section makes it")
                : ($"no runscript for the SCIF app {app}: {ScifApp.Runscript(app)} does not exist", "the definition's %apprun section makes it; or run a command with burrow exec --app " + app);
        }
    }

    private static IEnumerable<(string, string?)> NoMountKnown(PlanContext c)
    {
        foreach (string unknown in NoMountSet.Parse(c.Input.Request.NoMount).Unknown)
        {
            yield return ($"{NoMountSet.Option}: ignoring unknown mount type '{unknown}' (known: proc, sys, dev, devpts, home, tmp, hostfs, cwd, bind-paths, or a path)", null);
        }
    }

    private static IEnumerable<(string, string?)> HomeSourceExists(PlanContext c)
    {
        ActionRequest r = c.Input.Request;
        HomeSpec home = HomeSpec.Resolve(r, c.Input.Host.User, c.Input.Identity, c.Input.Host.Cwd);
        if (home.Custom && !r.NoHome && c.Input.Host.KindOf(home.Source) != PathKind.Directory)
        {
            yield return ($"{HomeSpec.Option} {r.Home}: {home.Source} is not a directory on the host; the container gets an empty home at {home.Destination}", null);
        }
    }
}
