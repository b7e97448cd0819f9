using System.Text.Json;
using Burrow.E2E.Harness;
using Burrow.E2E.Networking;

namespace Burrow.E2E.Instances;

/// <summary>
/// burrow instance start|list|stop as the unprivileged users: a web server from the busybox image published on
/// 127.0.0.1, seen by the host, listed, stopped without leaving a process, a port or state; a killed one is noticed.
/// Instances are per user: another user can neither see nor stop them.
/// </summary>
[Collection("network helpers")]
public class InstanceTests
{
    private static string Name() => "t" + Guid.NewGuid().ToString("N")[..10];

    private static string WebServer(string mark) => $"d=$(mktemp -d) && echo {mark} > $d/index.html && exec httpd -f -p 80 -h $d";

    public static IEnumerable<object[]> Users() => E2EEnvironment.BothUsers();

    [Theory]
    [MemberData(nameof(Users))]
    public void AWebServerInstanceIsServedListedAndStoppedWithoutLeavingAnything(TestUser user)
    {
        string name = Name();
        int port = Ports.Free();
        string mark = "instance-" + name;
        RunResult start = AsUser.Burrow(user, "instance", "start", "-p", $"127.0.0.1:{port}:80", E2EEnvironment.BusyboxImage, name, "-c", WebServer(mark));
        try
        {
            Assert.True(start.ExitCode == 0, start.ToString());
            Assert.Contains($"instance started successfully: {name}", start.Stderr);
            Assert.Equal(mark + "\n", Ports.Fetch(port, TimeSpan.FromSeconds(20), "/index.html"));

            RunResult list = AsUser.Burrow(user, "instance", "list", "--json");
            Assert.True(list.ExitCode == 0, list.ToString());
            JsonElement mine = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
            Assert.Equal("running", mine.GetProperty("state").GetString());
            Assert.Equal($"127.0.0.1:{port}->80/tcp", mine.GetProperty("ports")[0].GetString());
            int pid = mine.GetProperty("pid").GetInt32();
            Assert.True(Directory.Exists($"/proc/{pid}"));
            string stateDir = Path.GetDirectoryName(mine.GetProperty("stdoutLog").GetString())!;

            RunResult stop = AsUser.Burrow(user, "instance", "stop", name);
            Assert.True(stop.ExitCode == 0, stop.ToString());
            Assert.False(Directory.Exists($"/proc/{pid}"), "the instance's engine is still running");
            Assert.False(Ports.Listening(port), "the published port still listens");
            Assert.True(Ports.WaitUntil(() => Ports.HelpersOf(user.Uid).Count == 0, TimeSpan.FromSeconds(5)), "a network helper is left");
            Assert.Empty(Directory.GetFiles(stateDir, name + ".*"));
            Assert.DoesNotContain(name, AsUser.Burrow(user, "instance", "list").Stdout);
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", "--force", name);
        }
    }

    [Fact]
    public void AKilledInstanceIsShownAsKilledOnceAndThenForgotten()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        string name = Name();
        RunResult start = AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage, name, "-c", "echo started; exec sleep 300");
        Assert.True(start.ExitCode == 0, start.ToString());
        try
        {
            // The payload dies of SIGKILL: its engine records how it ended.
            RunResult kill = AsUser.Run(user, ["sh", "-c", "pkill -KILL -u $(id -u) -f '^sleep 300$'"]);
            Assert.True(Ports.WaitUntil(() => AsUser.Burrow(user, "instance", "list", "--json").Stdout.Contains("\"killed (SIGKILL)\"", StringComparison.Ordinal)
                || !AsUser.Burrow(user, "instance", "list").Stdout.Contains(name, StringComparison.Ordinal), TimeSpan.FromSeconds(20)), kill.ToString());
            Assert.DoesNotContain(name, AsUser.Burrow(user, "instance", "list").Stdout);
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", "--force", name);
        }
    }

    [Fact]
    public void AnInstanceWhoseEngineIsSigkilledIsShownAsKilledAndCleanedUp()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string name = Name();
        RunResult start = AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage, name, "-c", "exec sleep 301");
        Assert.True(start.ExitCode == 0, start.ToString());
        JsonElement mine = JsonDocument.Parse(AsUser.Burrow(user, "instance", "list", "--json").Stdout).RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int pid = mine.GetProperty("pid").GetInt32();
        AsUser.Run(user, ["kill", "-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(Ports.WaitUntil(() => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(10)));
        // The monitor kills the container when its engine dies.
        Assert.True(Runtime.HostProcesses.WaitUntilGone("sleep 301", TimeSpan.FromSeconds(10)), "the container outlived its engine");
        RunResult list = AsUser.Burrow(user, "instance", "list");
        Assert.Matches($"{name} +{pid} +killed ", list.Stdout);
        Assert.DoesNotContain(name, AsUser.Burrow(user, "instance", "list").Stdout);
    }

    [Fact]
    public void AnotherUserCanNeitherSeeNorStopYourInstance()
    {
        string name = Name();
        RunResult start = AsUser.Burrow(E2EEnvironment.UserWithRange, "instance", "start", E2EEnvironment.BusyboxImage, name, "-c", "exec sleep 302");
        Assert.True(start.ExitCode == 0, start.ToString());
        try
        {
            Assert.DoesNotContain(name, AsUser.Burrow(E2EEnvironment.UserWithoutRange, "instance", "list").Stdout);
            RunResult stop = AsUser.Burrow(E2EEnvironment.UserWithoutRange, "instance", "stop", name);
            Assert.NotEqual(0, stop.ExitCode);
            Assert.Contains($"ERROR:   no instance named {name}", stop.Stderr);
            Assert.Contains(name, AsUser.Burrow(E2EEnvironment.UserWithRange, "instance", "list").Stdout);
        }
        finally
        {
            AsUser.Burrow(E2EEnvironment.UserWithRange, "instance", "stop", name);
        }
    }

    [Fact]
    public void BadInstanceInputsAreOneClearError()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        string name = Name();
        Assert.Equal(0, AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage, name, "-c", "exec sleep 303").ExitCode);
        try
        {
            AssertOneError(AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage, name, "true"), $"instance {name} already exists");
            AssertOneError(AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage, "web/1", "true"), "instance name 'web/1' is not valid");
            AssertOneError(AsUser.Burrow(user, "instance", "stop", "nosuch" + name), "no instance named nosuch");
            AssertOneError(AsUser.Burrow(user, "instance", "stop", "--signal", "BOGUS", name), "--signal BOGUS: not a signal");
            AssertOneError(AsUser.Burrow(user, "instance", "stop"), "needs a NAME or --all");
            AssertOneError(AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage + ".missing", "other" + name, "true"), "does not exist");
            AssertOneError(AsUser.Burrow(user, "instance", "start", "-p", "127.0.0.1:80:80", E2EEnvironment.BusyboxImage, "low" + name, "true"), "below 1024");
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", name);
        }
    }

    private static void AssertOneError(RunResult r, string what)
    {
        Assert.NotEqual(0, r.ExitCode);
        string[] errors = r.Stderr.Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1 && errors[0].Contains(what, StringComparison.Ordinal), r.ToString());
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
