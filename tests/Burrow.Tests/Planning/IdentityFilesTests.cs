using Burrow.Core.Identity;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

public class IdentityFilesTests
{
    private readonly PlanFixture _f = new();

    private static string File(LaunchPlan plan, string target) => plan.Files.Single(f => f.Target == target).Content;

    [Fact]
    public void CallerLineIsAppendedFromTheHostEntry()
    {
        string passwd = File(_f.Plan(PlanFixture.Exec("id")), "/etc/passwd");
        Assert.StartsWith("root:x:0:0:root:/root:/bin/sh\nnobody:", passwd);
        Assert.EndsWith("\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n", passwd);
    }

    [Fact]
    public void ExistingLineWithTheUidIsRewrittenKeepingImageGidAndShell()
    {
        _f.Passwd = "root:x:0:0:root:/root:/bin/sh\nubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/zsh\n";
        string passwd = File(_f.Plan(PlanFixture.Exec("id")), "/etc/passwd");
        Assert.Equal("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/zsh\n", passwd);
    }

    [Fact]
    public void GroupGetsALineForEachGroupAndMembershipInExistingOnes()
    {
        string group = File(_f.Plan(PlanFixture.Exec("id")), "/etc/group");
        Assert.Equal("root:x:0:\nsudo:x:27:alice\nnogroup:x:65534:\nalice:x:1000:alice\nproj:x:5000:alice\n", group);
    }

    [Fact]
    public void MissingImageFilesAreNotCreatedButWarnedAbout()
    {
        _f.Passwd = null;
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.DoesNotContain(plan.Files, f => f.Target == "/etc/passwd");
        Assert.Contains(plan.Warnings, w => w.StartsWith("passwd file doesn't exist", StringComparison.Ordinal));
    }

    private IdentityDecision RootIdentity() => IdentityResolver.Resolve(IdentityRequest.Default, _f.User, SubordinateIds.None) with
    {
        Uid = 0, Gid = 0, SupplementaryGroups = [], HomeDestination = "/root",
    };

    [Fact]
    public void RootInAWritableContainerKeepsTheImageFiles()
    {
        _f.Identity = RootIdentity();
        _f.RootWritable = true;
        _f.ImageHasStandardDirectories();
        _f.ImagePaths["/home/alice/work"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Writable = true });
        Assert.Empty(plan.Files);
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void RootInAReadOnlyContainerKeepsRootsNameAndGetsHomeAtRoot()
    {
        _f.Identity = RootIdentity();
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.StartsWith("root:x:0:0:root:/root:/bin/sh\n", File(plan, "/etc/passwd"));
        Assert.Equal("/root", plan.Mounts.Single(m => m.Source == "/home/alice").Target);
        Assert.Equal("/root", plan.Process.Env.Single(v => v.Name == "HOME").Value);
    }
}

public class AccountEntriesTests
{
    private readonly PlanFixture _f = new();

    private IdentityDecision With(AccountEntries entries) =>
        IdentityResolver.Resolve(IdentityRequest.Default, _f.User, SubordinateIds.None) with { AccountEntries = entries };

    [Fact]
    public void ImageModeKeepsTheImageFilesUntouched()
    {
        _f.Identity = With(AccountEntries.Image);
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.Empty(plan.Files);
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void KeepIdAppendsOnlyWhatIsMissing()
    {
        _f.Identity = With(AccountEntries.CallerIfMissing);
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.EndsWith("\nalice:*:1000:1000:Alice:/home/alice:/bin/sh\n", plan.Files.Single(f => f.Target == "/etc/passwd").Content);
        Assert.EndsWith("\nalice:x:1000:alice\n", plan.Files.Single(f => f.Target == "/etc/group").Content);

        _f.Passwd = "root:x:0:0:root:/root:/bin/sh\nalice:x:1234:1234::/home/a:/bin/sh\n";
        _f.Group = "root:x:0:\nusers:x:1000:\n";
        plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.Equal(_f.Passwd, plan.Files.Single(f => f.Target == "/etc/passwd").Content);
        Assert.Equal(_f.Group, plan.Files.Single(f => f.Target == "/etc/group").Content);
    }
}
