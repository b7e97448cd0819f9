using Burrow.E2E.Harness;
using Burrow.E2E.Runtime;

namespace Burrow.E2E.Slurm;

/// <summary>
/// burrow under a real Slurm (the one-machine cluster of scripts/test.d/60-slurm.sh): one container per task with the
/// job's environment and cgroup, batch scripts, and jobs ended by scancel or their time limit leaving nothing on the node.
/// </summary>
[Collection("slurm")]
public class SlurmJobTests
{
    private static readonly TestUser s_user = E2EEnvironment.UserWithoutRange;

    public static IEnumerable<object[]> Formats() => [["sif"], ["sandbox"]];

    private static string Busybox(string format) => format == "sif" ? E2EEnvironment.BusyboxTree + ".sif" : E2EEnvironment.BusyboxTree;

    [SlurmTheory]
    [MemberData(nameof(Formats))]
    public void SrunStartsOneContainerPerTaskWithTheJobsEnvironmentAndCgroup(string format)
    {
        RunResult r = SlurmCluster.Run(s_user, ["srun", "-n", "4", E2EEnvironment.Burrow, "exec", Busybox(format), "sh", "-c",
            "echo \"task=$SLURM_PROCID of=$SLURM_NTASKS job=$SLURM_JOB_ID step=$SLURM_STEP_ID local=$SLURM_LOCALID node=$SLURMD_NODENAME cg=$(grep -c \"/job_$SLURM_JOB_ID/\" /proc/self/cgroup)\""]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Fields).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal(["0", "1", "2", "3"], lines.Select(l => l["task"]).Order());
        Assert.All(lines, l => Assert.Equal("4", l["of"]));
        Assert.Single(lines.Select(l => l["job"]).Distinct());
        Assert.Matches("^[0-9]+$", lines[0]["job"]);
        Assert.All(lines, l => Assert.Equal(SlurmCluster.Get("node"), l["node"]));
        if (SlurmCluster.TracksWithCgroups)
        {
            // The container sees (no cgroup namespace) and is in the step's cgroup: Burrow made none of its own.
            Assert.All(lines, l => Assert.NotEqual("0", l["cg"]));
        }
    }

    [SlurmFact]
    public void SbatchScriptRunsContainersInItsAllocation()
    {
        string dir = UserScratch("sbatch");
        try
        {
            string script = Path.Combine(dir, "job.sh");
            File.WriteAllText(script, $"""
                #!/bin/sh
                #SBATCH -n 2
                #SBATCH -t 5
                #SBATCH -o {dir}/out-%j.txt
                echo "batch job $SLURM_JOB_ID on $SLURM_JOB_NODELIST"
                srun {E2EEnvironment.Burrow} exec {E2EEnvironment.BusyboxTree}.sif sh -c 'echo "in container task $SLURM_PROCID job $SLURM_JOB_ID"'
                echo "srun status $?"
                """);
            Chown(dir);
            RunResult r = SlurmCluster.Run(s_user, ["sbatch", "--wait", "--parsable", script], TimeSpan.FromSeconds(120), cwd: dir);
            Assert.True(r.ExitCode == 0, r.ToString());
            string job = r.Stdout.Trim().Split(';')[0];
            string output = File.ReadAllText(Path.Combine(dir, $"out-{job}.txt"));
            Assert.Contains($"batch job {job} on {SlurmCluster.Get("node")}", output);
            Assert.Contains($"in container task 0 job {job}", output);
            Assert.Contains($"in container task 1 job {job}", output);
            Assert.Contains("srun status 0", output);
            Assert.DoesNotContain("ERROR", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SlurmFact]
    public void ScancelOfARunningContainerLeavesNothingOnTheNode()
    {
        string token = "burrow-scancel-" + Guid.NewGuid().ToString("N")[..8];
        IReadOnlySet<string> before = NodeInspector.FuseConnections();
        using var srun = new BackgroundCommand(s_user, ["srun", "-n", "2", "-J", token, E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxTree + ".sif",
            "sh", "-c", $"echo started; sleep 300; : {token}"], jobName: token);
        srun.WaitForOutput("started", 2, TimeSpan.FromSeconds(60));
        // What the job holds while it runs: the check below must be able to see it.
        Assert.NotEmpty(HostProcesses.Matching(token));
        Assert.NotEmpty(NodeInspector.BurrowProcesses(s_user));
        Assert.NotEmpty(NodeInspector.SessionMounts(s_user));
        Assert.NotEmpty(NodeInspector.FuseConnections().Except(before));

        RunResult cancel = SlurmCluster.Run(s_user, ["scancel", "-n", token]);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        int status = srun.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, status);
        NodeInspector.AssertNothingLeft(s_user, token, before, TimeSpan.FromSeconds(15));
        // The job itself ends too (COMPLETING while slurmd reports the step's end).
        Assert.True(NodeInspector.WaitFor(() => SlurmCluster.Jobs(s_user).Count == 0, TimeSpan.FromSeconds(30)),
            "the cancelled job is still known: " + string.Join(", ", SlurmCluster.Jobs(s_user)));
    }

    [SlurmFact]
    public void TimeLimitEndsARunningContainerAndLeavesNothingOnTheNode()
    {
        // Slurm counts time limits in minutes (the shortest is 1) and looks every 30 seconds: this takes 60-100 s.
        string token = "burrow-timelimit-" + Guid.NewGuid().ToString("N")[..8];
        IReadOnlySet<string> before = NodeInspector.FuseConnections();
        using var srun = new BackgroundCommand(s_user, ["srun", "-n", "1", "-t", "1", "-J", token, E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxTree + ".sif",
            "sh", "-c", $"echo started; sleep 600; : {token}"], jobName: token);
        srun.WaitForOutput("started", 1, TimeSpan.FromSeconds(60));
        Assert.NotEmpty(HostProcesses.Matching(token));
        Assert.NotEmpty(NodeInspector.FuseConnections().Except(before));
        int status = srun.WaitForExit(TimeSpan.FromSeconds(150));
        Assert.NotEqual(0, status);
        Assert.Contains("DUE TO TIME LIMIT", srun.Stderr);
        NodeInspector.AssertNothingLeft(s_user, token, before, TimeSpan.FromSeconds(15));
    }

    [SlurmFact]
    public void BurrowCheckInsideAJobNamesTheJobsCgroup()
    {
        RunResult r = SlurmCluster.Run(s_user, ["srun", "-n", "1", E2EEnvironment.Burrow, "check"]);
        string line = r.Stdout.Split('\n').Single(l => l.Contains("Slurm job cgroup", StringComparison.Ordinal));
        Assert.StartsWith("OK", line);
        Assert.Matches(SlurmCluster.TracksWithCgroups ? @"job [0-9]+: /\S*/job_[0-9]+/step_0 " : "job [0-9]+ has no cgroup of its own", line);
        Assert.Contains("not needed", line);
    }

    private static Dictionary<string, string> Fields(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f.Length > 1 ? f[1] : "");

    /// <summary>A directory in the user's home (sbatch writes the output there as the user; the checkout may be unreadable).</summary>
    internal static string UserScratch(string what)
    {
        string dir = Path.Combine(s_user.Home, $"slurm-e2e-{what}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        Chown(dir);
        return dir;
    }

    internal static void Chown(string path)
    {
        if (!E2EEnvironment.IsRoot)
        {
            return;
        }
        using var p = System.Diagnostics.Process.Start("chown", ["-R", $"{s_user.Uid}:{s_user.Gid}", path]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
