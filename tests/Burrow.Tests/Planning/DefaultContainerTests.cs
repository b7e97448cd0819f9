using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

public class DefaultContainerTests
{
    private readonly PlanFixture _f = new();

    [Fact]
    public void DefaultMountsComeInApptainerOrder()
    {
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.Equal(
            ["/dev", "/proc", "/sys", "/home/alice", "/tmp", "/var/tmp", "/etc/hosts", "/etc/localtime", "/etc/resolv.conf"],
            plan.Mounts.Select(m => m.Target));
        Assert.All(plan.Mounts, m => Assert.Equal(MountKind.Bind, m.Kind));
    }

    [Fact]
    public void EveryMountIsNosuidAndEveryBindButDevicesIsNodev()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/tmp:/data:ro"], ContainAll = true });
        Assert.All(plan.Mounts, m => Assert.True(m.Flags.HasFlag(MountFlags.NoSuid), m.Target));
        Assert.All(plan.Mounts.Where(m => m.Kind == MountKind.Bind && !m.Target.StartsWith("/dev", StringComparison.Ordinal)),
            m => Assert.True(m.Flags.HasFlag(MountFlags.NoDev), m.Target));
    }

    [Fact]
    public void HostNamespacesAreKeptByDefault()
    {
        NamespacePlan ns = _f.Plan(PlanFixture.Exec("id")).Namespaces;
        Assert.Equal(new NamespacePlan(), ns);
    }

    [Fact]
    public void ProcessIsTheCallerWithNoCapabilitiesAndNoNewPrivs()
    {
        ProcessPlan p = _f.Plan(PlanFixture.Exec("id", "-a")).Process;
        Assert.Equal(["id", "-a"], p.Argv);
        Assert.Equal((1000u, 1000u), (p.Uid, p.Gid));
        Assert.Equal([27u, 5000u], p.SupplementaryGroups);
        Assert.Equal(CapabilitySets.None, p.Capabilities);
        Assert.True(p.NoNewPrivileges);
        Assert.Equal("/home/alice/work", p.Cwd);
    }

    [Fact]
    public void CwdUnderHomeIsNotBoundTwice()
    {
        Assert.DoesNotContain(_f.Plan(PlanFixture.Exec("id")).Mounts, m => m.Target == "/home/alice/work");
    }

    [Fact]
    public void CwdOutsideEveryBindIsBoundAtTheSamePath()
    {
        _f.Cwd = "/scratch/run1";
        _f.HostPaths["/scratch/run1"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        MountStep last = plan.Mounts[^1];
        Assert.Equal(("/scratch/run1", "/scratch/run1"), (last.Source, last.Target));
        Assert.Equal("/scratch/run1", plan.Process.Cwd);
    }

    [Fact]
    public void SystemDirectoryAsCwdIsNeverBoundAndFallsBackToHomeWhenMissingInImage()
    {
        _f.Cwd = "/opt";
        _f.HostPaths["/opt"] = PathKind.Directory;
        (LaunchPlan plan, _, IReadOnlyList<CheckFinding> warnings) = LaunchPlanner.PlanAndCheck(_f.Input(PlanFixture.Exec("id")));
        Assert.DoesNotContain(plan.Mounts, m => m.Target == "/opt");
        Assert.Equal("/home/alice", plan.Process.Cwd);
        Assert.Contains(warnings, w => w.Check == "cwd-in-container");
    }

    [Fact]
    public void ContainGivesPrivateTmpHomeAndDevAndStartsInHome()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Contain = true });
        MountStep Mount(string target) => plan.Mounts.Single(m => m.Target == target);
        Assert.Equal(MountKind.Tmpfs, Mount("/tmp").Kind);
        Assert.Equal(MountKind.Tmpfs, Mount("/var/tmp").Kind);
        Assert.Equal(MountKind.Tmpfs, Mount("/home/alice").Kind);
        Assert.Equal(MountKind.Tmpfs, Mount("/dev").Kind);
        Assert.Equal(MountKind.Bind, Mount("/dev/null").Kind);
        Assert.DoesNotContain(plan.Mounts, m => m.Target == "/etc/resolv.conf");
        Assert.Contains(plan.Mounts, m => m.Target == "/etc/hosts");
        Assert.DoesNotContain(plan.Mounts, m => m.Target == _f.Cwd);
        Assert.Equal("/home/alice", plan.Process.Cwd);
        Assert.False(plan.Namespaces.Pid);
    }

    [Fact]
    public void ContainAllAddsPidIpcAndCleanEnv()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], ContainAll = true });
        Assert.True(plan.Namespaces.Pid && plan.Namespaces.Ipc && plan.Namespaces.Init);
        Assert.Equal(MountKind.Proc, plan.Mounts.Single(m => m.Target == "/proc").Kind);
        Assert.Contains(plan.Mounts, m => m.Kind == MountKind.Mqueue);
        Assert.DoesNotContain(plan.Process.Env, v => v.Name == "LANG" && v.Value != "C");
    }

    [Fact]
    public void NoHomeSkipsTheHomeBind()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], NoHome = true });
        Assert.DoesNotContain(plan.Mounts, m => m.Target == "/home/alice");
    }

    [Fact]
    public void MissingHostEtcFilesAreSkipped()
    {
        _f.HostPaths.Remove("/etc/localtime");
        Assert.DoesNotContain(_f.Plan(PlanFixture.Exec("id")).Mounts, m => m.Target == "/etc/localtime");
    }

    [Fact]
    public void NetworkNoneAndHostnameMakeNamespacesAndHostnameFile()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Net = true, Network = "none", Hostname = "box", Pid = true, NoInit = true });
        Assert.True(plan.Namespaces.Net && plan.Namespaces.Uts && plan.Namespaces.Pid);
        Assert.False(plan.Namespaces.Init);
        Assert.Equal("box", plan.Hostname);
        Assert.Equal("box\n", plan.Files.Single(f => f.Target == "/etc/hostname").Content);
    }

    [Theory]
    [InlineData("bridge")]
    [InlineData("macvlan")]
    public void NetworksWithoutAnUnprivilegedHelperAreRefused(string network)
    {
        var e = Assert.Throws<Core.Diagnostics.BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Net = true, Network = network }));
        Assert.Contains("--network " + network, e.Message);
        Assert.Contains("pasta", e.Hint);
    }

    [Fact]
    public void NetAloneGetsPastaWithItsResolver()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Net = true });
        Assert.True(plan.Namespaces.Net);
        Assert.Equal(NetworkHelperKind.Pasta, plan.Network!.Helper);
        Assert.Equal("nameserver 169.254.1.1\n", plan.Files.Single(f => f.Target == "/etc/resolv.conf").Content);
    }

    [Fact]
    public void WritableNeedsASandboxTheCallerMayWrite()
    {
        var request = new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Writable = true };
        Assert.Contains("--writable", Assert.Throws<Core.Diagnostics.BurrowException>(() => _f.Plan(request)).Message);
        _f.RootWritable = true;
        Assert.True(_f.Plan(request).Root.Writable);
    }
}
