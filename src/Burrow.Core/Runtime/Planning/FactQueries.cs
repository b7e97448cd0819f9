using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The paths whose kind the planner looks up, computed from the request before any I/O so that the
/// fact readers gather exactly those and the planner stays pure. A superset is harmless; a path the
/// planner needs but this list misses is a bug, reported by <see cref="HostFacts.KindOf"/>.
/// </summary>
public static class FactQueries
{
    public const string RunScript = "/.singularity.d/runscript";
    public const string TestScript = "/.singularity.d/test";
    public const string StartScript = "/.singularity.d/startscript";
    public const string EnvScriptDir = "/.singularity.d/env";
    public const string Bash = "/bin/bash";
    public const string Sh = "/bin/sh";
    public const string HostCgroups = "/sys/fs/cgroup";

    /// <summary>Host files bound into every container when present (Apptainer's "bind path" defaults and resolv.conf).</summary>
    public static readonly IReadOnlyList<string> HostEtcFiles = ["/etc/hosts", "/etc/localtime", "/etc/resolv.conf"];

    /// <summary>Image paths whose resolved location (symlinks followed inside the image) the planner compares.</summary>
    public static readonly IReadOnlyList<string> ResolvedImagePaths = ["/tmp", "/var/tmp"];

    /// <summary>The container paths the default container mounts something on (a --writable image must have them).</summary>
    private static readonly IReadOnlyList<string> s_defaultTargets =
        ["/dev", "/proc", "/sys", "/tmp", "/var/tmp", "/etc/hosts", "/etc/localtime", "/etc/resolv.conf", "/etc/hostname", "/etc/passwd", "/etc/group"];

    public static IReadOnlyList<string> HostPaths(ActionRequest request, HostUser user, string hostCwd, IdentityDecision identity, IReadOnlyList<EnvVar> environment,
        Config.BurrowConfig? config = null)
    {
        config ??= Config.BurrowConfig.Default;
        HomeSpec home = HomeSpec.Resolve(request, user, identity, hostCwd);
        var paths = new List<string> { user.Home, home.Source, hostCwd, "/tmp", "/var/tmp", HostCgroups };
        if (request.Nested)
        {
            paths.Add(NestedRuntime.HybridCgroupDirectory);
        }
        paths.AddRange(HostEtcFiles);
        paths.AddRange(ConfiguredBinds(config).Select(b => b.Source));
        if (Workdir.Resolve(request, hostCwd) is { } workdir)
        {
            paths.Add(workdir);
        }
        foreach (BindSpec bind in UserBinds.All(request, environment, hostCwd))
        {
            paths.Add(bind.Source);
        }
        foreach (OverlaySpec overlay in OverlaySpec.ParseAll(request.Overlays, hostCwd))
        {
            paths.Add(overlay.Directory);
            paths.Add(overlay.Upper);
        }
        // The container paths the planner asks about (the working directory, home, --pwd, mount targets) may sit under
        // any bind: ask for each one's host path through every bind that could cover it.
        foreach (string target in ContainerPaths(request, hostCwd, identity, environment, config))
        {
            foreach ((string source, string destination) in BindCandidates(request, home, hostCwd, environment, config))
            {
                if (Planning.ContainerPaths.TryRebase(target, destination, source, out string? hostPath))
                {
                    paths.Add(hostPath);
                }
            }
        }
        return paths.Distinct(StringComparer.Ordinal).ToArray();
    }

    public static IReadOnlyList<string> ImagePaths(ActionRequest request, string hostCwd, IdentityDecision identity, IReadOnlyList<EnvVar> environment,
        Config.BurrowConfig? config = null)
    {
        var paths = new List<string> { "/", RunScript, TestScript, StartScript, Bash, Sh };
        paths.AddRange(ContainerPaths(request, hostCwd, identity, environment, config ?? Config.BurrowConfig.Default));
        if (request.Shell is { } shell && shell.StartsWith('/'))
        {
            paths.Add(shell);
        }
        if (request.App is { } app && ScifApp.IsValidName(app))
        {
            paths.AddRange(ScifApp.Paths(app));
        }
        return paths.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The container paths whose kind the planner may need: working directory, home, --pwd, every mount target.</summary>
    private static IEnumerable<string> ContainerPaths(ActionRequest request, string hostCwd, IdentityDecision identity, IReadOnlyList<EnvVar> environment,
        Config.BurrowConfig config)
    {
        yield return hostCwd;
        yield return identity.HomeDestination;
        if (request.Pwd is { } pwd && pwd.StartsWith('/'))
        {
            yield return BindSpec.NormalizeIfAbsolute(pwd);
        }
        foreach (string target in s_defaultTargets)
        {
            yield return target;
        }
        // A destination no Linux path can be is not looked up (the lookup would fail first); PlanChecks names it.
        foreach (BindSpec bind in UserBinds.All(request, environment, hostCwd).Where(b => b.Destination.StartsWith('/') && FitsLinuxLimits(b.Destination)))
        {
            yield return bind.Destination;
        }
        foreach (string scratch in Workdir.ScratchDirectories(request).Where(s => s.StartsWith('/')))
        {
            yield return scratch;
        }
        foreach (BindSpec bind in ConfiguredBinds(config))
        {
            yield return bind.Destination;
        }
    }

    /// <summary>The configuration's bind-path entries (validated when the file was read), as binds.</summary>
    public static IReadOnlyList<BindSpec> ConfiguredBinds(Config.BurrowConfig config) => BindSpec.ParseAll(config.BindPaths, "/");

    /// <summary>Every (host source, container target) bind the planner might make.</summary>
    private static IEnumerable<(string Source, string Target)> BindCandidates(ActionRequest request, HomeSpec home, string hostCwd, IReadOnlyList<EnvVar> environment,
        Config.BurrowConfig config)
    {
        foreach (BindSpec bind in ConfiguredBinds(config))
        {
            yield return (bind.Source, bind.Destination);
        }
        yield return (home.Source, home.Destination);
        yield return ("/tmp", "/tmp");
        yield return ("/var/tmp", "/var/tmp");
        yield return ("/dev", "/dev");
        yield return (hostCwd, hostCwd);
        if (Workdir.Resolve(request, hostCwd) is { } workdir)
        {
            yield return (Workdir.Tmp(workdir), "/tmp");
            yield return (Workdir.VarTmp(workdir), "/var/tmp");
            yield return (Workdir.Home(workdir), home.Destination);
            foreach (string scratch in Workdir.ScratchDirectories(request).Where(s => s.StartsWith('/')))
            {
                yield return (Workdir.Scratch(workdir, scratch), scratch);
            }
        }
        foreach (BindSpec bind in UserBinds.All(request, environment, hostCwd))
        {
            yield return (bind.Source, bind.Destination);
        }
    }

    /// <summary>PATH_MAX (4096 with its NUL) and NAME_MAX (255 bytes per component).</summary>
    private static bool FitsLinuxLimits(string path) =>
        System.Text.Encoding.UTF8.GetByteCount(path) < 4096 && path.Split('/').All(c => System.Text.Encoding.UTF8.GetByteCount(c) <= 255);
}

/// <summary>Lexical helpers for absolute container paths.</summary>
public static class ContainerPaths
{
    /// <summary>True when <paramref name="path"/> is <paramref name="dir"/> or below it.</summary>
    public static bool IsAtOrUnder(string path, string dir) =>
        dir == "/" || path == dir || path.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>Maps a path under <paramref name="from"/> to the same place under <paramref name="to"/>.</summary>
    public static bool TryRebase(string path, string from, string to, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? result)
    {
        if (!IsAtOrUnder(path, from))
        {
            result = null;
            return false;
        }
        string rest = from == "/" ? path.TrimStart('/') : path[from.TrimEnd('/').Length..].TrimStart('/');
        result = rest.Length == 0 ? to : to.TrimEnd('/') + "/" + rest;
        return true;
    }
}
