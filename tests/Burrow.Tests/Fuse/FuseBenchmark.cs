using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Burrow.Core.Fuse;

namespace Burrow.Tests.Fuse;

/// <summary>
/// bench/fuse/run.sh's harness (skipped unless BURROW_FUSE_BENCH names the Markdown file to write): 20,000 small files
/// read with tar through the server (in-memory tree) against the same tree on the host disk and through squashfuse_ll,
/// cold and warm, with 1 and 2 parallel readers, and the server's options compared with each other.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FuseBenchmark
{
    private const int Repetitions = 3;

    [FuseBenchFact]
    public void TwentyThousandSmallFiles()
    {
        string output = Environment.GetEnvironmentVariable("BURROW_FUSE_BENCH")!;
        string work = Directory.CreateTempSubdirectory("burrow-fuse-bench-").FullName;
        try
        {
            (MemoryFileSystem fs, long bytes) = BuildTree(Path.Combine(work, "tree"));
            string image = Path.Combine(work, "tree.sqfs");
            Run("mksquashfs", Path.Combine(work, "tree"), image, "-noappend", "-quiet", "-noI", "-noD", "-noF", "-noX", "-all-root");
            ChmodTree(work);

            var configs = new (string Name, FuseServerOptions Options)[]
            {
                ("default", new FuseServerOptions()),
                ("OPEN answered (FOPEN_KEEP_CACHE) instead of zero-message", new FuseServerOptions { ZeroMessageOpen = false }),
                ("READDIRPLUS_AUTO", new FuseServerOptions { ReaddirplusAuto = true }),
                ("FUSE_DEV_IOC_CLONE per worker", new FuseServerOptions { CloneDevicePerThread = true }),
                ("1 worker thread", new FuseServerOptions { Threads = 1 }),
            };
            var results = new Dictionary<(string Config, string Target, int Readers), List<(double Cold, double Warm)>>();
            var requests = new Dictionary<int, string>();
            for (int rep = 0; rep < Repetitions; rep++)
            {
                foreach ((string name, FuseServerOptions options) in configs)
                {
                    foreach (int readers in new[] { 1, 2 })
                    {
                        bool reference = name == "default";
                        if (reference && FuseMountEnvironment.IsRoot)
                        {
                            File.WriteAllText("/proc/sys/vm/drop_caches", "3");
                        }
                        var spec = new JsonObject
                        {
                            ["readers"] = readers,
                            ["warm_runs"] = 5,
                            ["disk"] = Path.Combine(work, "tree"),
                            ["image"] = image,
                            ["targets"] = reference ? new JsonArray("disk", "burrow", "squashfuse") : new JsonArray("burrow"),
                        };
                        using var helper = new MountHelper(spec, "fuse_bench_helper.py", connectSeconds: 300);
                        using FuseServer server = FuseServer.Start(helper.Device, fs, options);
                        JsonObject seen = helper.Result();
                        foreach ((string target, JsonNode? t) in seen)
                        {
                            string config = target == "burrow" ? name : "-";
                            var key = (config, target, readers);
                            if (!results.TryGetValue(key, out var list))
                            {
                                results[key] = list = [];
                            }
                            list.Add(((double)t!["cold"]!, (double)t["warm"]!));
                        }
                        if (reference && rep == 0)
                        {
                            server.Wait(TimeSpan.FromSeconds(10));
                            requests[readers] = string.Join(", ", Enum.GetValues<FuseOpcode>()
                                .Select(op => (op, n: server.CountOf(op))).Where(x => x.n > 0).Select(x => $"{x.op} {x.n}"));
                        }
                    }
                }
            }
            File.WriteAllText(output, Report(results, requests, fs, bytes));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Report(Dictionary<(string Config, string Target, int Readers), List<(double Cold, double Warm)>> results,
        Dictionary<int, string> requests, MemoryFileSystem fs, long bytes)
    {
        static string Ms(IEnumerable<double> v) => (v.Order().ElementAt(v.Count() / 2) * 1000).ToString("F0", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Tree: 20,000 files ({bytes / 1024} KiB) in 200 directories; `tar -cf - | cat >/dev/null` over it (2 readers: one tar per half, in parallel). Medians of {Repetitions} runs; warm = median of 5 passes after the cold one.");
        md.AppendLine();
        md.AppendLine("| what | readers | cold [ms] | warm [ms] |");
        md.AppendLine("|:---|---:|---:|---:|");
        string[] order = ["disk", "burrow", "squashfuse"];
        foreach (var group in results.OrderBy(r => r.Key.Target == "burrow" ? 1 : Array.IndexOf(order, r.Key.Target) * 10)
                     .ThenBy(r => r.Key.Config == "default" ? 0 : 1).ThenBy(r => r.Key.Config).ThenBy(r => r.Key.Readers))
        {
            string what = group.Key.Target switch
            {
                "disk" => "host disk (ext4)",
                "squashfuse" => "squashfuse_ll 0.1.104, uncompressed squashfs of the tree",
                _ => "Burrow's server, in-memory tree" + (group.Key.Config == "default" ? " (defaults)" : ": " + group.Key.Config),
            };
            md.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {group.Key.Readers} | {Ms(group.Value.Select(v => v.Cold))} | {Ms(group.Value.Select(v => v.Warm))} |");
        }
        md.AppendLine();
        foreach ((int readers, string counts) in requests.OrderBy(r => r.Key))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"Requests the server answered for one mount (cold + 5 warm passes, {readers} reader(s)): {counts}.");
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>The same 20,000 files in memory and on disk: a/ and b/, 100 directories each, 100 files of 1 B to 8 KiB.</summary>
    private static (MemoryFileSystem, long) BuildTree(string root)
    {
        var fs = new MemoryFileSystem();
        var random = new Random(42);
        long bytes = 0;
        foreach (string half in new[] { "a", "b" })
        {
            fs.AddDirectory(half);
            for (int d = 0; d < 100; d++)
            {
                string dir = $"{half}/d{d:D3}";
                fs.AddDirectory(dir);
                Directory.CreateDirectory(Path.Combine(root, dir));
                for (int f = 0; f < 100; f++)
                {
                    byte[] content = MemoryFileSystem.Pattern(d * 1000 + f, random.Next(1, 8192));
                    bytes += content.Length;
                    fs.AddFile($"{dir}/file{f:D3}.txt", content);
                    File.WriteAllBytes(Path.Combine(root, dir, $"file{f:D3}.txt"), content);
                }
            }
        }
        return (fs, bytes);
    }

    private static void ChmodTree(string dir)
    {
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        foreach (string d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(d, (UnixFileMode)0b111_101_101);
        }
        foreach (string f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(f, (UnixFileMode)0b110_100_100);
        }
    }

    private static void Run(string file, params string[] args)
    {
        using Process p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true })!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FuseBenchFactAttribute : FactAttribute
{
    public FuseBenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("BURROW_FUSE_BENCH") is null)
        {
            Skip = "a benchmark: bench/fuse/run.sh runs it (BURROW_FUSE_BENCH=FILE)";
        }
        else if (FuseMountEnvironment.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}
