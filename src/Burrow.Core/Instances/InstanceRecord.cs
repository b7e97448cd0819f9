using System.Text.Json.Serialization;

namespace Burrow.Core.Instances;

/// <summary>
/// One instance as its state file records it: the engine that serves and supervises it (pid and start time, so a
/// reused pid is never taken for it), what it runs, and how it ended once it has.
/// </summary>
public sealed record InstanceRecord
{
    public required string Name { get; init; }
    public required string Image { get; init; }
    public required int EnginePid { get; init; }

    /// <summary>Field 22 of /proc/PID/stat: with the pid, names the process unambiguously.</summary>
    public required ulong EngineStartTime { get; init; }

    public required DateTimeOffset Started { get; init; }
    public IReadOnlyList<string> Ports { get; init; } = [];
    public required string StdoutLog { get; init; }
    public required string StderrLog { get; init; }

    /// <summary>What a command joining the instance (instance://NAME) runs as and where; null if its payload was not found.</summary>
    public InstanceJoin? Join { get; init; }

    /// <summary>Null while running; the payload's status (128+N for signal N) once it has ended.</summary>
    public int? ExitStatus { get; init; }
}

/// <summary>
/// The instance's payload process (whose namespaces a join enters) and the process plan it was started with: a joining
/// command runs with the same ids, capabilities, no_new_privs and seccomp rules, in the same namespaces.
/// </summary>
public sealed record InstanceJoin(int Pid, ulong StartTime, Runtime.ProcessPlan Process, Runtime.IdentityPlan Identity, Runtime.NamespacePlan Namespaces);

/// <summary>What <c>instance list</c> makes of a record: its engine's state, checked now.</summary>
public enum InstanceState
{
    Running,

    /// <summary>The payload ended (the record holds its status); the engine is gone.</summary>
    Exited,

    /// <summary>The engine is gone without recording an end: killed (SIGKILL, OOM) or crashed.</summary>
    Killed,
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(InstanceRecord))]
[JsonSerializable(typeof(InstanceListing[]))]
public sealed partial class InstanceJsonContext : JsonSerializerContext;

/// <summary>One line of <c>instance list --json</c>.</summary>
public sealed record InstanceListing(string Name, int Pid, string Image, string State, int? ExitStatus, IReadOnlyList<string> Ports, DateTimeOffset Started,
    string? StdoutLog, string? StderrLog);
