using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>--nested: the mounts a container runtime inside the container needs, each with its reason for --explain.</summary>
public class NestedRuntimeTests
{
    private readonly PlanFixture _f = new();

    private LaunchPlan Plan(bool nested, bool contain = false) =>
        _f.Plan(PlanFixture.Exec("podman") with { Nested = nested, Contain = contain });

    [Fact]
    public void GivesPrivateWritableRuntimeDirectories()
    {
        IReadOnlyList<MountStep> mounts = Plan(nested: true).Mounts;
        foreach (string target in new[] { "/run", "/var/lib/containers", "/var/tmp", "/dev/shm" })
        {
            MountStep m = mounts.Last(m => m.Target == target);
            Assert.Equal(MountKind.Tmpfs, m.Kind);
            Assert.Contains("--nested", m.Reason);
            Assert.False(m.Flags.HasFlag(MountFlags.ReadOnly));
        }
        // The private /dev/shm comes after the host's /dev, which it must cover.
        Assert.True(mounts.ToList().FindIndex(m => m.Target == "/dev") < mounts.ToList().FindLastIndex(m => m.Target == "/dev/shm"));
    }

    [Fact]
    public void AddsNothingWithoutTheOption()
    {
        IReadOnlyList<MountStep> mounts = Plan(nested: false).Mounts;
        Assert.DoesNotContain(mounts, m => m.Target is "/run" or "/var/lib/containers" || m.Reason.Contains("--nested", StringComparison.Ordinal));
    }

    [Fact]
    public void MasksTheV2HierarchyOnlyOnHybridHosts()
    {
        Assert.DoesNotContain(Plan(nested: true).Mounts, m => m.Target == NestedRuntime.HybridCgroupDirectory);
        _f.HostPaths[NestedRuntime.HybridCgroupDirectory] = PathKind.Directory;
        MountStep mask = Assert.Single(Plan(nested: true).Mounts, m => m.Target == NestedRuntime.HybridCgroupDirectory);
        Assert.True(mask.Flags.HasFlag(MountFlags.ReadOnly));
        Assert.Contains("hybrid cgroups", mask.Reason);
    }

    [Fact]
    public void ContainedKeepsItsOwnDevAndTmp()
    {
        IReadOnlyList<MountStep> mounts = Plan(nested: true, contain: true).Mounts;
        Assert.Single(mounts, m => m.Target == "/dev/shm");
        Assert.Single(mounts, m => m.Target == "/var/tmp");
    }
}
