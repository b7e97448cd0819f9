using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Everything the planner needs to know about the host, read beforehand by
/// <see cref="Facts.HostFactsReader"/> so that the planner itself does no I/O.
/// </summary>
public sealed record HostFacts
{
    public required HostUser User { get; init; }

    /// <summary>The caller's working directory (absolute).</summary>
    public required string Cwd { get; init; }

    /// <summary>The caller's environment in the order the process had it.</summary>
    public required IReadOnlyList<EnvVar> Environment { get; init; }

    /// <summary>The kind of every host path listed by <see cref="FactQueries.HostPaths"/>.</summary>
    public required IReadOnlyDictionary<string, PathKind> Paths { get; init; }

    /// <summary>Which of descriptors 0, 1 and 2 (what the payload will get) are terminals.</summary>
    public IReadOnlyList<int> TerminalFds { get; init; } = [];

    /// <summary>net.ipv4.ip_unprivileged_port_start: the lowest port an unprivileged user may bind.</summary>
    public int UnprivilegedPortStart { get; init; } = 1024;

    /// <summary>The text of each --env-file, keyed by the path as given.</summary>
    public IReadOnlyDictionary<string, string> EnvFiles { get; init; } = new Dictionary<string, string>();

    /// <summary>The text of the --security seccomp: profile, when one was given.</summary>
    public string? SeccompProfile { get; init; }

    /// <summary>The host's terminal device on 0, 1 or 2 (/dev/pts/3), bound as a contained /dev's console; null without one.</summary>
    public string? TerminalDevice { get; init; }

    /// <summary>The running kernel's version (for a seccomp profile's minKernel).</summary>
    public Version KernelVersion { get; init; } = new(0, 0);

    /// <summary>The administrator's configuration (burrow.conf), read once before planning.</summary>
    public Config.BurrowConfig Config { get; init; } = Burrow.Core.Config.BurrowConfig.Default;

    public PathKind KindOf(string path) => Paths.TryGetValue(path, out PathKind kind)
        ? kind
        : throw new InvalidOperationException($"host fact for {path} was not gathered (FactQueries.HostPaths misses it)");
}
