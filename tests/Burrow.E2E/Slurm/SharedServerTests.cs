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
}
