using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The arguments of a hidden command that <see cref="ContainerLauncher"/> runs through the starter in a user namespace
/// (<c>burrow COMMAND SYNC_FD JOB_FD LOG_LEVEL</c>: a build task, the shared image server's holder), parsed once.
/// </summary>
public sealed record NamespaceCommandArguments(int SyncFd, int JobFd, LogLevel Level)
{
    /// <summary>Null when the arguments are not what the launcher passes (the command was started by hand).</summary>
    public static NamespaceCommandArguments? Parse(string[] args) =>
        args.Length == 3 && int.TryParse(args[0], CultureInfo.InvariantCulture, out int sync)
        && int.TryParse(args[1], CultureInfo.InvariantCulture, out int job)
        && int.TryParse(args[2], CultureInfo.InvariantCulture, out int level)
            ? new NamespaceCommandArguments(sync, job, (LogLevel)level)
            : null;

    /// <summary>Reads the job from its memfd (and closes it).</summary>
    public T ReadJob<T>(JsonTypeInfo<T> type, int limit, string what)
    {
        using SafeFileHandle job = FileDescriptors.Own(JobFd);
        return JsonSerializer.Deserialize(FileDescriptors.ReadAll(job, limit, what), type) ?? throw new BurrowException(what + " is empty");
    }
}
