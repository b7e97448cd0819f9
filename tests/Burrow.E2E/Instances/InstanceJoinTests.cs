using System.Text.Json;
using Burrow.E2E.Harness;
using Burrow.E2E.Networking;

namespace Burrow.E2E.Instances;

/// <summary>
/// exec|run|shell instance://NAME as the unprivileged users: the command runs in the instance's container (its
/// files, PID and network namespaces, its identity) with no_new_privs and the instance's capabilities, its status
/// comes back, what it leaves behind dies with it, and another user's instance cannot be joined even through a
/// forged state file.
/// </summary>
[Collection("network helpers")]
public class InstanceJoinTests
{
    private static string Name() => "j" + Guid.NewGuid().ToString("N")[..10];

    public static IEnumerable<object[]> Users() => E2EEnvironment.BothUsers();

    [Theory]
    [MemberData(nameof(Users))]
    public void AJoinedCommandRunsInTheInstancesContainerAsItsPayloadDoes(TestUser user)
    {
        string name = Name();
        // In the instance's own writable layer: neither the host nor a new container of the image has the file.
        string mark = "/etc/mark-" + name;
        RunResult start = AsUser.Burrow(user, "instance", "start", "--writable-tmpfs", E2EEnvironment.BusyboxImage, name, "-c", $"echo inside > {mark}; exec sleep 311");
        Assert.True(start.ExitCode == 0, start.ToString());
        try
        {
            Assert.False(File.Exists(mark));
            Assert.NotEqual(0, AsUser.Burrow(user, "exec", E2EEnvironment.BusyboxImage, "cat", mark).ExitCode);
            RunResult r = AsUser.Burrow(user, "exec", "instance://" + name, "sh", "-c",
                $"cat {mark}; id -u; grep -E '^(NoNewPrivs|CapEff|Seccomp):' /proc/self/status");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("inside\n" + user.Uid + "\n", r.Stdout);
            Assert.Contains("NoNewPrivs:\t1", r.Stdout);
            Assert.Contains("CapEff:\t0000000000000000", r.Stdout);
            Assert.Contains("Seccomp:\t2", r.Stdout);

            Assert.Equal(7, AsUser.Burrow(user, "exec", "instance://" + name, "sh", "-c", "exit 7").ExitCode);

            // A background job of the joined command dies with it; the instance lives on.
            RunResult bg = AsUser.Burrow(user, "exec", "instance://" + name, "sh", "-c", "sleep 1312 & echo started");
            Assert.True(bg.ExitCode == 0, bg.ToString());
            Assert.True(Ports.WaitUntil(() => ProcessesOf(user, "sleep 1312").Count == 0, TimeSpan.FromSeconds(5)), "the joined command's background job outlived it");
            Assert.Single(ProcessesOf(user, "sleep 311"));
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", name);
        }
    }

    [Fact]
    public void AJoinedCommandSharesTheInstancesPidAndNetworkNamespacesAndItsFakeroot()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        string name = Name();
        RunResult start = AsUser.Burrow(user, "instance", "start", "--fakeroot", "--pid", "--net", "--network", "none", "--hostname", "inst-" + name[..5],
            E2EEnvironment.BusyboxImage, name, "-c", "exec sleep 312");
        Assert.True(start.ExitCode == 0, start.ToString());
        try
        {
            RunResult r = AsUser.Burrow(user, "exec", "instance://" + name, "sh", "-c", "id -u; hostname; ls /sys/class/net; ps -o args | grep -c '^sleep 312'");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal($"0\ninst-{name[..5]}\nlo\n1\n", r.Stdout);
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", name);
        }
    }

    [Fact]
    public void RunAndShellJoinToo()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        string name = Name();
        Assert.Equal(0, AsUser.Burrow(user, "instance", "start", "--writable-tmpfs", E2EEnvironment.BusyboxImage, name, "-c", "echo shared > /etc/s; exec sleep 313").ExitCode);
        try
        {
            RunResult run = AsUser.Burrow(user, "run", "instance://" + name, "-c", "cat /etc/s");
            Assert.True(run.ExitCode == 0 && run.Stdout == "shared\n", run.ToString());
            RunResult shell = AsUser.Run(user, [E2EEnvironment.Burrow, "shell", "instance://" + name], stdin: "cat /etc/s\nexit 3\n");
            Assert.True(shell.ExitCode == 3 && shell.Stdout.Contains("shared", StringComparison.Ordinal), shell.ToString());
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", name);
        }
    }

    [Fact]
    public void AnotherUsersInstanceCannotBeJoinedEvenThroughAForgedStateFile()
    {
        TestUser owner = E2EEnvironment.UserWithRange, other = E2EEnvironment.UserWithoutRange;
        string name = Name();
        Assert.Equal(0, AsUser.Burrow(owner, "instance", "start", "--writable-tmpfs", E2EEnvironment.BusyboxImage, name, "-c", "echo secret > /etc/s; exec sleep 314").ExitCode);
        string forged = "";
        try
        {
            Assert.Contains("no instance named " + name, AsUser.Burrow(other, "exec", "instance://" + name, "cat", "/etc/s").Stderr);

            // The other user copies the owner's record into a state directory of its own: the kernel still refuses.
            string ownerState = StateFile(owner, name);
            string otherName = "x" + name;
            Assert.Equal(0, AsUser.Burrow(other, "instance", "start", E2EEnvironment.BusyboxImage, otherName, "-c", "exec sleep 315").ExitCode);
            forged = Path.Combine(Path.GetDirectoryName(StateFile(other, otherName))!, "f" + name + ".json");
            string record = File.ReadAllText(ownerState).Replace($"\"name\": \"{name}\"", $"\"name\": \"f{name}\"", StringComparison.Ordinal);
            RunResult write = AsUser.Run(other, ["sh", "-c", "cat > \"$0\"", forged], stdin: record);
            Assert.True(write.ExitCode == 0, write.ToString());
            RunResult join = AsUser.Burrow(other, "exec", "instance://f" + name, "cat", "/etc/s");
            Assert.NotEqual(0, join.ExitCode);
            Assert.DoesNotContain("secret", join.Stdout);
            Assert.Single(join.Stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal) && l.Contains("ermission denied", StringComparison.Ordinal));
            AsUser.Burrow(other, "instance", "stop", otherName);
        }
        finally
        {
            AsUser.Burrow(owner, "instance", "stop", name);
            if (forged.Length > 0)
            {
                File.Delete(forged);
            }
        }
    }

    [Fact]
    public void BadJoinsAreOneClearError()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        string name = Name();
        Assert.Equal(0, AsUser.Burrow(user, "instance", "start", E2EEnvironment.BusyboxImage, name, "-c", "exec sleep 316").ExitCode);
        try
        {
            AssertOneError(AsUser.Burrow(user, "exec", "instance://nosuch" + name, "true"), "no instance named nosuch" + name);
            AssertOneError(AsUser.Burrow(user, "exec", "instance://a/b", "true"), "instance name 'a/b' is not valid");
            AssertOneError(AsUser.Burrow(user, "exec", "--bind", "/tmp", "--fakeroot", "instance://" + name, "true"), "--bind, --fakeroot: the container of instance " + name);
            AssertOneError(AsUser.Burrow(user, "exec", "instance://" + name, "nosuchcommand"), "nosuchcommand: command not found in the instance's container");
            AssertOneError(AsUser.Burrow(user, "test", "instance://" + name), "only exec, run and shell can join");
            AssertOneError(AsUser.Burrow(user, "inspect", "instance://" + name), "can only be joined by exec, run and shell");
        }
        finally
        {
            AsUser.Burrow(user, "instance", "stop", name);
        }
        AssertOneError(AsUser.Burrow(user, "exec", "instance://" + name, "true"), "no instance named " + name);
    }

    private static string StateFile(TestUser user, string name)
    {
        RunResult list = AsUser.Burrow(user, "instance", "list", "--json");
        JsonElement mine = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        return Path.ChangeExtension(mine.GetProperty("stdoutLog").GetString()!, ".json");
    }

    private static List<int> ProcessesOf(TestUser user, string commandLine)
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
                string cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (cmd == commandLine && File.ReadAllLines(Path.Combine(dir, "status")).Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t')[1] == user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)))
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

    private static void AssertOneError(RunResult r, string what)
    {
        Assert.NotEqual(0, r.ExitCode);
        string[] errors = r.Stderr.Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1 && errors[0].Contains(what, StringComparison.Ordinal), r.ToString());
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
