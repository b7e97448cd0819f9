using System.Diagnostics;
using Burrow.Core.Squashfs;

// Usage: ReadAll IMAGE [THREADS] [ROUNDS]
// Walks the tree, then reads every regular file (lookup by path from the root, attributes, all bytes) with
// THREADS readers sharing one image and its cache, as the FUSE server's threads would. Each round opens the
// image afresh (a cold cache; the page cache stays warm). Prints the best round's time in milliseconds.
string path = args[0];
int threads = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1;
int rounds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;

var files = new List<string>();
using (SquashfsImage listing = SquashfsImage.Open(path))
{
    var pending = new Stack<(SquashfsInode, string)>();
    pending.Push((listing.Root, ""));
    while (pending.TryPop(out var item))
    {
        foreach (SquashfsDirectoryEntry e in listing.ReadDirectory(item.Item1))
        {
            SquashfsInode child = listing.ReadInode(e.InodeReference);
            string p = item.Item2 + "/" + e.NameString;
            if (child.IsDirectory)
            {
                pending.Push((child, p));
            }
            else if (child.IsRegularFile)
            {
                files.Add(p);
            }
        }
    }
}

double best = double.MaxValue;
long bytes = 0, misses = 0;
for (int round = 0; round < rounds; round++)
{
    using SquashfsImage image = SquashfsImage.Open(path);
    long total = 0;
    var clock = Stopwatch.StartNew();
    Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
    {
        byte[] buffer = new byte[128 << 10];
        long mine = 0;
        for (int i = t; i < files.Count; i += threads)
        {
            SquashfsInode node = image.Root;
            foreach (string part in files[i].Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                node = image.Lookup(node, part)!;
            }
            for (long offset = 0; offset < node.Size;)
            {
                int n = image.ReadFile(node, offset, buffer);
                offset += n;
                mine += n;
            }
        }
        Interlocked.Add(ref total, mine);
    });
    best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
    bytes = total;
    misses = image.CacheStatistics.Misses;
}
Console.WriteLine($"{files.Count} files, {bytes} bytes, {threads} thread(s): best of {rounds} rounds {best:F1} ms ({misses} blocks decompressed per round)");
