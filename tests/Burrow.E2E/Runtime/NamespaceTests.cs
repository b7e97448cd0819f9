using Burrow.E2E.Harness;

namespace Burrow.E2E.Runtime;

/// <summary>The namespace options: PID (with and without the init), IPC, network, UTS, and --writable.</summary>
public class NamespaceTests
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private static string Busybox => E2EEnvironment.BusyboxImage;

    [Fact]
    public void PidNamespaceHasATinyInitAsPid1()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--pid", Busybox, "sh", "-c", "echo $$; cat /proc/1/comm; ps -o pid,comm");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("2", lines[0]);
        Assert.Equal("burrow-starter", lines[1]);
        // Only the init and the payload (busybox sh execs its last command, ps) are in the namespace.
        Assert.Equal(["1 burrow-starter", "2 ps"], lines.Skip(3).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Take(2));
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public void NoInitMakesThePayloadPid1()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--pid", "--no-init", Busybox, "sh", "-c", "echo $$");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("1\n", r.Stdout);
    }

    [Fact]
    public void WithoutPidTheHostPidNamespaceIsShared()
    {
        RunResult r = AsUser.Burrow(User, "exec", Busybox, "readlink", "/proc/self/ns/pid");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(HostNamespace("pid"), r.Stdout.Trim());
    }

    [Fact]
    public void IpcOptionCreatesAnIpcNamespace()
    {
        RunResult shared = AsUser.Burrow(User, "exec", Busybox, "readlink", "/proc/self/ns/ipc");
        RunResult own = AsUser.Burrow(User, "exec", "--ipc", Busybox, "readlink", "/proc/self/ns/ipc");
        Assert.True(shared.ExitCode == 0 && own.ExitCode == 0, shared + "\n" + own);
        Assert.Equal(HostNamespace("ipc"), shared.Stdout.Trim());
        Assert.NotEqual(HostNamespace("ipc"), own.Stdout.Trim());
    }

    [Fact]
    public void NetworkNoneHasOnlyLoopbackAndItIsUp()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--net", "--network", "none", Busybox, "sh", "-c", "ip -o link; ip -o addr; readlink /proc/self/ns/net");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] links = r.Stdout.Split('\n').Where(l => l.Contains("link/")).ToArray();
        Assert.Single(links);
        Assert.Matches(@"^1: lo: <LOOPBACK,UP,LOWER_UP>", links[0]);
        Assert.Contains("inet 127.0.0.1/8", r.Stdout);
        Assert.NotEqual(HostNamespace("net"), r.Stdout.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void HostnameSetsItInANewUtsNamespace()
    {
        string before = File.ReadAllText("/proc/sys/kernel/hostname").Trim();
        RunResult r = AsUser.Burrow(User, "exec", "--hostname", "burrow-test-box", Busybox, "sh", "-c", "hostname; readlink /proc/self/ns/uts");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("burrow-test-box", lines[0]);
        Assert.NotEqual(HostNamespace("uts"), lines[1]);
        Assert.Equal(before, File.ReadAllText("/proc/sys/kernel/hostname").Trim());
    }

    [Fact]
    public void WritableSandboxIsWrittenAndTheDefaultIsReadOnly()
    {
        using var sandbox = new ScratchSandbox(User);
        RunResult ro = AsUser.Burrow(User, "exec", sandbox.Root, "sh", "-c", "touch /made-here");
        Assert.NotEqual(0, ro.ExitCode);
        Assert.Contains("Read-only file system", ro.Stderr);
        Assert.False(File.Exists(Path.Combine(sandbox.Root, "made-here")));

        RunResult rw = AsUser.Burrow(User, "exec", "--writable", sandbox.Root, "sh", "-c", "touch /made-here && awk '$5 == \"/\"' /proc/self/mountinfo");
        Assert.True(rw.ExitCode == 0, rw.ToString());
        Assert.True(File.Exists(Path.Combine(sandbox.Root, "made-here")));
        Assert.Matches(@" / rw,nosuid,nodev", rw.Stdout);
    }

    [Fact]
    public void ReadOnlyImageIsNeverModified()
    {
        // Mount points for $HOME and friends are made in the session's overlay layer, not in the image.
        // A SIF is checked by its bytes, a sandbox by its entries.
        Func<string[]> state = E2EEnvironment.IsSifRun
            ? () => [Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Busybox)))]
            : () => Directory.GetFileSystemEntries(Busybox, "*", SearchOption.AllDirectories).Order().ToArray();
        string[] before = state();
        RunResult r = AsUser.Burrow(User, "exec", "-B", "/var/cache/burrow-test/fixtures/suid:/new/mount/point", Busybox, "ls", "/new/mount/point");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(before, state());
    }

    private static string HostNamespace(string kind) => new FileInfo($"/proc/self/ns/{kind}").LinkTarget!;
}
