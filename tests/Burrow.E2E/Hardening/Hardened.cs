using System.Diagnostics;
using System.Text.RegularExpressions;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Hardening;

/// <summary>What the hardening tests share: the failure contract, host commands as root, and scratch directories.</summary>
internal static partial class Hardened
{
    /// <summary>A .NET resource key such as UnauthorizedAccess_IODenied_Path or net_uri_BadPort: mixed-case words joined by "_".</summary>
    [GeneratedRegex(@"\b(?=\w*[a-z])(?=\w*[A-Z])[A-Za-z]+(?:_[A-Za-z]+)+\b")]
    public static partial Regex ResourceKey();

    /// <summary>
    /// The contract for every failure: a non-zero exit (the expected one), exactly <paramref name="errors"/> ERROR: lines,
    /// no stack trace, no resource key, no hang.
    /// </summary>
    public static void AssertCleanFailure(RunResult r, int exit, string? expect = null, int errors = 1, string context = "")
    {
        string why = context + "\n" + r;
        Assert.False(r.TimedOut, "hung: " + why);
        Assert.True(r.ExitCode != 0, "exit 0: " + why);
        Assert.True(r.ExitCode == exit, $"exit {r.ExitCode}, expected {exit}: " + why);
        string[] lines = r.Stderr.Split('\n');
        Assert.True(lines.Count(l => l.StartsWith("ERROR:", StringComparison.Ordinal)) == errors, $"expected {errors} ERROR: line(s): " + why);
        Assert.False(r.Stderr.Contains("   at ", StringComparison.Ordinal) || r.Stderr.Contains("Unhandled exception", StringComparison.Ordinal), "stack trace: " + why);
        Match key = ResourceKey().Match(r.Stderr);
        Assert.False(key.Success, $"resource key {key.Value}: " + why);
        if (expect is not null)
        {
            Assert.True(r.Stderr.Contains(expect, StringComparison.Ordinal), $"expected \"{expect}\" in stderr: " + why);
        }
    }

    /// <summary>Runs a host command (as root when the suite is root) and fails the test if it fails.</summary>
    public static string Sh(string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"host command failed ({p.ExitCode}): {script}\n{err.Result}");
        return output;
    }

    /// <summary>Single-quotes for sh.</summary>
    public static string Q(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>A fresh directory owned by the user (mode 0755) under <paramref name="parent"/>.</summary>
    public static string NewDirectory(TestUser user, string prefix, string parent = "/tmp")
    {
        string dir = Path.Combine(parent, $"burrow-e2e-{prefix}-{user.Name}-{Guid.NewGuid().ToString("N")[..10]}");
        Sh($"mkdir -p {Q(dir)} && chmod 0755 {Q(dir)}" + (E2EEnvironment.IsRoot ? $" && chown {user.Uid}:{user.Gid} {Q(dir)}" : ""));
        return dir;
    }

    public static void Remove(string path) => Sh($"chmod -R u+rwx {Q(path)} 2>/dev/null; rm -rf {Q(path)}");

    /// <summary>burrow as the user through /bin/sh, for limits and redirections: <c>ulimit -f 100; exec "$@"</c>.</summary>
    public static RunResult BurrowInShell(TestUser user, string shell, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? cwd = null, TimeSpan? timeout = null) =>
        AsUser.Run(user, ["/bin/sh", "-c", shell, "sh", E2EEnvironment.Burrow, .. args], env: env, cwd: cwd, timeout: timeout);

    /// <summary>The names in a directory (none when it does not exist), for "nothing left behind".</summary>
    public static string[] Entries(string dir) =>
        Directory.Exists(dir) ? Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray() : [];
}
