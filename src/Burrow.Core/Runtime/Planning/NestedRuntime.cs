namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// <c>--nested</c>: what a container runtime inside the container (Podman, with <c>--fakeroot</c>) needs from Burrow,
/// which users of Apptainer find by trial and error. Each mount's reason is what <c>--explain</c> shows.
/// What Burrow cannot give (a hard rlimit above the caller's, a cgroup it was not delegated) the nested runtime must
/// be told to do without; examples/podman.def does that in the image's containers.conf.
/// </summary>
public static class NestedRuntime
{
    /// <summary>On a host with hybrid cgroups, the cgroup v2 hierarchy beside the v1 controllers (crun refuses to run there).</summary>
    public const string HybridCgroupDirectory = "/sys/fs/cgroup/unified";

    public static IEnumerable<MountStep> Mounts(PlanInput input, bool devIsPrivate)
    {
        ArgumentNullException.ThrowIfNull(input);
        const MountFlags Private = MountFlags.NoSuid | MountFlags.NoDev;
        if (!devIsPrivate)
        {
            // The host's /dev keeps /dev/fuse (fuse-overlayfs); its /dev/shm holds the host's Podman locks (libpod_lock).
            yield return new MountStep { Kind = MountKind.Tmpfs, Target = "/dev/shm", Flags = Private, Data = "mode=1777", Reason = "--nested: a private /dev/shm (a host Podman's libpod_lock would collide)" };
        }
        yield return new MountStep { Kind = MountKind.Tmpfs, Target = "/run", Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=0755", Reason = "--nested: a writable, private /run (the runtime's state, locks and sockets)" };
        yield return new MountStep { Kind = MountKind.Tmpfs, Target = "/var/lib/containers", Flags = MountFlags.NoSuid | MountFlags.NoDev, Data = "mode=0700", Reason = "--nested: writable storage for the runtime's images and containers, gone at exit" };
        if (!input.Request.IsContained && !input.Request.BuildContainer)
        {
            yield return new MountStep { Kind = MountKind.Tmpfs, Target = "/var/tmp", Flags = Private, Data = "mode=1777", Reason = "--nested: a private /var/tmp (image pulls stage there; the host's would be shared)" };
        }
        if (input.Host.KindOf(HybridCgroupDirectory) == PathKind.Directory)
        {
            yield return new MountStep
            {
                Kind = MountKind.Tmpfs, Target = HybridCgroupDirectory, Flags = Private | MountFlags.NoExec | MountFlags.ReadOnly, Data = "mode=0555",
                Reason = "--nested: the host has hybrid cgroups; the v2 hierarchy is masked so that crun does not refuse (the nested runtime runs without cgroups)",
            };
        }
    }
}
