using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Slurm;

/// <summary>
/// MPI across containers with Debian's Open MPI: the hybrid model (the image's own Open MPI, ranks started by srun
/// with PMIx or by the host's mpirun) and the bind model (the host's Open MPI bound into an image that lacks it).
/// /opt/ring passes a token around the ranks and allreduces their numbers; rank 0 prints "ring ok" only if both add up.
/// </summary>
[Collection("slurm")]
public class MpiTests
{
    private static readonly TestUser s_user = E2EEnvironment.UserWithoutRange;

    [SlurmFact]
    public void HybridRingUnderSrunWithTheClustersPmi()
    {
        RunResult r = SlurmCluster.Run(s_user, ["srun", "--mpi=" + SlurmCluster.Mpi, "-n", "4", E2EEnvironment.Burrow, "exec", SlurmCluster.MpiImage, "/opt/ring"], env: SlurmCluster.MpiEnvironment);
        AssertRing(r, launcher: "SLURM_PROCID");
    }

    [SlurmFact]
    public void HybridRingUnderTheHostsMpirun()
    {
        // No Slurm here: the host's mpirun starts four containers on this node (more ranks than cores: --oversubscribe).
        RunResult r = SlurmCluster.Run(s_user, ["mpirun", "--oversubscribe", "-np", "4", E2EEnvironment.Burrow, "exec", SlurmCluster.MpiImage, "/opt/ring"], env: SlurmCluster.MpiEnvironment);
        AssertRing(r, launcher: "OMPI_COMM_WORLD_RANK");
    }

    [SlurmFact]
    public void HybridRingUnderMpirunInsideASlurmAllocation()
    {
        // mpirun inside salloc learns the allocation from SLURM_* and starts its daemons with srun.
        RunResult r = SlurmCluster.Run(s_user, ["salloc", "-n", "4", "mpirun", "-np", "4", E2EEnvironment.Burrow, "exec", SlurmCluster.MpiImage, "/opt/ring"], env: SlurmCluster.MpiEnvironment);
        AssertRing(r, launcher: "OMPI_COMM_WORLD_RANK");
    }

    [SlurmFact]
    public void BindModelRunsTheHostsOpenMpiInAnImageWithoutIt()
    {
        string image = E2EEnvironment.DebianTree + ".sif";
        // The image has no MPI at all: the program and every library come from the host.
        RunResult bare = SlurmCluster.Run(s_user, [E2EEnvironment.Burrow, "exec", image, "sh", "-c", "ls /usr/lib/x86_64-linux-gnu/libmpi.so.40 /usr/lib/x86_64-linux-gnu/openmpi 2>&1; true"]);
        Assert.Contains("No such file", bare.Stdout);

        string dir = SlurmJobTests.UserScratch("bind");
        try
        {
            // The ring, built on the host against the host's Open MPI, and the host's MPI libraries the image lacks.
            string lib = Path.Combine(dir, "lib");
            Directory.CreateDirectory(lib);
            File.Copy(Path.Combine(E2EEnvironment.RepoRoot(), "examples", "mpi-ring.c"), Path.Combine(dir, "ring.c"));
            Host("mpicc", "-O2", "-o", Path.Combine(dir, "ring"), Path.Combine(dir, "ring.c"));
            foreach (string so in HostLibrariesMissingFromImage([Path.Combine(dir, "ring"), .. MpiComponents()]))
            {
                File.Copy(so, Path.Combine(lib, Path.GetFileName(so)));
            }
            Assert.Contains("libmpi.so.40", Directory.GetFiles(lib).Select(Path.GetFileName));
            SlurmJobTests.Chown(dir);

            // Apptainer's bind model: the MPI installation bound where it was built to live (Debian's Open MPI and PMIx
            // find their components under /usr/lib/x86_64-linux-gnu/{openmpi,pmix2}, their messages in /usr/share/openmpi,
            // their settings in /etc/openmpi), the libraries on LD_LIBRARY_PATH.
            RunResult r = SlurmCluster.Run(s_user, ["srun", "--mpi=" + SlurmCluster.Mpi, "-n", "4", E2EEnvironment.Burrow, "exec",
                "--bind", "/usr/lib/x86_64-linux-gnu/openmpi", "--bind", "/usr/lib/x86_64-linux-gnu/pmix2", "--bind", "/etc/openmpi",
                "--bind", "/usr/share/openmpi",
                "--bind", $"{lib}:/opt/hostmpi/lib", "--bind", $"{dir}/ring:/opt/hostmpi/bin/ring",
                "--env", "LD_LIBRARY_PATH=/opt/hostmpi/lib", image, "/opt/hostmpi/bin/ring"], env: SlurmCluster.MpiEnvironment);
            AssertRing(r, launcher: "SLURM_PROCID");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertRing(RunResult r, string launcher)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("ring ok size=4 sum=6", r.Stdout);
        Assert.DoesNotContain("ERROR", r.Stderr);
        Assert.DoesNotContain("WARNING", r.Stderr);
        var ranks = r.Stdout.Split('\n').Where(l => l.StartsWith("rank ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, ranks.Count);
        foreach (int rank in Enumerable.Range(0, 4))
        {
            // Each rank's MPI number is the one its launcher gave the container's environment.
            Assert.Contains(ranks, l => l.StartsWith($"rank {rank} of 4 ", StringComparison.Ordinal) && l.Contains($"{launcher}={rank}", StringComparison.Ordinal));
        }
    }

    /// <summary>The host's Open MPI and PMIx components (plugins loaded at run time, each with libraries of its own).</summary>
    private static IEnumerable<string> MpiComponents() =>
        new[] { "/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3", "/usr/lib/x86_64-linux-gnu/pmix2/lib/pmix" }
            .Where(Directory.Exists).SelectMany(d => Directory.EnumerateFiles(d, "*.so"));

    /// <summary>The shared libraries the objects load on the host that the Debian test image does not have, once each.</summary>
    private static IEnumerable<string> HostLibrariesMissingFromImage(string[] objects)
    {
        string ldd = Host("ldd", objects);
        var seen = new HashSet<string>();
        foreach (string line in ldd.Split('\n'))
        {
            // "\tlibmpi.so.40 => /lib/x86_64-linux-gnu/libmpi.so.40 (0x...)"
            string[] f = line.Trim().Split(' ');
            if (f.Length >= 3 && f[1] == "=>" && f[2].StartsWith('/'))
            {
                string inImage = Path.Combine(E2EEnvironment.DebianTree, "usr", "lib", "x86_64-linux-gnu", f[0]);
                if (!File.Exists(inImage) && seen.Add(f[0]))
                {
                    yield return Path.GetFullPath(f[2]);
                }
            }
        }
    }

    private static string Host(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {errors}");
        return output;
    }
}
