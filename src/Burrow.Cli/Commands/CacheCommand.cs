using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow cache list|clean</c>: what the image cache holds, and removing it by type and age.</summary>
public static class CacheCommand
{
    public static Command Create()
    {
        var command = new Command("cache", "Manage the local image cache (" + "$BURROW_CACHEDIR, else $XDG_CACHE_HOME/burrow, else ~/.cache/burrow)");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Clean());
        return command;
    }

    private static Option<string[]> TypeOption() => new("--type", "-T")
    {
        Description = "Entry types: sif, blob or all (repeat or comma-separate)",
        AllowMultipleArgumentsPerToken = true,
    };

    private static IReadOnlyCollection<string> Types(string[]? values)
    {
        string[] requested = (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (requested.Length == 0 || requested.Contains("all"))
        {
            return CacheEntries.Types.ToArray();
        }
        foreach (string t in requested)
        {
            if (!CacheEntries.Types.Contains(t))
            {
                throw new BurrowException($"unknown cache entry type \"{t}\"", "use sif, blob or all");
            }
        }
        return requested;
    }

    private static Command List()
    {
        Option<string[]> type = TypeOption();
        var json = new Option<bool>("--json") { Description = "Print the entries as JSON" };
        var command = new Command("list", "List the cached images and blobs");
        command.Options.Add(type);
        command.Options.Add(json);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            CliConfig.Load(result); // cache-dir, temp-dir, binary-path
            IReadOnlyList<CacheEntry> entries = CacheEntries.List(new ImageCache(ImageCache.DefaultRoot()), Types(result.GetValue(type)));
            if (result.GetValue(json))
            {
                Stream stdout = Output.StandardOutput.Stream;
                using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartArray();
                    foreach (CacheEntry e in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", e.Name);
                        w.WriteString("type", e.Type);
                        w.WriteString("path", e.Path);
                        w.WriteNumber("size", e.Size);
                        w.WriteString("created", e.Created.ToString("o", CultureInfo.InvariantCulture));
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                stdout.Write("\n"u8);
                return 0;
            }
            int width = Math.Max(4, entries.Select(e => e.Name.Length).DefaultIfEmpty(0).Max());
            Console.Out.WriteLine($"{"NAME".PadRight(width)}  {"DATE CREATED",-19}  {"SIZE",10}  TYPE");
            foreach (CacheEntry e in entries)
            {
                Console.Out.WriteLine($"{e.Name.PadRight(width)}  {e.Created.ToLocalTime():yyyy-MM-dd HH:mm:ss}  {CacheEntries.HumanSize(e.Size),10}  {e.Type}");
            }
            var sifs = entries.Where(e => e.Type == "sif").ToList();
            var blobs = entries.Where(e => e.Type == "blob").ToList();
            Console.Out.WriteLine();
            Console.Out.WriteLine($"There are {sifs.Count} container file(s) using {CacheEntries.HumanSize(sifs.Sum(e => e.Size))} and {blobs.Count} oci blob file(s) using {CacheEntries.HumanSize(blobs.Sum(e => e.Size))} of space");
            Console.Out.WriteLine($"Total space used: {CacheEntries.HumanSize(entries.Sum(e => e.Size))}");
            return 0;
        });
        return command;
    }

    private static Command Clean()
    {
        Option<string[]> type = TypeOption();
        var days = new Option<int?>("--days", "-D") { Description = "Remove only entries older than this many days" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Say what would be removed, remove nothing" };
        var force = new Option<bool>("--force", "-f") { Description = "Do not ask for confirmation" };
        var command = new Command("clean", "Remove cached images and blobs");
        foreach (Option o in new Option[] { type, days, dryRun, force })
        {
            command.Options.Add(o);
        }
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            CliConfig.Load(result); // cache-dir, temp-dir, binary-path
            var cache = new ImageCache(ImageCache.DefaultRoot());
            IEnumerable<CacheEntry> entries = CacheEntries.List(cache, Types(result.GetValue(type)));
            if (result.GetValue(days) is { } d)
            {
                if (d < 0)
                {
                    throw new BurrowException("--days must not be negative", "give a number of days, e.g. --days 30", ExitCodes.Usage);
                }
                DateTime cutoff = DateTime.UtcNow.AddDays(-d);
                entries = entries.Where(e => e.Created < cutoff);
            }
            List<CacheEntry> chosen = entries.ToList();
            if (result.GetValue(dryRun))
            {
                foreach (CacheEntry e in chosen)
                {
                    Console.Out.WriteLine($"Would remove {e.Type} {e.Name} ({CacheEntries.HumanSize(e.Size)})");
                }
                return 0;
            }
            if (chosen.Count > 0 && !result.GetValue(force))
            {
                Console.Error.Write($"This will delete {chosen.Count} cache entries ({CacheEntries.HumanSize(chosen.Sum(e => e.Size))}) from {cache.Root}.\nDo you want to continue? [y/N] ");
                string answer = (Console.In.ReadLine() ?? "").Trim().ToLowerInvariant();
                if (answer is not ("y" or "yes"))
                {
                    Log.Info("Cache cleanup cancelled");
                    return 0;
                }
            }
            foreach (CacheEntry e in chosen)
            {
                Interruption.ThrowIfRequested();
                try
                {
                    File.Delete(e.Path);
                }
                catch (Exception x) when (x is IOException or UnauthorizedAccessException)
                {
                    throw new BurrowException($"cannot remove the cache entry {e.Path}: {FailureText.Reason(x)}",
                        "check the permissions of the cache directory (chmod u+rwx)", ExitCodes.Failure, x);
                }
                Log.Verbose($"removed {e.Type} {e.Name}");
            }
            Log.Info($"Removed {chosen.Count} cache entries ({CacheEntries.HumanSize(chosen.Sum(e => e.Size))})");
            return 0;
        });
        return command;
    }
}
