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

    /// <summary>The host's resolver configuration, bound (read-only) unless contained (Apptainer's "config resolv_conf").</summary>
    public const string ResolvConf = "/etc/resolv.conf";

    public static IReadOnlyList<string> HostPaths(ActionRequest request, HostUser user, string hostCwd, IdentityDecision identity,
        Config.BurrowConfig? config = null)
    {
        var paths = new List<string> { user.Home, hostCwd, "/tmp", "/var/tmp", ResolvConf };
        paths.AddRange(ConfiguredBinds(config ?? Config.BurrowConfig.Default).Select(b => b.Source));
        foreach (BindSpec bind in BindSpec.ParseAll(request.Binds, hostCwd))
        {
            paths.Add(bind.Source);
        }
        foreach (OverlaySpec overlay in OverlaySpec.ParseAll(request.Overlays, hostCwd))
        {
            paths.Add(overlay.Directory);
            paths.Add(overlay.Upper);
        }
        // The container paths the planner asks about (the working directory, home, --pwd) may sit under any
        // bind: ask for each one's host path through every bind that could cover it.
        var containerPaths = new List<string> { hostCwd, identity.HomeDestination };
        if (request.Pwd is { } pwd && pwd.StartsWith('/'))
        {
            containerPaths.Add(BindSpec.NormalizeIfAbsolute(pwd));
        }
        foreach (string target in containerPaths)
        {
            foreach ((string source, string destination) in BindCandidates(request, user, hostCwd, identity, config ?? Config.BurrowConfig.Default))
            {
                if (ContainerPaths.TryRebase(target, destination, source, out string? hostPath))
                {
                    paths.Add(hostPath);
                }
            }
        }
        return paths.Distinct(StringComparer.Ordinal).ToArray();
    }

    public static IReadOnlyList<string> ImagePaths(ActionRequest request, string hostCwd, IdentityDecision identity)
    {
        var paths = new List<string> { hostCwd, identity.HomeDestination, "/", RunScript, TestScript, StartScript, Bash, Sh, "/etc/passwd", "/etc/group" };
        if (request.Pwd is { } pwd && pwd.StartsWith('/'))
        {
            paths.Add(BindSpec.NormalizeIfAbsolute(pwd));
        }
        if (request.Shell is { } shell && shell.StartsWith('/'))
        {
            paths.Add(shell);
        }
        return paths.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The configuration's bind-path entries (validated when the file was read), as binds.</summary>
    public static IReadOnlyList<BindSpec> ConfiguredBinds(Config.BurrowConfig config) => BindSpec.ParseAll(config.BindPaths, "/");

    /// <summary>Every (host source, container target) bind the planner might make.</summary>
    private static IEnumerable<(string Source, string Target)> BindCandidates(ActionRequest request, HostUser user, string hostCwd, IdentityDecision identity,
        Config.BurrowConfig config)
    {
        foreach (BindSpec bind in ConfiguredBinds(config))
        {
            yield return (bind.Source, bind.Destination);
        }
        yield return (user.Home, identity.HomeDestination);
        yield return ("/tmp", "/tmp");
        yield return ("/var/tmp", "/var/tmp");
        yield return (hostCwd, hostCwd);
        foreach (BindSpec bind in BindSpec.ParseAll(request.Binds, hostCwd))
        {
            yield return (bind.Source, bind.Destination);
        }
    }
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
