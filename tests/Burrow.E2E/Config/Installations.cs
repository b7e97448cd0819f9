using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Config;

/// <summary>
/// A copy of the installed build with a burrow.conf of its own, as an administrator makes one: when the suite runs as
/// root the copy is root's (a system installation, whose configuration binds its users and must be root's), else the
/// running user's. The shared installation the other tests use is never touched. Tests of one class run one after
/// another, so a class fixture may rewrite the file before each test.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AdminInstallation : IDisposable
{
    public AdminInstallation()
    {
        Prefix = Path.Combine(E2EEnvironment.IsRoot ? "/opt/burrow-e2e" : "/var/tmp", "burrow-e2e-admin-" + Guid.NewGuid().ToString("N")[..8]);
        Shell.Run("cp", "-a", E2EEnvironment.Prefix, Prefix);
        File.SetUnixFileMode(Prefix, (UnixFileMode)0x1ed);
    }

    public string Prefix { get; }

    public string Burrow => Path.Combine(Prefix, "bin", "burrow");

    public string ConfigFile => Path.Combine(Prefix, "etc", "burrow", "burrow.conf");

    /// <summary>Writes burrow.conf (mode 0644, the installer's), replacing the one before.</summary>
    public void Configure(string text)
    {
        File.WriteAllText(ConfigFile, text);
        File.SetUnixFileMode(ConfigFile, (UnixFileMode)0x1a4);
    }

    public RunResult Run(TestUser user, params string[] args) => AsUser.Run(user, [Burrow, .. args]);

    public RunResult RunIn(TestUser user, string cwd, params string[] args) => AsUser.Run(user, [Burrow, .. args], cwd: cwd);

    public void Dispose() => Directory.Delete(Prefix, recursive: true);
}

/// <summary>Runs a host tool as the harness (root in CI), failing the test with its output when it fails.</summary>
internal static class Shell
{
    public static void Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)}: exit {p.ExitCode}\n{err}");
    }

    /// <summary>Gives a path the test user owns (as root; as a user it is theirs already).</summary>
    public static void Chown(string path, TestUser user)
    {
        if (E2EEnvironment.IsRoot)
        {
            Run("chown", "-R", $"{user.Uid}:{user.Gid}", path);
        }
    }
}
