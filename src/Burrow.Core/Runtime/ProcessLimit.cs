using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Core.Runtime;

/// <summary>
/// The limit on a user's processes and threads (ulimit -u, RLIMIT_NPROC), named when a fork, a thread
/// or an exec fails with EAGAIN: "Resource temporarily unavailable" alone does not say what to change.
/// </summary>
public static class ProcessLimit
{
    private const string Fix = "raise it (ulimit -u) or end some of your processes: a container needs a few processes and threads of its own";

    /// <summary>"WHAT: you have reached your limit of N processes (ulimit -u N)".</summary>
    public static BurrowException Failure(string what)
    {
        ulong? limit = ProcessSecurity.ProcessLimit();
        string why = limit is { } n
            ? $"you have reached your limit of {n} processes and threads (ulimit -u {n})"
            : "the machine's limit on processes or threads is reached";
        return new BurrowException($"{what}: {why}", limit is null ? "end some processes, or ask the administrator (kernel.threads-max, pids cgroup)" : Fix);
    }

    /// <summary>A hint for a failure that may have been the limit (when a limit is set), else null.</summary>
    public static string? MaybeHint() =>
        ProcessSecurity.ProcessLimit() is { } n ? $"if it is the limit on your processes (ulimit -u {n}), {Fix}" : null;
}
