using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>What the default container sees of the host, and how --contain, --no-home, --bind and --pwd change it.</summary>
public sealed class MountTests : IDisposable
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private static string Image => E2EEnvironment.BusyboxImage;

    /// <summary>
    /// A host directory owned by the test user for cwd and bind tests: outside home, /tmp and /var/tmp when the
    /// suite runs as root (under the install prefix's parent), so the working directory really needs its own bind.
    /// </summary>
    private readonly string _scratch = Path.Combine(E2EEnvironment.IsRoot ? "/opt/burrow-e2e" : "/var/tmp", "burrow-e2e-scratch-" + Guid.NewGuid().ToString("N")[..8]);

    public MountTests()
    {
        Directory.CreateDirectory(Path.Combine(_scratch, "sub"));
        File.WriteAllText(Path.Combine(_scratch, "marker"), "scratch\n");
        File.WriteAllText(Path.Combine(_scratch, "sub", "inner"), "inner\n");
        Chown(_scratch);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static void Chown(string path)
    {
        if (E2EEnvironment.IsRoot)
        {
            using var p = System.Diagnostics.Process.Start("chown", ["-R", $"{User.Uid}:{User.Gid}", path]);
            p.WaitForExit();
        }
    }

    private static RunResult Sh(string script, params string[] options) =>
        AsUser.Burrow(User, ["exec", .. options, Image, "sh", "-c", script]);

    private static RunResult ShIn(string cwd, string script, params string[] options) =>
        AsUser.Run(User, [E2EEnvironment.Burrow, "exec", .. options, Image, "sh", "-c", script], cwd: cwd);

    [Fact]
    public void HomeIsBoundAtTheSamePathAndIsTheWorkingDirectory()
    {
        RunResult r = Sh("echo $HOME; pwd; test -w $HOME && echo writable");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"{User.Home}\n{User.Home}\nwritable\n", r.Stdout);
    }

    [Fact]
    public void CwdOutsideHomeIsBoundAndUsed()
    {
        // Only the working directory itself is bound, not its parent.
        RunResult r = ShIn(Path.Combine(_scratch, "sub"), "pwd; cat inner; test -e ../marker || echo parent-not-bound");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"{_scratch}/sub\ninner\nparent-not-bound\n", r.Stdout);
    }

    [Fact]
    public void TmpVarTmpAndEtcFilesAreTheHosts()
    {
        string name = "burrow-e2e-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(Path.Combine("/tmp", name), "host tmp\n");
        File.WriteAllText(Path.Combine("/var/tmp", name), "host var tmp\n");
        try
        {
            RunResult r = Sh($"cat /tmp/{name} /var/tmp/{name}; cat /etc/hosts; cat /etc/resolv.conf");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.StartsWith("host tmp\nhost var tmp\n", r.Stdout);
            Assert.Contains(File.ReadAllText("/etc/hosts"), r.Stdout);
            Assert.Contains(File.ReadAllText("/etc/resolv.conf"), r.Stdout);
        }
        finally
        {
            File.Delete(Path.Combine("/tmp", name));
            File.Delete(Path.Combine("/var/tmp", name));
        }
    }

    [Fact]
    public void LocaltimeIsTheHosts()
    {
        if (!File.Exists("/etc/localtime"))
        {
            return; // nothing to bind on this host; the planner then skips it (unit-tested)
        }
        string expected = Convert.ToHexString(System.Security.Cryptography.MD5.HashData(File.ReadAllBytes("/etc/localtime"))).ToLowerInvariant();
        // The busybox image has no /etc/localtime of its own: what is there is the host's.
        Assert.False(File.Exists(Path.Combine(E2EEnvironment.BusyboxTree, "etc", "localtime")));
        RunResult r = AsUser.Burrow(User, "exec", E2EEnvironment.BusyboxImage, "md5sum", "/etc/localtime");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith(expected + " ", r.Stdout);
    }

    [Fact]
    public void ProcSysAndDevComeFromTheHost()
    {
        RunResult r = Sh("test -r /proc/self/status && test -d /sys/kernel && echo x > /dev/null && head -c 4 /dev/zero | wc -c");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("4", r.Stdout.Trim());
    }

    [Fact]
    public void ContainHidesHostTmpHomeAndCwd()
    {
        string name = "burrow-e2e-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(Path.Combine("/tmp", name), "");
        try
        {
            RunResult r = ShIn(_scratch, $"pwd; ls -A $HOME | wc -l; test -e /tmp/{name} || echo tmp-private; test -e {_scratch} || echo no-cwd", "--contain");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal($"{User.Home}\n0\ntmp-private\nno-cwd\n", r.Stdout);
        }
        finally
        {
            File.Delete(Path.Combine("/tmp", name));
        }
    }

    [Fact]
    public void ContainAllAlsoCleansTheEnvironmentAndIsolatesPids()
    {
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", "-C", Image, "sh", "-c", "echo $FOO; echo $LANG; ps -o pid | wc -l"],
            env: new Dictionary<string, string> { ["FOO"] = "bar" });
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n');
        Assert.Equal("", lines[0]);
        Assert.Equal("C", lines[1]);
        Assert.True(int.Parse(lines[2]) < 8, "only the container's processes are visible:\n" + r);
    }

    [Fact]
    public void NoHomeLeavesHomeUnbound()
    {
        string marker = "burrow-e2e-home-" + Guid.NewGuid().ToString("N")[..8];
        RunResult setup = AsUser.Run(User, ["touch", Path.Combine(User.Home, marker)]);
        Assert.True(setup.ExitCode == 0, setup.ToString());
        try
        {
            Assert.Equal("bound\n", ShIn("/", $"test -e $HOME/{marker} && echo bound").Stdout);
            // From /, not from home: a working directory is bound whatever --no-home says (as in Apptainer).
            RunResult r = ShIn("/", $"test -e $HOME/{marker} || echo not-bound", "--no-home");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("not-bound\n", r.Stdout);
        }
        finally
        {
            AsUser.Run(User, ["rm", "-f", Path.Combine(User.Home, marker)]);
        }
    }

    [Fact]
    public void BindsAreRepeatableCommaListsWithReadOnlyAndReadWrite()
    {
        RunResult r = Sh("cat /a/marker /b/marker; touch /b/rw-ok && echo rw; touch /a/x 2>/dev/null || echo ro; cat /c",
            "-B", $"{_scratch}:/a:ro,{_scratch}:/b:rw", "--bind", $"{_scratch}/marker:/c");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("scratch\nscratch\nrw\nro\nscratch\n", r.Stdout);
        Assert.True(File.Exists(Path.Combine(_scratch, "rw-ok")));
        Assert.False(File.Exists(Path.Combine(_scratch, "x")));
    }

    [Fact]
    public void BindWithoutDestinationUsesTheSourcePath()
    {
        RunResult r = Sh($"cat {_scratch}/marker", "-B", _scratch);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("scratch\n", r.Stdout);
    }

    [Fact]
    public void PwdSetsTheWorkingDirectory()
    {
        RunResult r = Sh("pwd", "--pwd", "/etc");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("/etc\n", r.Stdout);
        r = Sh("pwd", "-B", $"{_scratch}:/data", "--pwd", "/data/sub");
        Assert.Equal("/data/sub\n", r.Stdout);
    }

    [Fact]
    public void CommandNotFoundExits127WithAnError()
    {
        RunResult r = AsUser.Burrow(User, "exec", Image, "no-such-command-here", "arg");
        Assert.Equal(127, r.ExitCode);
        Assert.Contains("ERROR:", r.Stderr);
        Assert.Contains("no-such-command-here", r.Stderr);
    }

    [Fact]
    public void ArgumentsAfterTheImageReachTheCommandUntouched()
    {
        RunResult r = AsUser.Burrow(User, "exec", Image, "echo", "-B", "--contain", "@file", "--", "x");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("-B --contain @file -- x\n", r.Stdout);
    }
}
