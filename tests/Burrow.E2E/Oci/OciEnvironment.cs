using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Oci;

/// <summary>The registries and images scripts/test.d/50-registries.sh set up, and helpers to look inside a SIF.</summary>
public static class OciEnvironment
{
    public static string Anonymous => Env("BURROW_REGISTRY_ANON", "127.0.0.1:15000");
    public static string Basic => Env("BURROW_REGISTRY_BASIC", "127.0.0.1:15001");
    public static string Token => Env("BURROW_REGISTRY_TOKEN", "127.0.0.1:15002");
    public static string ConfigDir => Env("BURROW_REGISTRY_CONFIG", Path.Combine(E2EEnvironment.TestCache, "registry-config"));
    public static string Fixtures => Env("BURROW_OCI_FIXTURES", Path.Combine(E2EEnvironment.TestCache, "registry-fixtures"));

    public const string BasicUser = "burrowtest";
    public const string BasicPassword = "burrowpass";

    /// <summary>A fresh directory for one test's cache or output, writable by the test user, removed by the caller.</summary>
    public static string Scratch(TestUser user)
    {
        string dir = Path.Combine(Path.GetTempPath(), "burrow-e2e-oci-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        if (E2EEnvironment.IsRoot)
        {
            Run("chown", user.Uid + ":" + user.Gid, dir);
        }
        return dir;
    }

    /// <summary>Runs burrow as the user with a private cache (and any extra environment).</summary>
    public static RunResult Burrow(TestUser user, string cache, IEnumerable<string> args, Dictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var e = new Dictionary<string, string>(env ?? []) { ["BURROW_CACHEDIR"] = cache };
        return AsUser.Run(user, [E2EEnvironment.Burrow, .. args], env: e, timeout: timeout ?? TimeSpan.FromSeconds(120));
    }

    /// <summary>Start offset of the SIF's squashfs partition, read with siftool (an independent implementation).</summary>
    public static long PartitionOffset(string sif)
    {
        string list = Run("siftool", "list", sif);
        string line = list.Split('\n').First(l => l.Contains("FS (Squashfs", StringComparison.Ordinal));
        string position = line.Split('|')[3].Trim();
        return long.Parse(position[..position.IndexOf('-')]);
    }

    /// <summary>The squashfs listing with numeric owners (unsquashfs -lln), one line per path.</summary>
    public static string ListSquashfs(string sif) => Run("unsquashfs", "-o", PartitionOffset(sif).ToString(), "-lln", sif);

    public static string Cat(string sif, string path) => Run("unsquashfs", "-o", PartitionOffset(sif).ToString(), "-cat", sif, path);

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Result}");
        }
        return output;
    }

    public static void Remove(string dir)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;
}
