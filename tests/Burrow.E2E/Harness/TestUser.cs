using System.Diagnostics;

namespace Burrow.E2E.Harness;

/// <summary>An unprivileged account the tests run Burrow as.</summary>
public sealed record TestUser(string Name, uint Uid, uint Gid, string Home, bool HasSubordinateRange)
{
    public static TestUser Resolve(string name)
    {
        string? line = File.ReadLines("/etc/passwd").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"test user {name} does not exist: run scripts/setup as root");
        string[] f = line.Split(':');
        bool range = File.Exists("/etc/subuid") && File.ReadLines("/etc/subuid").Any(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return new TestUser(f[0], uint.Parse(f[2]), uint.Parse(f[3]), f[5], range);
    }

    public override string ToString() => Name + (HasSubordinateRange ? " (with subuid range)" : " (no subuid range)");
}

public sealed record RunResult(int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public override string ToString() => $"exit {ExitCode}{(TimedOut ? " (timed out)" : "")}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs a command as a test user: through setpriv when the harness is root, directly otherwise.</summary>
public static class AsUser
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs burrow with the given arguments as the user.</summary>
    public static RunResult Burrow(TestUser user, params string[] args) => Run(user, [E2EEnvironment.Burrow, .. args]);

    /// <summary>Starts <paramref name="argv"/> as the user and returns at once (stdin closed, stdout and stderr redirected).</summary>
    public static Process Start(TestUser user, IReadOnlyList<string> argv)
    {
        var p = new Process { StartInfo = StartInfo(user, argv, null, null) };
        p.Start();
        p.StandardInput.Close();
        return p;
    }

    public static RunResult Run(TestUser user, IReadOnlyList<string> argv, string? stdin = null,
        IReadOnlyDictionary<string, string>? env = null, string? cwd = null, TimeSpan? timeout = null)
    {
        using var p = new Process { StartInfo = StartInfo(user, argv, env, cwd) };
        p.Start();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
        }
        p.StandardInput.Close();
        bool exited = p.WaitForExit(timeout ?? DefaultTimeout);
        if (!exited)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
        }
        return new RunResult(exited ? p.ExitCode : -1, stdout.Result, stderr.Result, !exited);
    }

    private static ProcessStartInfo StartInfo(TestUser user, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? env, string? cwd)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? user.Home,
        };
        psi.Environment.Clear();
        psi.Environment["HOME"] = user.Home;
        psi.Environment["USER"] = user.Name;
        psi.Environment["LOGNAME"] = user.Name;
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        psi.Environment["LANG"] = "C.UTF-8";
        // One cache per installed build, so that parallel checkouts' suites never share cache state.
        psi.Environment["BURROW_CACHEDIR"] = Path.Combine(user.Home, ".cache", "burrow-e2e-" + Convert.ToHexString(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(E2EEnvironment.Prefix)))[..12].ToLowerInvariant());
        if (env is not null)
        {
            foreach ((string k, string v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        if (E2EEnvironment.IsRoot)
        {
            // As a login does: no capabilities, but the full bounding set, so that setuid-root newuidmap/newgidmap
            // work as they do for real users (with an empty bounding set a setuid program gains nothing).
            psi.FileName = "setpriv";
            foreach (string a in new[] { "--reuid=" + user.Uid, "--regid=" + user.Gid, "--init-groups", "--inh-caps=-all", "--" })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = argv[0];
            argv = argv.Skip(1).ToArray();
        }
        foreach (string a in argv)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }
}
