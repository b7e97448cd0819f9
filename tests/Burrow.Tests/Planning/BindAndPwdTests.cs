using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

public class BindAndPwdTests
{
    private readonly PlanFixture _f = new();

    public BindAndPwdTests()
    {
        _f.HostPaths["/data"] = PathKind.Directory;
        _f.HostPaths["/data/in"] = PathKind.Directory;
        _f.HostPaths["/etc/motd"] = PathKind.File;
    }

    [Fact]
    public void BindsAreRepeatableAndCommaListsWithModes()
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/data:/mnt/d:ro,/etc/motd", "/data:/rw:rw"] });
        MountStep[] user = plan.Mounts.Where(m => m.Reason.StartsWith("user bind", StringComparison.Ordinal)).ToArray();
        // Apptainer's order for user binds: shallowest destination first, then shortest, else as given.
        Assert.Equal(["/rw", "/mnt/d", "/etc/motd"], user.Select(m => m.Target));
        Assert.True(user[1].Flags.HasFlag(MountFlags.ReadOnly));
        Assert.False(user[0].Flags.HasFlag(MountFlags.ReadOnly));
        Assert.Equal(TargetKind.File, user[2].TargetKind);
        Assert.All(user, m => Assert.Equal(MountPlanner.BindFlags, m.Flags & MountPlanner.BindFlags));
    }

    [Fact]
    public void RelativeSourceIsTakenFromTheHostCwd()
    {
        _f.HostPaths["/home/alice/work/in"] = PathKind.Directory;
        MountStep m = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["in:/in"] }).Mounts.Single(m => m.Target == "/in");
        Assert.Equal("/home/alice/work/in", m.Source);
    }

    [Fact]
    public void MissingSourceIsAnErrorNamingIt()
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/nope:/x"] }));
        Assert.Contains("/nope", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void RelativeDestinationIsAnError()
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/data:mnt"] }));
        Assert.Contains("not an absolute path", e.Message);
        Assert.Contains("/data:/mnt", e.Hint);
    }

    [Theory]
    [InlineData("/data:/")]
    [InlineData("/data:/mnt/..")]
    public void BindOverTheRootIsRefused(string bind)
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = [bind] }));
        Assert.Contains("cannot bind over the container's /", e.Message);
    }

    [Theory]
    [InlineData("/data:/x:rx")]
    [InlineData("/a:/b:ro:extra")]
    [InlineData(":/x")]
    public void MalformedBindsAreErrors(string bind)
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = [bind] }));
        Assert.StartsWith("--bind ", e.Message);
    }

    [Fact]
    public void AllStrictFindingsAreReportedTogether()
    {
        (_, IReadOnlyList<CheckFinding> errors, _) = LaunchPlanner.PlanAndCheck(_f.Input(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/nope:rel"], Pwd = "/absent" }));
        Assert.Equal(["bind-destination-absolute", "bind-source-exists", "pwd-exists"], errors.Select(e => e.Check));
    }

    [Fact]
    public void PwdInsideABindIsCheckedOnTheHost()
    {
        var request = new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/data:/mnt"], Pwd = "/mnt/in" };
        Assert.Equal("/mnt/in", _f.Plan(request).Process.Cwd);
        Assert.Throws<BurrowException>(() => _f.Plan(request with { Pwd = "/mnt/out" }));
    }

    [Fact]
    public void PwdInTheImageIsCheckedInTheImage()
    {
        _f.ImagePaths["/opt/app"] = PathKind.Directory;
        Assert.Equal("/opt/app", _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Pwd = "/opt/app/" }).Process.Cwd);
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Pwd = "/opt/none" }));
        Assert.Contains("--pwd /opt/none", e.Message);
    }

    [Fact]
    public void RelativePwdIsAnError()
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Pwd = "work" }));
        Assert.Contains("not an absolute path", e.Message);
    }

    [Fact]
    public void CwdInsideAUserBindAtTheSamePathIsNotBoundAgain()
    {
        _f.Cwd = "/data/in";
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/data"] });
        Assert.Single(plan.Mounts, m => m.Source is not null && m.Source.StartsWith("/data", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true, "/data:/home")]
    [InlineData(false, "/data:/home")]
    [InlineData(true, "/data:/")]
    [InlineData(true, "/data:/home/alice/work")]
    [InlineData(false, "/data:/home/alice")]
    public void EveryPathThePlannerAsksAboutWasGathered(bool noHome, string bind)
    {
        // The fixture fills only the paths FactQueries lists; a path the planner needs beyond them throws.
        var request = new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], NoHome = noHome, Binds = [bind], Pwd = "/home/alice/x" };
        (LaunchPlan plan, _, _) = LaunchPlanner.PlanAndCheck(_f.Input(request));
        Assert.NotEmpty(plan.Mounts);
        (plan, _, _) = LaunchPlanner.PlanAndCheck(_f.Input(request with { Pwd = null }));
        Assert.NotEmpty(plan.Process.Cwd);
    }

    [Fact]
    public void ExecWithoutACommandIsAnError()
    {
        Assert.Contains("command", Assert.Throws<BurrowException>(() => _f.Plan(PlanFixture.Exec())).Message);
    }
}
