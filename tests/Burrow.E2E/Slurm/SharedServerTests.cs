using Burrow.E2E.Harness;

namespace Burrow.E2E.Slurm;

/// <summary>
/// N tasks of one job on one node running the same image: one FUSE server and one mount of the image for all of them
/// (the issue's "one image, once per node"), counted on the node while they run.
/// </summary>
[Collection("slurm")]
public class SharedServerTests
{
    private static readonly TestUser s_user = E2EEnvironment.UserWithoutRange;

    [SlurmFact]
    [Trait("Category", "SharedServer")]
    public void FourRanksOfOneImageShareOneFuseServer()
    {
        string token = "burrow-shared-" + Guid.NewGuid().ToString("N")[..8];
        IReadOnlySet<string> before = NodeInspector.FuseConnections();
        using var srun = new BackgroundCommand(s_user, ["srun", "-n", "4", "-J", token, E2EEnvironment.Burrow, "exec", E2EEnvironment.BusyboxTree + ".sif",
            "sh", "-c", $"echo started; sleep 4; : {token}"], jobName: token);
        srun.WaitForOutput("started", 4, TimeSpan.FromSeconds(60));
        // Every task's container is up (its payload printed): count what serves the image now, and its FUSE connections.
        IReadOnlyList<int> servers = NodeInspector.FuseServers(s_user);
        string[] connections = NodeInspector.FuseConnections().Except(before).ToArray();
        Assert.Equal(0, srun.WaitForExit(TimeSpan.FromSeconds(60)));

        Assert.True(servers.Count >= 1 && connections.Length >= 1, $"no server or FUSE connection seen while 4 containers ran: the count cannot be trusted\n{srun}");
        Assert.True(servers.Count == 1, $"{servers.Count} FUSE servers for 4 containers of one image: {NodeInspector.Describe(servers)}");
        Assert.True(connections.Length == 1, $"{connections.Length} FUSE connections for 4 containers of one image: {string.Join(", ", connections)}");
        NodeInspector.AssertNothingLeft(s_user, token, before, TimeSpan.FromSeconds(15));
    }

    [SlurmFact]
    [Trait("Category", "SharedServer")]
    public void FourRanksOfOneImageReadItsBlocksOnce()
    {
        // Bytes the user's burrow processes read (rchar: every read, from the page cache or the disk) while each rank
        // reads the image's /usr/bin (22 MiB): one server reads each block once, however many containers ask.
        long one = BytesReadByBurrow(1);
        long four = BytesReadByBurrow(4);
        Assert.True(one > 8L << 20, $"one rank's burrow read only {one} bytes: the payload's reads did not go through it");
        Assert.True(four < one * 3 / 2, $"4 ranks of one image: burrow read {four >> 20} MiB, one rank {one >> 20} MiB ({(double)four / one:F1}x; want below 1.5x)");
    }

    private static long BytesReadByBurrow(int ranks)
    {
        string token = "burrow-shared-read-" + Guid.NewGuid().ToString("N")[..8];
        IReadOnlySet<string> before = NodeInspector.FuseConnections();
        using var srun = new BackgroundCommand(s_user, ["srun", "-n", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "-J", token,
            E2EEnvironment.Burrow, "exec", E2EEnvironment.DebianTree + ".sif",
            "sh", "-c", $"cat /usr/bin/* >/dev/null 2>&1; echo done; sleep 3; : {token}"], jobName: token);
        srun.WaitForOutput("done", ranks, TimeSpan.FromSeconds(90));
        long total = NodeInspector.BurrowProcesses(s_user).Sum(NodeInspector.BytesRead);
        Assert.Equal(0, srun.WaitForExit(TimeSpan.FromSeconds(60)));
        NodeInspector.AssertNothingLeft(s_user, token, before, TimeSpan.FromSeconds(15));
        return total;
    }
}
