using System.Text.Json;
using Burrow.Core.Build.Tasks;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Build;

/// <summary>
/// The identity a build works as, Apptainer's unprivileged build: root in a user namespace with the caller's
/// subordinate range (<c>0 → you</c>, <c>1… → the range</c>), or root alone when there is none. Every file task
/// (<see cref="BuildTask"/>) and every container of the build (%post, %test) use the same maps, so an id means the same
/// owner throughout: the root file system on disk belongs to host ids, and inside any of them to the container's.
/// </summary>
public sealed class BuildNamespace(IdentityDecision identity, RuntimePaths paths)
{
    public IdentityDecision Identity { get; } = identity;

    public RuntimePaths Paths { get; } = paths;

    /// <summary>True when the caller's subordinate range is mapped (owners other than root can be kept).</summary>
    public bool HasRange => Identity.Plan.UidMap.Count > 1 && Identity.Plan.GidMap.Count > 1;

    /// <summary>
    /// With <paramref name="fakeroot"/> (implied for definition files) the caller's subordinate range is mapped, so the
    /// image keeps the owners the recipe gives; otherwise only root is mapped, to the caller (an image copied or
    /// unpacked as the caller, Apptainer's unprivileged behaviour). The identity's warnings say when a range is missing.
    /// </summary>
    public static BuildNamespace For(bool fakeroot, HostUser user, SubordinateIds subordinate, RuntimePaths paths)
    {
        IdentityDecision identity = fakeroot
            ? IdentityResolver.Resolve(new IdentityRequest { FakeRoot = true }, user, subordinate)
            : IdentityModes.FakeRoot(user, new SubordinateIdEntries("/etc/subuid", [], []), new SubordinateIdEntries("/etc/subgid", [], []));
        return new BuildNamespace(identity, paths);
    }

    /// <summary>PATH and locale for the tools the tasks run (unsquashfs, tar2sqfs, cp, debootstrap).</summary>
    public static IReadOnlyList<string> ToolEnvironment()
    {
        string path = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        return ["PATH=" + path, "LANG=C.UTF-8", "LC_ALL=C.UTF-8"];
    }

    /// <summary>Runs a file task and fails with <paramref name="what"/> if it does not succeed.</summary>
    public void Run(BuildTask task, string what, NamespacePlan? namespaces = null, IReadOnlyList<SafeFileHandle>? pass = null)
    {
        int status = Exec(task with { Env = [.. ToolEnvironment(), .. task.Env] }, namespaces, pass);
        if (status != 0)
        {
            throw new BurrowException($"{what} failed (exit status {status})");
        }
    }

    /// <summary>Runs a task and returns its exit status (an Exec task's program's).</summary>
    public int Exec(BuildTask task, NamespacePlan? namespaces = null, IReadOnlyList<SafeFileHandle>? pass = null)
    {
        Interruption.ThrowIfRequested();
        return Launch(task, namespaces, pass);
    }

    private int Launch(BuildTask task, NamespacePlan? namespaces, IReadOnlyList<SafeFileHandle>? pass) =>
        Interruptible(() => LaunchNow(task, namespaces, pass));

    private int LaunchNow(BuildTask task, NamespacePlan? namespaces, IReadOnlyList<SafeFileHandle>? pass)
    {
        ArgumentNullException.ThrowIfNull(task);
        byte[] job = JsonSerializer.SerializeToUtf8Bytes(task, BuildTaskJsonContext.Default.BuildTask);
        return ContainerLauncher.RunInUserNamespace(Identity.Plan, namespaces ?? new NamespacePlan(), BuildTaskRunner.CommandName, job, Paths, pass);
    }

    /// <summary>
    /// Runs a launch of the build; when a signal ended it (the container is killed whole), the interruption is what
    /// is reported, not the status or failure the killing caused.
    /// </summary>
    internal static int Interruptible(Func<int> launch)
    {
        int status;
        try
        {
            status = launch();
        }
        catch (BurrowException) when (Interruption.Signal is not null)
        {
            Interruption.ThrowIfRequested();
            throw;
        }
        Interruption.ThrowIfRequested();
        return status;
    }

    /// <summary>Removes trees the build made (their files may belong to the subordinate range, which only the namespace may remove).</summary>
    public void Remove(params string[] paths)
    {
        string[] present = paths.Where(p => Directory.Exists(p) || File.Exists(p)).ToArray();
        if (present.Length == 0)
        {
            return;
        }
        // Also after a signal: this is the clean-up the signal asked for.
        int status = LaunchNow(new BuildTask { Kind = BuildTaskKind.Remove, Paths = present, Env = ToolEnvironment() }, null, null);
        if (status != 0)
        {
            Log.Warning($"could not remove {string.Join(", ", present)} (exit status {status})");
        }
    }
}
