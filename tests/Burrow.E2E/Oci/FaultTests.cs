using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Oci;

/// <summary>Registry faults through a loopback fault-injecting proxy, and cache safety under concurrency and kills.</summary>
public class FaultTests
{
    private static TestUser User => E2EEnvironment.UserWithRange;

    private static RunResult PullThrough(FaultProxy proxy, string dir, Dictionary<string, string>? env = null) =>
        OciEnvironment.Burrow(User, Path.Combine(dir, "cache"), ["pull", Path.Combine(dir, "out.sif"), $"docker://{proxy.Address}/small:latest"], env);

    private static string[] CachedFiles(string dir, string kind)
    {
        string path = Path.Combine(dir, "cache", kind);
        return Directory.Exists(path) ? Directory.GetFiles(path, "*", SearchOption.AllDirectories) : [];
    }

    [Fact]
    public void RefusesATamperedBlobAndLeavesTheCacheUntouched()
    {
        using var proxy = new FaultProxy(Fault.TamperBlob);
        string dir = OciEnvironment.Scratch(User);
        try
        {
            RunResult r = PullThrough(proxy, dir);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Matches(@"blob sha256:[0-9a-f]{64} failed verification", r.Stderr);
            Assert.Empty(CachedFiles(dir, "blobs"));
            Assert.Empty(CachedFiles(dir, "sif"));
            Assert.False(File.Exists(Path.Combine(dir, "out.sif")));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void FailsClearlyOnATruncatedBlobAfterRetrying()
    {
        using var proxy = new FaultProxy(Fault.TruncateBlob);
        string dir = OciEnvironment.Scratch(User);
        try
        {
            RunResult r = PullThrough(proxy, dir);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("failed after 5 attempts", r.Stderr);
            Assert.True(proxy.BlobRequests >= 5, $"{proxy.BlobRequests} blob requests");
            Assert.Empty(CachedFiles(dir, "blobs"));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void SucceedsWhenTheRegistryFailsTwiceWith500()
    {
        using var proxy = new FaultProxy(Fault.Fail500Twice);
        string dir = OciEnvironment.Scratch(User);
        try
        {
            RunResult r = PullThrough(proxy, dir);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True(proxy.BlobRequests >= 4, $"{proxy.BlobRequests} blob requests");
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void TimesOutOnAStalledRegistry()
    {
        using var proxy = new FaultProxy(Fault.StallBlob);
        string dir = OciEnvironment.Scratch(User);
        try
        {
            var clock = Stopwatch.StartNew();
            RunResult r = PullThrough(proxy, dir, new() { ["BURROW_REGISTRY_TIMEOUT"] = "2" });
            Assert.False(r.TimedOut, "burrow itself must give up, not the harness");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("timed out: the registry stopped answering", r.Stderr);
            Assert.Contains("BURROW_REGISTRY_TIMEOUT", r.Stderr);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public async Task EightConcurrentPullsAllSucceedAndLeaveOneEntry()
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            Task<RunResult>[] pulls = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
                OciEnvironment.Burrow(User, cache, ["pull", Path.Combine(dir, $"out{i}.sif"), $"docker://{OciEnvironment.Anonymous}/many:latest"]))).ToArray();
            foreach (RunResult p in await Task.WhenAll(pulls))
            {
                Assert.True(p.ExitCode == 0, p.ToString());
            }
            Assert.Single(CachedFiles(dir, "sif"));
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cache, "tmp")));
            // Each conversion has its own SIF id and times, so the entry is one whole SIF, not a byte-equal copy of out0.
            Assert.Contains("squashfs-root/many/d09/f09999", OciEnvironment.ListSquashfs(CachedFiles(dir, "sif")[0]));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Theory]
    [InlineData("0.3")]
    [InlineData("1.0")]
    [InlineData("2.0")]
    public void AKilledPullLeavesNoPartialEntryAndTheNextOneCompletes(string killAfter)
    {
        string dir = OciEnvironment.Scratch(User);
        try
        {
            string cache = Path.Combine(dir, "cache");
            string reference = $"docker://{OciEnvironment.Anonymous}/big:latest";
            RunResult killed = AsUser.Run(User, ["timeout", "-s", "KILL", killAfter, E2EEnvironment.Burrow, "pull", Path.Combine(dir, "killed.sif"), reference],
                env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = cache });
            foreach (string blob in CachedFiles(dir, "blobs"))
            {
                // Every visible blob is whole: its name is its digest.
                Assert.Equal(Path.GetFileName(blob), OciEnvironment.Run("sha256sum", blob).Split(' ')[0]);
            }
            foreach (string sif in CachedFiles(dir, "sif"))
            {
                Assert.Contains("FS (Squashfs", OciEnvironment.Run("siftool", "list", sif));
            }
            RunResult next = OciEnvironment.Burrow(User, cache, ["pull", Path.Combine(dir, "next.sif"), reference]);
            Assert.True(next.ExitCode == 0, $"after a kill at {killAfter} s ({killed.ExitCode}): {next}");
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cache, "tmp")));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }
}
