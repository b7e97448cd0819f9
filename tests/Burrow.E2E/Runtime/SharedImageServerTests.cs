using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>
/// One image served once per user: containers of one SIF and identity share one server, which exits with the last
/// of them; another identity or another user gets its own; --no-share gets none; a killed server is an ERROR for the
/// containers that used it and leaves nothing behind. Uses the SIF directly, so it runs once (SandboxOnly).
/// </summary>
[Trait("Category", "SandboxOnly")]
public class SharedImageServerTests
{
    private static string Sif => E2EEnvironment.BusyboxTree + ".sif";

    public static IEnumerable<object[]> Users() => E2EEnvironment.BothUsers();

    [Theory]
    [MemberData(nameof(Users))]
    public void FourContainersOfOneImageShareOneServerThatEndsWithTheLast(TestUser user)
    {
        string mark = "shared-" + Guid.NewGuid().ToString("N")[..8];
        Process[] containers = Enumerable.Range(0, 4)
            .Select(i => AsUser.Start(user, [E2EEnvironment.Burrow, "exec", Sif, "sh", "-c", $"sleep 3; cat /bin/busybox >/dev/null && echo {mark}-{i}"]))
            .ToArray();
        try
        {
            Assert.True(WaitUntil(() => Containers(user, mark) == 4, TimeSpan.FromSeconds(20)), "the four containers did not start");
            Assert.Equal(1, Servers(user));
            // Its standard error is the log in its directory.
            string directory = Path.GetDirectoryName(new FileInfo($"/proc/{ServerPids(user)[0]}/fd/2").LinkTarget!)!;
            Assert.True(Directory.Exists(directory), directory);
            foreach ((Process p, int i) in containers.Select((p, i) => (p, i)))
            {
                Assert.True(p.WaitForExit(30_000), "a container did not end");
                Assert.Equal(0, p.ExitCode);
                Assert.Contains($"{mark}-{i}", p.StandardOutput.ReadToEnd());
            }
            Assert.True(WaitUntil(() => Servers(user) == 0, TimeSpan.FromSeconds(10)), "the server outlived its containers");
            Assert.False(Directory.Exists(directory), $"the server left its directory {directory}");
        }
        finally
        {
            foreach (Process p in containers)
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }
                p.Dispose();
            }
        }
    }

    [Fact]
    public void AnotherIdentityAnotherUserAndNoShareGetServersOfTheirOwn()
    {
        TestUser user = E2EEnvironment.UserWithRange, other = E2EEnvironment.UserWithoutRange;
        Process[] running =
        [
            AsUser.Start(user, [E2EEnvironment.Burrow, "exec", Sif, "sleep", "4"]),
            AsUser.Start(user, [E2EEnvironment.Burrow, "exec", "--fakeroot", Sif, "sleep", "4"]),
            AsUser.Start(other, [E2EEnvironment.Burrow, "exec", Sif, "sleep", "4"]),
        ];
        try
        {
            Assert.True(WaitUntil(() => Servers(user) == 2 && Servers(other) == 1, TimeSpan.FromSeconds(20)),
                $"servers: {Servers(user)} for {user.Name}, {Servers(other)} for {other.Name}");
            RunResult alone = AsUser.Burrow(other, "exec", "--no-share", Sif, "sh", "-c", "echo alone");
            Assert.True(alone.ExitCode == 0 && alone.Stdout == "alone\n", alone.ToString());
            Assert.Equal(1, Servers(other));
        }
        finally
        {
            foreach (Process p in running)
            {
                p.WaitForExit(30_000);
                p.Dispose();
            }
        }
        Assert.True(WaitUntil(() => Servers(user) + Servers(other) == 0, TimeSpan.FromSeconds(10)), "a server outlived its containers");
    }

    [Fact]
    public void AKilledServerIsAnErrorForItsContainersAndLeavesNothing()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string mark = "killed-" + Guid.NewGuid().ToString("N")[..8];
        using Process container = AsUser.Start(user, [E2EEnvironment.Burrow, "exec", Sif, "sh", "-c", $"sleep 3; ls /bin; echo {mark}"]);
        // Once the payload runs, its engine is connected (a server killed while starting is only a WARNING: the engine serves the image itself).
        Assert.True(WaitUntil(() => Containers(user, mark) == 1, TimeSpan.FromSeconds(20)), "the container did not start");
        Assert.Equal(1, Servers(user));
        foreach (int pid in ServerPids(user))
        {
            Process.GetProcessById(pid).Kill();
        }
        Assert.True(container.WaitForExit(30_000), "the container did not end");
        string stderr = container.StandardError.ReadToEnd();
        Assert.NotEqual(0, container.ExitCode);
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal) && l.Contains("the image server for", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr);
        Assert.True(WaitUntil(() => Servers(user) == 0 && Holders(user) == 0, TimeSpan.FromSeconds(10)), "the holder outlived its server");
    }

    private static int Servers(TestUser user) => ServerPids(user).Count;

    private static List<int> ServerPids(TestUser user) => ProcessesOf(user, a => a.Length > 1 && a[1] == "__image-server");

    private static int Holders(TestUser user) => ProcessesOf(user, a => a.Contains("__hold")).Count;

    private static int Containers(TestUser user, string mark) => ProcessesOf(user, a => a.Length == 3 && a[0] == "sh" && a[2].Contains(mark, StringComparison.Ordinal)).Count;

    private static List<int> ProcessesOf(TestUser user, Func<string[], bool> match)
    {
        var found = new List<int>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }
            try
            {
                string[] argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                bool mine = File.ReadAllLines(Path.Combine(dir, "status")).Any(l => l.StartsWith("Uid:", StringComparison.Ordinal)
                    && l.Split('\t')[1] == user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (mine && argv.Length > 0 && match(argv))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    private static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition())
            {
                return true;
            }
            Thread.Sleep(50);
        }
        return condition();
    }
}
