using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>
/// Apptainer's mount rules where Burrow differed (issue "Apptainer parity"), and the mount options Apptainer users
/// rely on (--home, --workdir, --scratch, --mount, --no-mount, BURROW_BIND), run as the unprivileged test users.
/// </summary>
public sealed class MountParityTests : IDisposable
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private static string Image => E2EEnvironment.BusyboxImage;

    /// <summary>A directory of the test user's, outside home, /tmp and /var/tmp when the suite runs as root.</summary>
    private readonly string _scratch = Path.Combine(E2EEnvironment.IsRoot ? "/opt/burrow-e2e" : "/var/tmp", "burrow-e2e-parity-" + Guid.NewGuid().ToString("N")[..8]);

    public MountParityTests()
    {
        Directory.CreateDirectory(_scratch);
        File.WriteAllText(Path.Combine(_scratch, "marker"), "scratch\n");
        Own(_scratch, User);
    }

    public void Dispose() => ActionImage.Run("rm", "-rf", _scratch);

    private static void Own(string path, TestUser user)
    {
        if (E2EEnvironment.IsRoot)
        {
            ActionImage.Run("chown", "-R", $"{user.Uid}:{user.Gid}", path);
        }
    }

    private static RunResult Sh(string script, params string[] options) =>
        AsUser.Run(User, [E2EEnvironment.Burrow, "exec", .. options, Image, "sh", "-c", script], cwd: "/");

    private static RunResult ShIn(string image, string script, params string[] options) =>
        AsUser.Run(User, [E2EEnvironment.Burrow, "exec", .. options, image, "sh", "-c", script], cwd: "/");

    [Fact]
    [Trait("Category", "SandboxOnly")] // the image is a directory made here
    public void AVarTmpLinkToTmpDoesNotPutTheHostsVarTmpOverTmp()
    {
        string image = Path.Combine(_scratch, "image");
        ActionImage.Run("cp", "-a", E2EEnvironment.BusyboxTree, image);
        ActionImage.Run("rm", "-rf", Path.Combine(image, "var", "tmp"));
        File.CreateSymbolicLink(Path.Combine(image, "var", "tmp"), "../tmp");
        ActionImage.Run("chmod", "-R", "a+rX", image);
        string name = "burrow-e2e-vartmp-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(Path.Combine("/var/tmp", name), "");
        File.WriteAllText(Path.Combine("/tmp", name + "-tmp"), "");
        try
        {
            RunResult r = ShIn(image, $"test -e /tmp/{name} || echo no-host-var-tmp; test -e /tmp/{name}-tmp && echo host-tmp; readlink /var/tmp");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("no-host-var-tmp\nhost-tmp\n../tmp\n", r.Stdout);
        }
        finally
        {
            File.Delete(Path.Combine("/var/tmp", name));
            File.Delete(Path.Combine("/tmp", name + "-tmp"));
        }
    }

    [Fact]
    [Trait("Category", "SandboxOnly")] // --writable takes a sandbox
    public void WritableRefusesABindWhoseTargetTheImageLacksAndCreatesNothing()
    {
        TestUser owner = E2EEnvironment.UserWithRange;
        string sandbox = Path.Combine(_scratch, "sandbox");
        ActionImage.Run("cp", "-a", E2EEnvironment.BusyboxTree, sandbox);
        Own(sandbox, owner);
        ActionImage.Run("chmod", "a+rx", _scratch);
        RunResult r = AsUser.Run(owner, [E2EEnvironment.Burrow, "exec", "--writable", "--bind", "/etc/hostname:/missing/path", sandbox, "true"], cwd: "/");
        Assert.Equal(255, r.ExitCode);
        Assert.Contains("ERROR:   --bind /etc/hostname:/missing/path: /missing/path does not exist in the image, and Burrow makes no mount point in a writable image", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(sandbox, "missing")), "nothing is created in the sandbox");
    }

    [Fact]
    public void UserBindsComeBeforeTmpAndAWarningNamesTheDefaultsTheyHide()
    {
        Directory.CreateDirectory(Path.Combine(_scratch, "var"));
        File.WriteAllText(Path.Combine(_scratch, "var", "mine"), "mine\n");
        Own(_scratch, User);
        RunResult r = Sh("cat /var/mine; test -e /var/tmp || echo var-tmp-hidden", "--bind", Path.Combine(_scratch, "var") + ":/var");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("mine\nvar-tmp-hidden\n", r.Stdout);
        Assert.Contains($"WARNING: --bind {_scratch}/var:/var hides /var/tmp", r.Stderr);
    }

    [Fact]
    public void ANetworkNamespaceShowsItsOwnInterfacesInSys()
    {
        RunResult r = Sh("ls /sys/class/net", "--net", "--network", "none");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("lo\n", r.Stdout);
    }

    [Fact]
    public void AContainedDevHasTheDescriptorLinksAndItsOwnPseudoTerminals()
    {
        RunResult r = Sh("for l in fd stdin stdout stderr; do readlink /dev/$l; done; ls /dev/pts; test -e /dev/stdin && test -e /dev/fd/2 && echo resolves", "--contain");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\nptmx\nresolves\n", r.Stdout);
    }

    [Fact]
    public void ContainWithANetworkNamespaceHasALocalhostHostsFile()
    {
        RunResult r = Sh("cat /etc/hosts", "--contain", "--net", "--network", "none");
        Assert.True(r.ExitCode == 0, r.ToString());
        // Apptainer's file, not the host's (which names the host and whatever else it resolves).
        Assert.Equal("127.0.0.1   localhost\n::1         localhost ip6-localhost ip6-loopback\nff02::1     ip6-allnodes\nff02::2     ip6-allrouters\n", r.Stdout);
    }

    [Fact]
    public void HomeBindsADirectoryAsHomeAtItsDestination()
    {
        RunResult r = Sh("echo $HOME; cat $HOME/marker; test -e " + _scratch + " || echo not-at-source", "--home", _scratch + ":/home/other");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("/home/other\nscratch\nnot-at-source\n", r.Stdout);
    }

    [Fact]
    public void WorkdirHoldsTmpVarTmpAndHomeOfAContainedContainer()
    {
        RunResult r = Sh("echo t > /tmp/t; echo v > /var/tmp/v; echo h > $HOME/h", "--contain", "--workdir", _scratch);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("t\n", File.ReadAllText(Path.Combine(_scratch, "tmp", "t")));
        Assert.Equal("v\n", File.ReadAllText(Path.Combine(_scratch, "var_tmp", "v")));
        Assert.Equal("h\n", File.ReadAllText(Path.Combine(_scratch, "home", "h")));
    }

    [Fact]
    public void ScratchDirectoriesStartEmptyAndAreWritable()
    {
        RunResult r = Sh("ls -A /scratch/a | wc -l; echo x > /scratch/a/f && echo ok; test -d /scratch/b && echo b", "--scratch", "/scratch/a,/scratch/b");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0\nok\nb\n", r.Stdout);
    }

    [Fact]
    public void MountTakesDockersSyntax()
    {
        RunResult r = Sh("cat /data/marker; echo no > /data/new 2>/dev/null || echo read-only", "--mount", $"type=bind,source={_scratch},destination=/data,ro");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("scratch\nread-only\n", r.Stdout);
    }

    [Fact]
    public void BadMountValuesAreOneErrorLine()
    {
        RunResult r = Sh("true", "--mount", "type=volume,source=x,destination=/y");
        Assert.Equal(255, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal));
        Assert.Contains("--mount type=volume,source=x,destination=/y", r.Stderr);
    }

    [Fact]
    public void NoMountLeavesTmpAndHomeOut()
    {
        string name = "burrow-e2e-nomount-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(Path.Combine("/tmp", name), "");
        try
        {
            RunResult r = Sh($"test -e /tmp/{name} || echo no-host-tmp; test -e {User.Home} || echo no-home", "--no-mount", "tmp,home");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("no-host-tmp\nno-home\n", r.Stdout);
        }
        finally
        {
            File.Delete(Path.Combine("/tmp", name));
        }
    }

    [Fact]
    public void NoMountOfAnUnknownNameIsIgnoredWithAWarningAsInApptainer()
    {
        RunResult r = Sh("true", "--no-mount", "bogus");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("WARNING: --no-mount: ignoring unknown mount type 'bogus'", r.Stderr);
    }

    [Fact]
    public void BurrowBindAddsBindsAndABackslashEscapesAComma()
    {
        string odd = Path.Combine(_scratch, "a,b");
        Directory.CreateDirectory(odd);
        File.WriteAllText(Path.Combine(odd, "f"), "comma\n");
        Own(_scratch, User);
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", Image, "sh", "-c", "cat /from-env/marker /odd/f"], cwd: "/",
            env: new Dictionary<string, string> { ["BURROW_BIND"] = $"{_scratch}:/from-env,{_scratch}/a\\,b:/odd" });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("scratch\ncomma\n", r.Stdout);
    }

    [Fact]
    public void UtsGivesTheContainerItsOwnUtsNamespace()
    {
        string host = File.ReadAllText("/proc/sys/kernel/hostname").Trim();
        RunResult r = Sh("hostname; readlink /proc/self/ns/uts", "--uts");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(host, lines[0]);
        RunResult shared = Sh("readlink /proc/self/ns/uts");
        Assert.NotEqual(shared.Stdout.Trim(), lines[1]);
    }

    [Fact]
    public void ExecWithoutACommandIsAUsageErrorWithApptainersStatus()
    {
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", Image], cwd: "/");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("ERROR:", r.Stderr);
    }
}
