using Burrow.E2E.Harness;

namespace Burrow.E2E.Config;

/// <summary>
/// Each key of burrow.conf changes what an unprivileged user gets from the installation it belongs to: the same
/// command works under the default file and is refused, or sees less, under the administrator's setting. Every
/// refusal names the key, the file and the line.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConfigObeyedTests : IClassFixture<AdminInstallation>, IDisposable
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private static string Tree => E2EEnvironment.BusyboxTree;

    private static string Sif => E2EEnvironment.BusyboxTree + ".sif";

    private readonly AdminInstallation _install;

    /// <summary>A directory of the test user's, outside home and /tmp (which the configuration may leave out).</summary>
    private readonly string _scratch = Path.Combine(E2EEnvironment.IsRoot ? "/opt/burrow-e2e" : "/var/tmp", "burrow-e2e-conf-" + Guid.NewGuid().ToString("N")[..8]);

    public ConfigObeyedTests(AdminInstallation install)
    {
        _install = install;
        _install.Configure("");
        Directory.CreateDirectory(_scratch);
        File.WriteAllText(Path.Combine(_scratch, "marker"), "scratch\n");
        Shell.Chown(_scratch, User);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private string Conf => _install.ConfigFile;

    private RunResult Exec(string image, params string[] command) => _install.RunIn(User, "/", ["exec", image, .. command]);

    private static void Refused(RunResult r, string line)
    {
        Assert.True(r.ExitCode == 255, r.ToString());
        // One ERROR line, and it is this one (INFO and WARNING lines may come before it).
        Assert.Equal(["ERROR:   " + line], r.Stderr.Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)));
        Assert.Equal("", r.Stdout);
    }

    private static void Ok(RunResult r, string stdout)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(stdout, r.Stdout);
    }

    [Fact]
    public void AllowImageKindsRefusesTheKindsItLeavesOut()
    {
        Ok(Exec(Tree, "echo", "ok"), "ok\n");
        _install.Configure("# only SIF files\nallow-image-kinds = [\"sif\"]\n");
        Refused(Exec(Tree, "echo", "ok"),
            $"image {Tree}: sandbox images (directories) are not allowed on this installation (allow-image-kinds = [\"sif\"] in {Conf} line 2); the kinds allowed here are: sif");
        Refused(Exec("docker://localhost:1/none:1", "true"),
            $"image docker://localhost:1/none:1: OCI images (docker://, docker-archive:, oci:, oci-archive:) are not allowed on this installation (allow-image-kinds = [\"sif\"] in {Conf} line 2); the kinds allowed here are: sif");
        Ok(Exec(Sif, "echo", "ok"), "ok\n");
        _install.Configure("allow-image-kinds = [\"sandbox\"]\n");
        Refused(Exec(Sif, "true"),
            $"image {Sif}: SIF images are not allowed on this installation (allow-image-kinds = [\"sandbox\"] in {Conf} line 1); the kinds allowed here are: sandbox");
        // --unsquash runs a SIF as a directory, but the user named a SIF: still refused.
        Refused(_install.RunIn(User, "/", "exec", "--unsquash", Sif, "true"),
            $"image {Sif}: SIF images are not allowed on this installation (allow-image-kinds = [\"sandbox\"] in {Conf} line 1); the kinds allowed here are: sandbox");
    }

    [Fact]
    public void LimitContainerPathsAdmitsOnlyImagesUnderItsDirectoriesByTheirRealPath()
    {
        _install.Configure($"limit-container-paths = [\"{_scratch}\"]\n");
        Refused(Exec(Tree, "true"),
            $"image {Tree}: {Tree} is not in an allowed path (limit-container-paths = [\"{_scratch}\"] in {Conf} line 1); run an image stored under one of those directories");
        // A symbolic link in the allowed directory does not smuggle the image in: the real path counts.
        string link = Path.Combine(_scratch, "box.sif");
        File.CreateSymbolicLink(link, Sif);
        Refused(Exec(link, "true"),
            $"image {link}: {Sif} is not in an allowed path (limit-container-paths = [\"{_scratch}\"] in {Conf} line 1); run an image stored under one of those directories");
        string dirLink = Path.Combine(_scratch, "box");
        Directory.CreateSymbolicLink(dirLink, Tree);
        Refused(Exec(dirLink, "true"),
            $"image {dirLink}: {Tree} is not in an allowed path (limit-container-paths = [\"{_scratch}\"] in {Conf} line 1); run an image stored under one of those directories");
        // An allowed directory written as a link admits what is under its target.
        string imagesLink = Path.Combine(_scratch, "images");
        Directory.CreateSymbolicLink(imagesLink, Path.GetDirectoryName(Tree)!);
        _install.Configure($"limit-container-paths = [\"{imagesLink}\"]\n");
        Ok(Exec(Tree, "echo", "ok"), "ok\n");
        // A prefix that is not a whole path component admits nothing.
        _install.Configure($"limit-container-paths = [\"{Path.GetDirectoryName(Tree)}/bus\"]\n");
        Assert.Equal(255, Exec(Tree, "true").ExitCode);
        _install.Configure($"limit-container-paths = [\"/nonexistent\", \"{Path.GetDirectoryName(Tree)}/\"]\n");
        Ok(Exec(Tree, "echo", "ok"), "ok\n");
        Ok(Exec(link, "echo", "ok"), "ok\n");
    }

    [Fact]
    public void LimitContainerOwnersAdmitsOnlyImagesOfItsUsers()
    {
        string owner = E2EEnvironment.IsRoot ? "root" : Environment.UserName;
        _install.Configure($"limit-container-owners = [\"{User.Name}\"]\n");
        RunResult r = Exec(Tree, "true");
        Refused(r, $"image {Tree}: {Tree} is owned by {owner} (uid {OwnerUid(Tree)}), not by an allowed owner (limit-container-owners = [\"{User.Name}\"] in {Conf} line 1); run an image owned by one of those users");
        _install.Configure($"limit-container-owners = [\"nobody\", \"{OwnerUid(Tree)}\"]\n");
        Ok(Exec(Tree, "echo", "ok"), "ok\n");
        _install.Configure($"limit-container-owners = [\"{owner}\"]\n");
        Ok(Exec(Sif, "echo", "ok"), "ok\n");
    }

    private static uint OwnerUid(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return uint.Parse(text.Trim());
    }

    [Fact]
    public void UserBindControlOffRefusesBindsOfTheUsersOwn()
    {
        Ok(_install.RunIn(User, "/", "exec", "--bind", _scratch + ":/mnt", Tree, "cat", "/mnt/marker"), "scratch\n");
        _install.Configure("user-bind-control = false\n");
        Refused(_install.RunIn(User, "/", "exec", "--bind", _scratch + ":/mnt", Tree, "cat", "/mnt/marker"),
            $"--bind {_scratch}:/mnt: users may not add binds on this installation (user-bind-control = false in {Conf} line 1); leave --bind out (the administrator's bind-path entries are bound for you), or ask the administrator");
    }

    [Fact]
    public void BindPathEntriesAreBoundIntoEveryContainer()
    {
        Ok(Exec(Tree, "sh", "-c", "test -e /mnt/marker || echo absent"), "absent\n");
        _install.Configure($"bind-path = [\"{_scratch}:/mnt:ro\", \"/nonexistent-bind-path\"]\n");
        Ok(Exec(Tree, "sh", "-c", "cat /mnt/marker; touch /mnt/x 2>/dev/null || echo read-only"), "scratch\nread-only\n");
        // The default entries are replaced, not added to: /etc/hosts is now the image's.
        Ok(Exec(Tree, "sh", "-c", $"grep -c . /etc/hosts >/dev/null; awk '$5 == \"/etc/hosts\"' /proc/self/mountinfo | wc -l"), "0\n");
    }

    [Fact]
    public void MountHomeAndTmpNoLeaveThemOut()
    {
        string home = User.Home;
        Ok(Exec(Tree, "sh", "-c", $"test -d {home} && echo home; awk '$5 == \"/tmp\"' /proc/self/mountinfo | wc -l"), "home\n1\n");
        _install.Configure("mount-home = \"no\"\nmount-tmp = false\n");
        Ok(Exec(Tree, "sh", "-c", $"test -d {home} || echo no-home; awk '$5 == \"/tmp\" || $5 == \"/var/tmp\"' /proc/self/mountinfo | wc -l"), "no-home\n0\n");
        // From the home directory, it is still bound as the working directory, as --no-home does (Apptainer's rule).
        RunResult fromHome = _install.RunIn(User, home, "exec", Tree, "sh", "-c", "pwd");
        Ok(fromHome, home + "\n");
    }

    [Fact]
    public void MountProcSysAndDevFollowTheirKeys()
    {
        Ok(Exec(Tree, "sh", "-c", "test -e /proc/self/status && echo proc; test -d /sys/kernel && echo sys; test -e /dev/kmsg -o -e /dev/loop0 -o -e /dev/tty0 && echo host-dev"), "proc\nsys\nhost-dev\n");
        _install.Configure("mount-proc = \"no\"\nmount-sys = \"no\"\nmount-dev = \"minimal\"\n");
        Ok(Exec(Tree, "sh", "-c", "test -e /proc/self/status || echo no-proc; test -d /sys/kernel || echo no-sys; test -e /dev/null && echo null; test -e /dev/kmsg -o -e /dev/loop0 -o -e /dev/tty0 || echo minimal-dev"),
            "no-proc\nno-sys\nnull\nminimal-dev\n");
    }

    [Theory]
    [InlineData("allow-pid-ns", "--pid", "--pid: a new PID namespace is not allowed on this installation", "leave --pid out")]
    [InlineData("allow-ipc-ns", "--ipc", "--ipc: a new IPC namespace is not allowed on this installation", "leave --ipc out")]
    [InlineData("allow-uts-ns", "--hostname=box", "--hostname box: a new UTS namespace is not allowed on this installation", "leave --hostname out")]
    [InlineData("allow-net-ns", "--net --network=none", "--net: a new network namespace is not allowed on this installation", "leave --net, --network and --publish out: the container uses the host's network")]
    public void ANamespaceTheAdministratorForbidsIsRefused(string key, string options, string message, string hint)
    {
        string[] option = options.Split(' ');
        RunResult allowed = _install.RunIn(User, "/", ["exec", .. option, Tree, "true"]);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        _install.Configure($"{key} = false\n");
        Refused(_install.RunIn(User, "/", ["exec", .. option, Tree, "true"]), $"{message} ({key} = false in {Conf} line 1); {hint}");
        Ok(Exec(Tree, "echo", "ok"), "ok\n");
    }

    [Fact]
    public void AllowFakerootFalseRefusesFakeroot()
    {
        Ok(_install.RunIn(User, "/", "exec", "--fakeroot", Tree, "id", "-u"), "0\n");
        _install.Configure("allow-fakeroot = false\n");
        Refused(_install.RunIn(User, "/", "exec", "--fakeroot", Tree, "id", "-u"),
            $"--fakeroot is not allowed on this installation (allow-fakeroot = false in {Conf} line 1); run without --fakeroot, or ask the administrator");
    }

    [Fact]
    public void AllowUsernsModesRefusesTheModesItLeavesOut()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        RunResult auto = _install.RunIn(user, "/", "exec", "--userns=auto", Tree, "id", "-u");
        Assert.True(auto.ExitCode == 0, auto.ToString());
        _install.Configure("allow-userns-modes = [\"keep-id\"]\n");
        Refused(_install.RunIn(user, "/", "exec", "--userns=auto", Tree, "id", "-u"),
            $"--userns=auto: the mode auto is not allowed on this installation (allow-userns-modes = [\"keep-id\"] in {Conf} line 1); use one of: --userns=keep-id");
    }

    [Fact]
    public void SessiondirMaxSizeBoundsWhatWritableTmpfsHolds()
    {
        const string write = "dd if=/dev/zero of=/big bs=1M count=4 2>/dev/null && echo wrote || echo full";
        Ok(_install.RunIn(User, "/", "exec", "--writable-tmpfs", Tree, "sh", "-c", write), "wrote\n");
        _install.Configure("sessiondir-max-size = 2\n");
        Ok(_install.RunIn(User, "/", "exec", "--writable-tmpfs", Tree, "sh", "-c", write), "full\n");
    }

    [Fact]
    public void CacheDirIsTheCacheWhenTheUserSetsNone()
    {
        string cache = Path.Combine(_scratch, "cache-" + User.Name);
        string entry = Path.Combine(cache, "sif", "sha256", new string('a', 64) + ".zstd.sif");
        Directory.CreateDirectory(Path.GetDirectoryName(entry)!);
        File.WriteAllText(entry, "x");
        Shell.Chown(_scratch, User);
        File.SetUnixFileMode(cache, (UnixFileMode)0x1c0);
        _install.Configure($"cache-dir = \"{_scratch}/cache-$USER\"\n");
        var env = new Dictionary<string, string> { ["BURROW_CACHEDIR"] = "" };
        RunResult r = AsUser.Run(User, [_install.Burrow, "cache", "list"], env: env);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(new string('a', 64) + ".zstd.sif", r.Stdout);
        // The user's own BURROW_CACHEDIR still wins: it is their cache.
        RunResult own = AsUser.Run(User, [_install.Burrow, "cache", "list"], env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(_scratch, "own") });
        Assert.True(own.ExitCode == 0, own.ToString());
        Assert.DoesNotContain(new string('a', 64), own.Stdout);
    }

    [Fact]
    public void TempDirIsWhereSifImagesAreUnpacked()
    {
        string temp = Path.Combine(_scratch, "temp");
        _install.Configure($"temp-dir = \"{temp}\"\n");
        Refused(_install.RunIn(User, "/", "exec", "--unsquash", Sif, "true"),
            $"the temporary directory {temp} does not exist (temp-dir in burrow.conf); create it, or set BURROW_TMPDIR to a directory you may write (Burrow does not create it)");
        Directory.CreateDirectory(temp);
        Shell.Chown(temp, User);
        Ok(_install.RunIn(User, "/", "exec", "--unsquash", Sif, "sh", "-c", $"ls -d {temp}/burrow-sandbox-* >/dev/null 2>&1 || echo not-visible; echo ok"), "not-visible\nok\n");
    }

    [Fact]
    public void BinaryPathIsWhereHelpersAreLookedFor()
    {
        Ok(_install.RunIn(User, "/", "exec", "--unsquash", Sif, "echo", "ok"), "ok\n");
        _install.Configure("binary-path = \"/nonexistent/bin\"\n");
        Refused(_install.RunIn(User, "/", "exec", "--unsquash", Sif, "echo", "ok"),
            "unsquashfs (needed for unpacking a SIF) is not in binary-path (/nonexistent/bin); install squashfs-tools (apt install squashfs-tools), or add its directory to binary-path in burrow.conf (burrow config show prints it)");
        // The user with a subordinate range needs newuidmap for --fakeroot: not found in binary-path either.
        RunResult fakeroot = _install.RunIn(E2EEnvironment.UserWithRange, "/", "exec", "--fakeroot", Tree, "id", "-u");
        Assert.True(fakeroot.ExitCode == 255, fakeroot.ToString());
        Assert.Contains("newuidmap", fakeroot.Stderr);
        Assert.Contains("/nonexistent/bin", fakeroot.Stderr);
    }

    /// <summary>ecl-file moves the execution control list that trust enforces: its refusal, for images the list has no execgroup for.</summary>
    [Fact]
    public void TheExecutionControlListAtEclFileIsEnforced()
    {
        string ecl = Path.Combine(_scratch, "lists", "ecl.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(ecl)!);
        File.WriteAllText(ecl, "# signed images only\nactivated = true\n");
        File.SetUnixFileMode(ecl, (UnixFileMode)0x1a4);
        if (E2EEnvironment.IsRoot)
        {
            Shell.Run("chown", "-R", "0:0", Path.GetDirectoryName(ecl)!); // a system installation's list must be root's
        }
        _install.Configure($"ecl-file = \"{ecl}\"\n");
        foreach (string image in new[] { Sif, Tree })
        {
            RunResult r = Exec(image, "echo", "ok");
            Assert.True(r.ExitCode == 255, r.ToString());
            string error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:", StringComparison.Ordinal));
            Assert.StartsWith("ERROR:   while checking container image with ECL: ", error);
            Assert.Contains(" not part of any execgroup; the execution control list " + ecl + " has no execgroup for ", error);
            Assert.Equal("", r.Stdout);
        }
        File.WriteAllText(ecl, "activated = false\n");
        Ok(Exec(Sif, "echo", "ok"), "ok\n");
        Ok(Exec(Tree, "echo", "ok"), "ok\n");
    }
}
