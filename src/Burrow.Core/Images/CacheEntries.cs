using Burrow.Core.Diagnostics;
using Burrow.Core.Oci;

namespace Burrow.Core.Images;

/// <summary>One file in the cache, as <c>burrow cache list</c> shows it.</summary>
public sealed record CacheEntry(string Name, string Type, string Path, long Size, DateTime Created);

/// <summary>Lists and removes cache entries by type (<c>blob</c>, <c>sif</c>) and age; never touches live temp files.</summary>
public static class CacheEntries
{
    public static readonly IReadOnlyList<string> Types = ["blob", "sif"];

    public static IReadOnlyList<CacheEntry> List(ImageCache cache, IReadOnlyCollection<string> types)
    {
        var result = new List<CacheEntry>();
        if (!cache.CheckExisting())
        {
            return result;
        }
        if (types.Contains("sif"))
        {
            result.AddRange(Files(cache.SifDirectory, "sif"));
        }
        if (types.Contains("blob"))
        {
            result.AddRange(Files(cache.BlobDirectory, "blob"));
        }
        return result;
    }

    private static List<CacheEntry> Files(string dir, string type)
    {
        try
        {
            return Linux.FileStatus.OfPath(dir, followSymlinks: false) switch
            {
                null => [],
                { Kind: Linux.FileKind.Directory } => Enumerate(dir, type).ToList(),
                var st => throw new BurrowException($"the cache's {Path.GetFileName(dir)}/ ({dir}) is {Linux.FileKindText.Describe(st.Kind)}, not a directory",
                    "remove it: the next pull recreates it"),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"cannot list the cache directory {dir}: {FailureText.Reason(e)}",
                "make it readable again (chmod u+rwx), or remove it: the next pull recreates it", ExitCodes.Failure, e);
        }
    }

    private static IEnumerable<CacheEntry> Enumerate(string dir, string type)
    {
        foreach (string alg in Directory.EnumerateDirectories(dir))
        {
            foreach (string file in Directory.EnumerateFiles(alg).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(file);
                string hex = name.Split('.')[0];
                if (!Digest.TryParse(Path.GetFileName(alg) + ":" + hex, out _))
                {
                    continue; // Not an entry we wrote.
                }
                var info = new FileInfo(file);
                yield return new CacheEntry(name, type, file, info.Length, info.LastWriteTimeUtc);
            }
        }
    }

    public static string HumanSize(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{bytes} B" : v.ToString(v < 10 ? "0.00" : "0.0", System.Globalization.CultureInfo.InvariantCulture) + " " + units[u];
    }
}
