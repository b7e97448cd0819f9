using Burrow.E2E.Harness;

namespace Burrow.E2E.Config;

/// <summary>
/// scripts/install and scripts/package as an ordinary user: install into your own directory, run a container, move
/// the tree, run again, uninstall exactly what was installed; unpack the release tarball anywhere and run it.
/// The scripts are copied where the test users can read them (a CI checkout may sit where they cannot).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InstallTests : IDisposable
{
    private static TestUser User => E2EEnvironment.UserWithoutRange;

    private readonly string _scripts;

    private readonly List<string> _remove = [];

    public InstallTests()
    {
        string root = Path.Combine(E2EEnvironment.IsRoot ? "/opt/burrow-e2e" : "/var/tmp", "burrow-e2e-scripts-" + Guid.NewGuid().ToString("N")[..8]);
        _remove.Add(root);
        Directory.CreateDirectory(Path.Combine(root, "scripts", "lib"));
        foreach (string f in new[] { "install", "package", "lib/common.sh" })
        {
            File.Copy(Path.Combine(E2EEnvironment.RepoRoot(), "scripts", f), Path.Combine(root, "scripts", f));
        }
        Shell.Run("chmod", "-R", "a+rX", root);
        _scripts = Path.Combine(root, "scripts");
    }

    public void Dispose()
    {
        foreach (string dir in _remove.Where(Directory.Exists))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A fresh directory in the user's home, theirs, removed after the test.</summary>
    private string HomeDirectory(TestUser user)
    {
        string dir = Path.Combine(user.Home, "burrow-e2e-install-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        Shell.Chown(dir, user);
        _remove.Add(dir);
        return dir;
    }

    private static RunResult As(TestUser user, params string[] argv) => AsUser.Run(user, argv, cwd: "/");

    private static void Ok(RunResult r, string? stdout = null)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        if (stdout is not null)
        {
            Assert.Equal(stdout, r.Stdout);
        }
    }

    private static string[] Files(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void AUserInstallsIntoTheirDirectoryMovesItAndItStillRuns()
    {
        string home = HomeDirectory(User);
        string prefix = Path.Combine(home, "burrow");
        RunResult install = As(User, "bash", Path.Combine(_scripts, "install"), "--from", E2EEnvironment.Prefix, "--prefix", prefix);
        Ok(install);
        Assert.Contains($"INFO:    installed Burrow into {prefix}\n", install.Stderr);
        Assert.Equal(["bin", "bin/burrow", "etc", "etc/burrow", "etc/burrow/apparmor", "etc/burrow/apparmor/burrow-starter", "etc/burrow/burrow.conf",
            "libexec", "libexec/burrow", "libexec/burrow/burrow-starter", "share", "share/burrow", "share/burrow/installed-files"], Files(prefix));
        Ok(As(User, Path.Combine(prefix, "bin", "burrow"), "exec", E2EEnvironment.BusyboxTree, "id", "-u"), $"{User.Uid}\n");
        Assert.Contains($"prefix:        {prefix}\n", As(User, Path.Combine(prefix, "bin", "burrow"), "version").Stdout);

        string moved = Path.Combine(home, "elsewhere", "burrow-moved");
        Ok(As(User, "mkdir", Path.Combine(home, "elsewhere")));
        Ok(As(User, "mv", prefix, moved));
        string burrow = Path.Combine(moved, "bin", "burrow");
        Ok(As(User, burrow, "exec", E2EEnvironment.BusyboxTree + ".sif", "id", "-u"), $"{User.Uid}\n");
        Ok(As(User, burrow, "exec", E2EEnvironment.BusyboxTree, "id", "-u"), $"{User.Uid}\n");
        RunResult version = As(User, burrow, "version");
        Assert.Contains($"prefix:        {moved}\n", version.Stdout);
        Assert.Contains($"configuration: {moved}/etc/burrow/burrow.conf\n", version.Stdout);

        // The configuration of an installation of one's own binds that installation, and its owner may choose another.
        Ok(As(User, "sh", "-c", $"echo 'allow-image-kinds = [\"sif\"]' >> {moved}/etc/burrow/burrow.conf"));
        RunResult refused = As(User, burrow, "exec", E2EEnvironment.BusyboxTree, "true");
        Assert.Equal(255, refused.ExitCode);
        Assert.Contains($"(allow-image-kinds = [\"sif\"] in {moved}/etc/burrow/burrow.conf line ", refused.Stderr);
        Ok(As(User, "sh", "-c", $"echo 'allow-fakeroot = true' > {home}/mine.conf"));
        Ok(As(User, burrow, "--config", Path.Combine(home, "mine.conf"), "exec", E2EEnvironment.BusyboxTree, "true"));

        // Uninstalling removes what was installed; the edited burrow.conf is the user's now, kept and named.
        RunResult uninstall = As(User, "bash", Path.Combine(_scripts, "install"), "--uninstall", "--prefix", moved);
        Ok(uninstall);
        Assert.Contains($"WARNING: kept {moved}/etc/burrow/burrow.conf: it changed since it was installed", uninstall.Stderr);
        Assert.Equal(["etc", "etc/burrow", "etc/burrow/burrow.conf"], Files(moved));
    }

    [Fact]
    public void UninstallingAnUntouchedInstallationLeavesNothing()
    {
        string home = HomeDirectory(User);
        string prefix = Path.Combine(home, "b");
        Ok(As(User, "bash", Path.Combine(_scripts, "install"), "--from", E2EEnvironment.Prefix, "--prefix", prefix));
        // Installing again over it (an upgrade) keeps working and keeps one manifest.
        Ok(As(User, "bash", Path.Combine(_scripts, "install"), "--from", E2EEnvironment.Prefix, "--prefix", prefix));
        Ok(As(User, "bash", Path.Combine(_scripts, "install"), "--uninstall", "--prefix", prefix));
        Assert.False(Directory.Exists(prefix), string.Join(", ", Directory.Exists(prefix) ? Files(prefix) : []));
        RunResult again = As(User, "bash", Path.Combine(_scripts, "install"), "--uninstall", "--prefix", prefix);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"ERROR:   {prefix} has no {prefix}/share/burrow/installed-files: it is not an installation made by scripts/install\n", again.Stderr);
    }

    [Fact]
    public void TheReleaseTarballUnpacksAnywhereAndRuns()
    {
        string work = HomeDirectory(User);
        RunResult package = As(User, "bash", Path.Combine(_scripts, "package"), "--from", E2EEnvironment.Prefix, "--output", work);
        Ok(package);
        string artifact = package.Stdout.Trim();
        Assert.Matches(@"/burrow-\d+\.\d+\.\d+[^/]*-linux-(amd64|arm64)\.tar\.gz$", artifact);

        // Another user unpacks it on a fresh path of their own and runs it: no root, no install step.
        TestUser other = E2EEnvironment.UserWithRange;
        string fresh = HomeDirectory(other);
        File.SetUnixFileMode(work, (UnixFileMode)0x1ed);
        File.SetUnixFileMode(artifact, (UnixFileMode)0x1a4);
        Ok(As(other, "tar", "-C", fresh, "-xzf", artifact));
        string top = Directory.GetDirectories(fresh).Single();
        Assert.StartsWith("burrow-", Path.GetFileName(top));
        Assert.Equal(["bin", "bin/burrow", "etc", "etc/burrow", "etc/burrow/apparmor", "etc/burrow/apparmor/burrow-starter", "etc/burrow/burrow.conf",
            "libexec", "libexec/burrow", "libexec/burrow/burrow-starter"], Files(top));
        RunResult check = As(other, Path.Combine(top, "bin", "burrow"), "check");
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Contains("Burrow can run containers here", check.Stdout);
        Ok(As(other, Path.Combine(top, "bin", "burrow"), "exec", E2EEnvironment.BusyboxTree, "id", "-u"), $"{other.Uid}\n");
    }
}
