using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>Apptainer's mount order and rules: user binds after tmp and files, /var/tmp links, --writable, /dev, --net, --no-mount, --workdir, --home.</summary>
public class MountRulesTests
{
    private readonly PlanFixture _f = new();

    public MountRulesTests()
    {
        _f.HostPaths["/data"] = PathKind.Directory;
        _f.HostPaths["/data/file"] = PathKind.File;
    }

    private static ActionRequest Exec(Func<ActionRequest, ActionRequest>? with = null) =>
        (with ?? (r => r))(new ActionRequest { Action = ActionKind.Exec, Arguments = ["true"] });

    private static string[] Targets(LaunchPlan plan) => plan.Mounts.Select(m => m.Target).ToArray();

    [Fact]
    public void AVarTmpThatLeadsToTmpGetsNoBindOfItsOwn()
    {
        _f.Resolved["/var/tmp"] = "/tmp";
        LaunchPlan plan = _f.Plan(Exec());
        Assert.Contains("/tmp", Targets(plan));
        Assert.DoesNotContain("/var/tmp", Targets(plan));
        _f.Resolved["/var/tmp"] = "/var/tmp";
        Assert.Contains("/var/tmp", Targets(_f.Plan(Exec())));
    }

    [Fact]
    public void UserBindsComeAfterTmpAndTheGeneratedFilesAndBeforeTheCwd()
    {
        _f.Cwd = "/scratch/run";
        _f.HostPaths["/scratch/run"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(Exec(r => r with { Binds = ["/data:/mnt"] }));
        string[] t = Targets(plan);
        Assert.True(Array.IndexOf(t, "/var/tmp") < Array.IndexOf(t, "/etc/passwd"), string.Join(' ', t));
        Assert.True(Array.IndexOf(t, "/etc/passwd") < Array.IndexOf(t, "/mnt"), string.Join(' ', t));
        Assert.Equal("/scratch/run", t[^1]);
        Assert.Equal(MountKind.Generated, plan.Mounts.Single(m => m.Target == "/etc/passwd").Kind);
    }

    [Fact]
    public void AUserBindOverVarHidesVarTmpWithAWarning()
    {
        LaunchPlan plan = _f.Plan(Exec(r => r with { Binds = ["/data:/var"] }));
        Assert.DoesNotContain("/var/tmp", Targets(plan));
        Assert.Contains("/var", Targets(plan));
        Assert.Contains("--bind /data:/var hides /var/tmp, which is not mounted", plan.Warnings);
    }

    [Fact]
    public void AUserBindOverEtcHidesThePasswdAndGroupItWouldHaveNeededToCreate()
    {
        LaunchPlan plan = _f.Plan(Exec(r => r with { Binds = ["/data:/etc"] }));
        Assert.DoesNotContain(plan.Mounts, m => m.Kind == MountKind.Generated);
        Assert.Empty(plan.Files);
        Assert.Contains(plan.Warnings, w => w.StartsWith("--bind /data:/etc hides /etc/hosts, /etc/localtime, /etc/passwd (generated) and 2 more", StringComparison.Ordinal));
    }

    [Fact]
    public void AUserBindAtADefaultMountsPlaceReplacesIt()
    {
        LaunchPlan plan = _f.Plan(Exec(r => r with { Binds = ["/data:/tmp", "/data/file:/etc/passwd"] }));
        Assert.Equal("/data", plan.Mounts.Single(m => m.Target == "/tmp").Source);
        Assert.Equal("/data/file", plan.Mounts.Single(m => m.Target == "/etc/passwd").Source);
        Assert.DoesNotContain(plan.Files, f => f.Target == "/etc/passwd");
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void WritableRefusesToMakeABindDestinationInTheImage()
    {
        _f.RootWritable = true;
        _f.ImageHasStandardDirectories();
        _f.ImagePaths["/home/alice/work"] = PathKind.Directory;
        var (_, errors, _) = LaunchPlanner.PlanAndCheck(_f.Input(Exec(r => r with { Writable = true, Binds = ["/data/file:/missing/path"] })));
        CheckFinding e = Assert.Single(errors);
        Assert.Equal("--bind /data/file:/missing/path: /missing/path does not exist in the image, and Burrow makes no mount point in a writable image", e.Message);
        Assert.Equal(ExitCodes.Failure, e.ExitCode);
        // Where the image has it, or a tmpfs the container owns holds it, the bind is fine.
        _f.ImagePaths["/missing/path"] = PathKind.File;
        Assert.Empty(LaunchPlanner.PlanAndCheck(_f.Input(Exec(r => r with { Writable = true, Binds = ["/data/file:/missing/path"] }))).Errors);
        Assert.Empty(LaunchPlanner.PlanAndCheck(_f.Input(Exec(r => r with { Writable = true, Binds = ["/data/file:/tmp/x"], Contain = true }))).Errors);
    }

    [Fact]
    public void WritableLeavesOutDefaultMountsTheImageHasNoPlaceFor()
    {
        _f.RootWritable = true;
        LaunchPlan plan = _f.Plan(Exec(r => r with { Writable = true }));
        Assert.Empty(plan.Mounts);
        string w = Assert.Single(plan.Warnings, w => w.StartsWith("--writable:", StringComparison.Ordinal));
        Assert.Equal("--writable: the image has no /dev, /etc/hosts, /etc/localtime, /proc, /sys, /home/alice, /tmp, /var/tmp, /etc/passwd, /etc/group, /etc/resolv.conf, "
            + "so nothing is mounted there (Burrow makes no mount point in a writable image)", w);
    }

    [Fact]
    public void AContainedDevHasItsOwnPseudoTerminalsTheDescriptorLinksAndTheConsole()
    {
        _f.TerminalDevice = "/dev/pts/7";
        LaunchPlan plan = _f.Plan(Exec(r => r with { Contain = true }));
        MountStep pts = plan.Mounts.Single(m => m.Target == "/dev/pts");
        Assert.Equal((MountKind.Devpts, "newinstance,ptmxmode=0666,mode=0620"), (pts.Kind, pts.Data));
        Assert.DoesNotContain(plan.Mounts, m => m.Source == "/dev/pts" || m.Source == "/dev/ptmx");
        Assert.Equal(
            [("/dev/ptmx", "pts/ptmx"), ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2")],
            plan.Mounts.Where(m => m.Kind == MountKind.Symlink).Select(m => (m.Target, m.Source!)));
        Assert.Equal("/dev/pts/7", plan.Mounts.Single(m => m.Target == "/dev/console").Source);
        Assert.DoesNotContain(_f.Plan(Exec(r => r with { Contain = true, NoMount = ["devpts"] })).Mounts, m => m.Kind == MountKind.Devpts || m.Target == "/dev/ptmx");
    }

    [Fact]
    public void ANetworkNamespaceGetsAFreshSysfsAndTheHostsCgroups()
    {
        _f.HostPaths["/sys/fs/cgroup"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(Exec(r => r with { Net = true, Network = "none" }));
        Assert.Equal(MountKind.Sysfs, plan.Mounts.Single(m => m.Target == "/sys").Kind);
        MountStep cgroups = plan.Mounts.Single(m => m.Target == "/sys/fs/cgroup");
        Assert.True(cgroups.Flags.HasFlag(MountFlags.ReadOnly) && cgroups.Optional);
        Assert.Equal(MountKind.Bind, _f.Plan(Exec()).Mounts.Single(m => m.Target == "/sys").Kind);
    }

    [Fact]
    public void ContainWithANetworkNamespaceGetsALocalhostOnlyHostsFile()
    {
        LaunchPlan plan = _f.Plan(Exec(r => r with { Contain = true, Net = true, Network = "none" }));
        Assert.Equal(MountKind.Generated, plan.Mounts.Single(m => m.Target == "/etc/hosts").Kind);
        Assert.StartsWith("127.0.0.1   localhost\n", plan.Files.Single(f => f.Target == "/etc/hosts").Content);
        Assert.Equal(MountKind.Bind, _f.Plan(Exec(r => r with { Contain = true })).Mounts.Single(m => m.Target == "/etc/hosts").Kind);
    }

    [Theory]
    [InlineData("proc", "/proc")]
    [InlineData("sys", "/sys")]
    [InlineData("dev", "/dev")]
    [InlineData("home", "/home/alice")]
    [InlineData("tmp", "/tmp")]
    [InlineData("tmp", "/var/tmp")]
    [InlineData("bind-paths", "/etc/hosts")]
    [InlineData("bind-paths", "/etc/localtime")]
    [InlineData("/etc/resolv.conf", "/etc/resolv.conf")]
    [InlineData("/etc/hosts,cwd", "/etc/hosts")]
    public void NoMountLeavesADefaultOut(string noMount, string target)
    {
        Assert.Contains(target, Targets(_f.Plan(Exec())));
        Assert.DoesNotContain(target, Targets(_f.Plan(Exec(r => r with { NoMount = [noMount] }))));
    }

    [Fact]
    public void NoMountCwdAndUnknownNames()
    {
        _f.Cwd = "/scratch/run";
        _f.HostPaths["/scratch/run"] = PathKind.Directory;
        Assert.Contains("/scratch/run", Targets(_f.Plan(Exec())));
        LaunchPlan plan = _f.Plan(Exec(r => r with { NoMount = ["cwd,bogus"] }));
        Assert.DoesNotContain("/scratch/run", Targets(plan));
        Assert.Contains(plan.Warnings, w => w.StartsWith("--no-mount: ignoring unknown mount type 'bogus'", StringComparison.Ordinal));
    }

    [Fact]
    public void WorkdirWithContainPutsTmpVarTmpAndHomeInIt()
    {
        _f.HostPaths["/work"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(Exec(r => r with { Contain = true, Workdir = "/work" }));
        (string, string?, int?, bool) Of(string target)
        {
            MountStep m = plan.Mounts.Single(x => x.Target == target);
            return (m.Kind.ToString(), m.Source, m.MakeSource, m.ContainerOwned);
        }
        Assert.Equal(("Bind", "/work/tmp", Workdir.TmpMode, true), Of("/tmp"));
        Assert.Equal(("Bind", "/work/var_tmp", Workdir.TmpMode, true), Of("/var/tmp"));
        Assert.Equal(("Bind", "/work/home", Workdir.HomeMode, true), Of("/home/alice"));
        // Without --contain the workdir changes nothing but --scratch (Apptainer's WorkdirOnly case).
        Assert.Equal("/tmp", _f.Plan(Exec(r => r with { Workdir = "/work" })).Mounts.Single(m => m.Target == "/tmp").Source);
    }

    [Fact]
    public void ScratchIsATmpfsOrADirectoryOfTheWorkdir()
    {
        MountStep tmpfs = _f.Plan(Exec(r => r with { Scratch = ["/scratch,/other"] })).Mounts.Single(m => m.Target == "/scratch");
        Assert.Equal(MountKind.Tmpfs, tmpfs.Kind);
        _f.HostPaths["/work"] = PathKind.Directory;
        LaunchPlan plan = _f.Plan(Exec(r => r with { Scratch = ["/data/x"], Workdir = "/work" }));
        MountStep bind = plan.Mounts.Single(m => m.Target == "/data/x");
        Assert.Equal(("/work/scratch/data/x", Workdir.ScratchMode, true), (bind.Source, bind.MakeSource, bind.ContainerOwned));
        string[] t = Targets(plan);
        Assert.True(Array.IndexOf(t, "/var/tmp") < Array.IndexOf(t, "/data/x"));
    }

    [Theory]
    [InlineData("--workdir", "/nowhere", "--workdir /nowhere: /nowhere does not exist")]
    [InlineData("--scratch", "rel", "--scratch rel: not an absolute path")]
    public void WorkdirAndScratchMistakesAreErrors(string option, string value, string says)
    {
        ActionRequest r = option == "--workdir" ? Exec(x => x with { Workdir = value, Contain = true }) : Exec(x => x with { Scratch = [value] });
        CheckFinding e = Assert.Single(LaunchPlanner.PlanAndCheck(_f.Input(r)).Errors);
        Assert.StartsWith(says, e.Message);
    }

    [Fact]
    public void HomeBindsItsSourceAtItsDestinationEvenContained()
    {
        _f.HostPaths["/scratch/me"] = PathKind.Directory;
        foreach (bool contain in new[] { false, true })
        {
            LaunchPlan plan = _f.Plan(Exec(r => r with { Home = "/scratch/me:/home/me", Contain = contain }));
            MountStep home = plan.Mounts.Single(m => m.Target == "/home/me");
            Assert.Equal((MountKind.Bind, "/scratch/me"), (home.Kind, home.Source));
            Assert.DoesNotContain("/home/alice", Targets(plan));
            Assert.Equal("/home/me", plan.Process.Env.Single(v => v.Name == "HOME").Value);
            Assert.Contains("alice:x:1000:1000:Alice:/home/me:/bin/bash", plan.Files.Single(f => f.Target == "/etc/passwd").Content);
        }
        Assert.Equal("/scratch/me", _f.Plan(Exec(r => r with { Home = "/scratch/me" })).Mounts.Single(m => m.Target == "/scratch/me").Source);
    }

    [Fact]
    public void AHomeSourceThatDoesNotExistIsAnEmptyHomeWithAWarning()
    {
        LaunchPlan plan = _f.Plan(Exec(r => r with { Home = "/gone:/home/me" }));
        Assert.Equal(MountKind.Tmpfs, plan.Mounts.Single(m => m.Target == "/home/me").Kind);
        Assert.Contains("--home /gone:/home/me: /gone is not a directory on the host; the container gets an empty home at /home/me", plan.Warnings);
    }

    [Theory]
    [InlineData("/a:/b:/c", "--home /a:/b:/c: expected SRC[:DST]")]
    [InlineData("/a:rel", "the destination 'rel' is not an absolute path")]
    [InlineData("/a:/", "cannot put the home over the container's /")]
    public void BadHomeValuesAreErrors(string home, string says)
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { Home = home })));
        Assert.Contains(says, e.Message);
    }

    [Fact]
    public void UtsAloneMakesANamespaceWithoutANewName()
    {
        LaunchPlan plan = _f.Plan(Exec(r => r with { Uts = true }));
        Assert.True(plan.Namespaces.Uts);
        Assert.Null(plan.Hostname);
        Assert.DoesNotContain(plan.Files, f => f.Target == "/etc/hostname");
    }
}
