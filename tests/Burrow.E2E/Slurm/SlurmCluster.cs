using System.Diagnostics;
using System.Text;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Slurm;

/// <summary>
/// The one-machine Slurm cluster scripts/test.d/60-slurm.sh starts, as its marker file describes it: "ready" with
/// key=value lines (mpi, proctrack, node), or "unavailable REASON" when it could not be set up on this machine (a
/// site's own slurm.conf, or a user run without a running cluster). Anything else, a missing marker included, means
/// the setup was meant to make Slurm available and did not: the tests run and fail.
/// </summary>
public static class SlurmCluster
{
    public static string StatePath { get; } = Environment.GetEnvironmentVariable("BURROW_SLURM_STATE")
        ?? Path.Combine(E2EEnvironment.TestCache, "slurm", "state");

    /// <summary>The MPI image built from examples/mpi.def (Debian's Open MPI and /opt/ring).</summary>
    public static string MpiImage
    {
        get
        {
            Assert.True(File.Exists(s_mpiImage), $"the MPI test image {s_mpiImage} is missing: building it from examples/mpi.def failed "
                + $"(see {Path.Combine(Path.GetDirectoryName(StatePath)!, "mpi-build.log")})");
            return s_mpiImage;
        }
    }

    private static readonly string s_mpiImage = Environment.GetEnvironmentVariable("BURROW_MPI_IMAGE")
        ?? Path.Combine(E2EEnvironment.TestCache, "images", "mpi.sif");

    private static readonly Lazy<string[]> s_state = new(() => File.Exists(StatePath) ? File.ReadAllLines(StatePath) : []);

    /// <summary>Why the Slurm tests are skipped, or null when they run (and must pass).</summary>
    public static string? SkipReason()
    {
        string first = s_state.Value.FirstOrDefault() ?? "";
        if (first.StartsWith("unavailable ", StringComparison.Ordinal))
        {
            return "Slurm could not be set up on this machine: " + first["unavailable ".Length..];
        }
        if (s_state.Value.Length == 0 && !E2EEnvironment.IsRoot)
        {
            return $"no Slurm cluster set up ({StatePath} is missing): run scripts/test as root once";
        }
        return null;
    }

    /// <summary>A key of the marker (mpi, proctrack, node); fails the test when the setup did not report the cluster ready.</summary>
    public static string Get(string key)
    {
        Assert.True(s_state.Value.FirstOrDefault() == "ready",
            $"scripts/test.d/60-slurm.sh did not report the Slurm cluster ready in {StatePath}: {string.Join(" | ", s_state.Value)}");
        return s_state.Value.Select(l => l.Split('=', 2)).FirstOrDefault(f => f.Length == 2 && f[0] == key)?[1]
            ?? throw new InvalidOperationException($"{StatePath} has no {key}=");
    }

    /// <summary>The MPI plugin srun uses (pmix when Debian's Slurm has it, else pmi2).</summary>
    public static string Mpi => Get("mpi");

    /// <summary>Whether the node tracks jobs with cgroups (proctrack/cgroup), so each task's cgroup names its job.</summary>
    public static bool TracksWithCgroups => Get("proctrack") == "cgroup";

    /// <summary>Runs a Slurm (or any) command as the user, bounded; the cluster is checked ready first.</summary>
    public static RunResult Run(TestUser user, IReadOnlyList<string> argv, TimeSpan? timeout = null, string? cwd = null,
        IReadOnlyDictionary<string, string>? env = null)
    {
        Get("node");
        return AsUser.Run(user, argv, env: env, timeout: timeout ?? TimeSpan.FromSeconds(120), cwd: cwd);
    }

    /// <summary>
    /// What README's "Slurm and MPI" tells MPI users to set: each rank is in a user namespace of its own, so Open MPI's
    /// cross-process copies (CMA) between ranks are refused, and PMIx's shared-memory store's lock cannot be shared
    /// with the host's slurmstepd; without them the ring still passes, with one warning per rank.
    /// </summary>
    public static IReadOnlyDictionary<string, string> MpiEnvironment { get; } = new Dictionary<string, string>
    {
        ["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none",
        ["PMIX_MCA_gds"] = "hash",
    };

    /// <summary>Every job of the user, as squeue sees it (id and state).</summary>
    public static IReadOnlyList<string> Jobs(TestUser user)
    {
        RunResult r = AsUser.Run(user, ["squeue", "-h", "-u", user.Name, "-o", "%i %T"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}

/// <summary>A test that needs the Slurm cluster: skipped only when the setup recorded that it cannot exist here.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (SlurmCluster.SkipReason() is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>As <see cref="SlurmFactAttribute"/>, for theories.</summary>
public sealed class SlurmTheoryAttribute : TheoryAttribute
{
    public SlurmTheoryAttribute()
    {
        if (SlurmCluster.SkipReason() is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// The Slurm tests run one at a time, after the parallel part of the suite: they count the user's processes,
/// mounts and jobs on the node, and one job's leftovers must not be confused with another's.
/// </summary>
[CollectionDefinition("slurm", DisableParallelization = true)]
public sealed class SlurmCollection
{
}

/// <summary>A command (srun, mpirun) started in the background as a test user, its output collected.</summary>
public sealed class BackgroundCommand : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private readonly TestUser _user;
    private readonly string? _jobName;

    /// <param name="jobName">The Slurm job name (srun -J) to scancel on dispose: killing srun alone leaves its job's tasks running.</param>
    public BackgroundCommand(TestUser user, IReadOnlyList<string> argv, string? jobName = null)
    {
        _user = user;
        _jobName = jobName;
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = user.Home,
        };
        psi.Environment.Clear();
        psi.Environment["HOME"] = user.Home;
        psi.Environment["USER"] = user.Name;
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        psi.Environment["LANG"] = "C.UTF-8";
        // The same cache as AsUser.Run's, so that these runs share what the synchronous ones pulled or unpacked.
        psi.Environment["BURROW_CACHEDIR"] = Path.Combine(user.Home, ".cache", "burrow-e2e-" + Convert.ToHexString(
            System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(E2EEnvironment.Prefix)))[..12].ToLowerInvariant());
        if (E2EEnvironment.IsRoot)
        {
            psi.FileName = "setpriv";
            foreach (string a in new[] { "--reuid=" + user.Uid, "--regid=" + user.Gid, "--init-groups", "--inh-caps=-all", "--" })
            {
                psi.ArgumentList.Add(a);
            }
            foreach (string a in argv)
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = argv[0];
            foreach (string a in argv.Skip(1))
            {
                psi.ArgumentList.Add(a);
            }
        }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.AppendLine(e.Data); } } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits (bounded) until <paramref name="text"/> appeared <paramref name="times"/> times on standard output.</summary>
    public void WaitForOutput(string text, int times, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (Count(Stdout, text) < times)
        {
            if (sw.Elapsed > timeout || _process.HasExited)
            {
                Assert.Fail($"saw '{text}' {Count(Stdout, text)} of {times} times\n{this}");
            }
            Thread.Sleep(50);
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"did not exit within {timeout}\n{this}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public override string ToString() => $"--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

    public void Dispose()
    {
        if (_jobName is not null)
        {
            AsUser.Run(_user, ["scancel", "-n", _jobName]);
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }

    private static int Count(string haystack, string needle)
    {
        int n = 0;
        for (int i = haystack.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = haystack.IndexOf(needle, i + needle.Length, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }
}
