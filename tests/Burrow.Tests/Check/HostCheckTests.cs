using Burrow.Core.Check;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;

namespace Burrow.Tests.Check;

/// <summary>What burrow check says for machines the test host is not: user namespaces off, Ubuntu's AppArmor restriction.</summary>
public class HostCheckTests
{
    private static readonly RuntimePaths s_paths = new("/opt/burrow", "/opt/burrow/bin/burrow", "/opt/burrow/libexec/burrow/burrow-starter", "/opt/burrow/etc/burrow");

    private static readonly ProbeResult s_works = new(new ProbeFinding(true, "made, with its own mount namespace"), new ProbeFinding(true, "written to"));

    private static readonly ProbeResult s_denied = new(new ProbeFinding(false, "burrow-starter: unshare(CLONE_NEWUSER): Permission denied"), null);

    [Fact]
    public void UserNamespacesTurnedOffAreNamedWithTheSysctlThatTurnsThemOn()
    {
        CheckItem off = HostCheck.UserNamespaces(s_denied, null, "0", null);
        Assert.False(off.Ok);
        Assert.Equal("disabled: user.max_user_namespaces = 0", off.Detail);
        Assert.Equal("an administrator: sysctl -w user.max_user_namespaces=15000 (and the same in /etc/sysctl.d/ to keep it)", off.Fix);

        CheckItem debian = HostCheck.UserNamespaces(s_denied, null, "15000", "0");
        Assert.Equal("disabled for unprivileged users: kernel.unprivileged_userns_clone = 0", debian.Detail);
        Assert.StartsWith("an administrator: sysctl -w kernel.unprivileged_userns_clone=1", debian.Fix);

        CheckItem on = HostCheck.UserNamespaces(s_works, null, "15000", null);
        Assert.True(on.Ok);
        Assert.Equal("user.max_user_namespaces = 15000; burrow-starter made one: made, with its own mount namespace", on.Detail);
    }

    [Fact]
    public void UbuntusAppArmorRestrictionWithoutAProfileComesWithTheProfileToInstall()
    {
        CheckItem userns = HostCheck.UserNamespaces(s_denied, "1", "15000", null);
        Assert.False(userns.Ok);
        Assert.Equal("see the AppArmor line below", userns.Fix);

        CheckItem apparmor = HostCheck.AppArmor(s_paths, s_denied, "1");
        Assert.False(apparmor.Ok);
        Assert.True(apparmor.Required);
        Assert.Equal("on (kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 24.04's default) and no profile lets burrow-starter use user namespaces", apparmor.Detail);
        Assert.Equal("an administrator installs the profile Burrow ships: sed 's|@PREFIX@|/opt/burrow|g' /opt/burrow/etc/burrow/apparmor/burrow-starter > /etc/apparmor.d/burrow-starter && apparmor_parser -r /etc/apparmor.d/burrow-starter", apparmor.Fix);

        // With the profile installed the starter makes its namespace: the restriction is on, and no obstacle.
        CheckItem allowed = HostCheck.AppArmor(s_paths, s_works, "1");
        Assert.True(allowed.Ok);
        Assert.Equal("on, and a profile lets burrow-starter use user namespaces", allowed.Detail);
        Assert.True(HostCheck.AppArmor(s_paths, s_denied, "0").Ok);
        Assert.True(HostCheck.AppArmor(s_paths, s_denied, null).Ok);
    }

    [Fact]
    public void TheShippedProfileNamesTheStarterByItsExactPath()
    {
        string profile = File.ReadAllText(Path.Combine(Config.ConfigParserTests.RepoRoot(), "etc", "apparmor", "burrow-starter"));
        Assert.Contains("profile burrow-starter @PREFIX@/libexec/burrow/burrow-starter flags=(unconfined) {\n  userns,\n", profile);
        Assert.DoesNotContain("*", profile.Split('\n').Single(l => l.StartsWith("profile ", StringComparison.Ordinal)));
    }

    [Fact]
    public void InsideASlurmJobTheJobsCgroupIsNamedAndNotNeededForWriting()
    {
        // A v1 hybrid node with proctrack/cgroup (the test cluster's): the freezer and cpuset hierarchies hold the step.
        const string v1 = "9:name=systemd:/\n8:pids:/\n6:freezer:/slurm_vm/uid_1002/job_42/step_0\n3:cpuset:/slurm_vm/uid_1002/job_42/step_0\n1:cpu:/\n0::/\n";
        var asked = new List<string>();
        CheckItem job = HostCheck.SlurmJob("42", v1, dir => { asked.Add(dir); return false; });
        Assert.True(job.Ok);
        Assert.False(job.Required);
        Assert.Equal("job 42: /slurm_vm/uid_1002/job_42/step_0 (freezer,cpuset), not writable by you; not needed: Burrow makes no cgroup of its own, every container process stays in the job's cgroup and under its limits", job.Detail);
        Assert.Equal(["/sys/fs/cgroup/freezer/slurm_vm/uid_1002/job_42/step_0"], asked);

        // cgroup v2 (Slurm's cgroup/v2 plugin): one line, the unified hierarchy.
        CheckItem v2 = HostCheck.SlurmJob("7", "0::/system.slice/slurmstepd.scope/job_7/step_0/user/task_0\n", dir => dir == "/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_0/user/task_0");
        Assert.StartsWith("job 7: /system.slice/slurmstepd.scope/job_7/step_0/user/task_0 (unified), writable by you;", v2.Detail);

        // Job 4 is not job 42: a prefix is not a match.
        CheckItem none = HostCheck.SlurmJob("4", v1, _ => true);
        Assert.True(none.Ok);
        Assert.StartsWith("job 4 has no cgroup of its own here", none.Detail);

        Assert.Equal("not in a Slurm job (SLURM_JOB_ID is not set)", HostCheck.SlurmJob(null, v1, _ => true).Detail);
        Assert.StartsWith("job 9 has no cgroup", HostCheck.SlurmJob("9", null, _ => true).Detail);
    }
}
