using Burrow.Core.Config;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;
using Burrow.Tests.Planning;

namespace Burrow.Tests.Config;

/// <summary>The planner and the identity resolver obey each key they are given (the E2E tests run the same through the CLI).</summary>
public class ConfigObeyedTests
{
    private const string File = "/opt/burrow/etc/burrow/burrow.conf";

    private readonly PlanFixture _f = new();

    private static BurrowConfig Config(string text) => ConfigParser.Parse(text, File, BurrowConfig.Default);

    private static ActionRequest Exec(Func<ActionRequest, ActionRequest> change) => change(PlanFixture.Exec("true"));

    [Fact]
    public void UserBindsAreRefusedWhenUserBindControlIsOff()
    {
        _f.Config = Config("user-bind-control = false\n");
        var e = Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { Binds = ["/tmp:/data"] })));
        Assert.Equal($"--bind /tmp:/data: users may not add binds on this installation (user-bind-control = false in {File} line 1)", e.Message);
        _f.Plan(PlanFixture.Exec("true")); // without --bind, fine
    }

    [Theory]
    [InlineData("allow-pid-ns", "--pid: a new PID namespace is not allowed on this installation")]
    [InlineData("allow-ipc-ns", "--ipc: a new IPC namespace is not allowed on this installation")]
    [InlineData("allow-uts-ns", "--hostname box: a new UTS namespace is not allowed on this installation")]
    [InlineData("allow-net-ns", "--net: a new network namespace is not allowed on this installation")]
    public void ANamespaceTheConfigurationForbidsIsRefused(string key, string message)
    {
        _f.Config = Config($"\n{key} = false\n");
        ActionRequest request = key switch
        {
            "allow-pid-ns" => Exec(r => r with { Pid = true }),
            "allow-ipc-ns" => Exec(r => r with { Ipc = true }),
            "allow-uts-ns" => Exec(r => r with { Hostname = "box" }),
            _ => Exec(r => r with { Net = true, Network = "none" }),
        };
        var e = Assert.Throws<BurrowException>(() => _f.Plan(request));
        Assert.Equal($"{message} ({key} = false in {File} line 2)", e.Message);
        _f.Plan(PlanFixture.Exec("true"));
    }

    [Fact]
    public void ContainAllIsRefusedWhenItsPidNamespaceIsForbidden()
    {
        _f.Config = Config("allow-pid-ns = false\n");
        var e = Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { ContainAll = true })));
        Assert.Equal($"--containall: it makes a new PID namespace, which is not allowed on this installation (allow-pid-ns = false in {File} line 1)", e.Message);
        Assert.Equal("use --contain --cleanenv, which makes no PID namespace", e.Hint);
    }

    [Fact]
    public void MountTogglesLeaveTheirMountsOut()
    {
        _f.Config = Config("mount-home = \"no\"\nmount-tmp = \"no\"\nmount-proc = \"no\"\nmount-sys = \"no\"\nmount-dev = \"no\"\n");
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("true"));
        Assert.Equal(["/etc/hosts", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/resolv.conf", "/home/alice/work"], plan.Mounts.Select(m => m.Target));
    }

    [Fact]
    public void AMinimalDevIsTheContainedOneWithoutContain()
    {
        _f.Config = Config("mount-dev = \"minimal\"\n");
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("true"));
        Assert.Equal(MountKind.Tmpfs, plan.Mounts.First(m => m.Target == "/dev").Kind);
        Assert.Contains(plan.Mounts, m => m.Target == "/dev/null");
        Assert.Contains(plan.Mounts, m => m.Target == "/home/alice" && m.Kind == MountKind.Bind); // nothing else contained
    }

    [Fact]
    public void BindPathsAreBoundWhereTheHostHasThem()
    {
        _f.Config = Config("bind-path = [\"/scratch\", \"/opt/sw:/sw:ro\", \"/absent\"]\n");
        _f.HostPaths["/scratch"] = PathKind.Directory;
        _f.HostPaths["/opt/sw"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("true"));
        MountStep scratch = plan.Mounts.Single(m => m.Target == "/scratch");
        Assert.Equal("/scratch", scratch.Source);
        Assert.False(scratch.Flags.HasFlag(MountFlags.ReadOnly));
        MountStep sw = plan.Mounts.Single(m => m.Target == "/sw");
        Assert.Equal("/opt/sw", sw.Source);
        Assert.True(sw.Flags.HasFlag(MountFlags.ReadOnly));
        Assert.DoesNotContain(plan.Mounts, m => m.Target is "/absent" or "/etc/hosts" or "/etc/localtime");
        // A working directory under a bind path is visible through it, so it is not bound again.
        _f.Cwd = "/scratch/run";
        _f.HostPaths["/scratch/run"] = PathKind.Directory;
        Assert.DoesNotContain(_f.Plan(PlanFixture.Exec("true")).Mounts, m => m.Target == "/scratch/run");
    }

    [Fact]
    public void NoMountBindPathsLeavesEveryBindPathOut()
    {
        _f.Config = Config("bind-path = [\"/scratch\", \"/etc/hosts:/etc/hosts:ro\"]\n");
        _f.HostPaths["/scratch"] = PathKind.Directory;
        Assert.Contains(_f.Plan(PlanFixture.Exec("true")).Mounts, m => m.Target == "/scratch");
        LaunchPlan plan = _f.Plan(Exec(r => r with { NoMount = ["bind-paths"] }));
        Assert.DoesNotContain(plan.Mounts, m => m.Target is "/scratch" or "/etc/hosts");
        Assert.DoesNotContain(_f.Plan(Exec(r => r with { NoMount = ["/scratch"] })).Mounts, m => m.Target == "/scratch");
    }

    [Fact]
    public void TheSessionTmpfsHasTheConfiguredSize()
    {
        _f.Config = Config("sessiondir-max-size = 16\n");
        Assert.Equal("16m", _f.Plan(Exec(r => r with { WritableTmpfs = true })).Root.TmpfsSize);
    }

    [Fact]
    public void FakerootAndUsernsModesTheConfigurationForbidsAreRefused()
    {
        BurrowConfig config = Config("allow-fakeroot = false\nallow-userns-modes = [\"keep-id\"]\n");
        var fakeroot = Assert.Throws<BurrowException>(() => IdentityResolver.Resolve(new IdentityRequest { FakeRoot = true }, _f.User, SubordinateIds.None, config));
        Assert.Equal($"--fakeroot is not allowed on this installation (allow-fakeroot = false in {File} line 1)", fakeroot.Message);
        var auto = Assert.Throws<BurrowException>(() => IdentityResolver.Resolve(new IdentityRequest { UserNs = "auto:size=100" }, _f.User, SubordinateIds.None, config));
        Assert.Equal($"--userns=auto:size=100: the mode auto is not allowed on this installation (allow-userns-modes = [\"keep-id\"] in {File} line 2)", auto.Message);
        Assert.Equal("use one of: --userns=keep-id", auto.Hint);
        IdentityResolver.Resolve(IdentityRequest.Default, _f.User, SubordinateIds.None, config); // yourself: always
    }

    [Fact]
    public void BinaryPathIsSearchedInOrderWithPathExpanded()
    {
        string saved = ExecutableSearch.BinaryPath;
        try
        {
            ExecutableSearch.BinaryPath = "/opt/none:$PATH:/usr/bin";
            IReadOnlyList<string> dirs = ExecutableSearch.Directories();
            Assert.Equal("/opt/none", dirs[0]);
            Assert.Equal(dirs.Count, dirs.Distinct().Count());
            ExecutableSearch.BinaryPath = "/opt/none";
            Assert.Null(ExecutableSearch.OnPath("sh"));
            ExecutableSearch.BinaryPath = "/opt/none:/bin:/usr/bin";
            Assert.NotNull(ExecutableSearch.OnPath("sh"));
        }
        finally
        {
            ExecutableSearch.BinaryPath = saved;
        }
    }
}
