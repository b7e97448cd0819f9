using Burrow.Core.Diagnostics;
using Burrow.Core.Fuse;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Core.Squashfs;

/// <summary>
/// The fuzzing entry point: opens arbitrary bytes as a squashfs and walks all of it the way the FUSE server and
/// the planner would (attributes, lookups, paged listings, links, xattrs, every file's bytes, statfs, path
/// resolution). Damage must surface as <see cref="InvalidDataException"/> (or, from the planner's reader, a
/// <see cref="BurrowException"/>); a <see cref="FileSystemError"/> is a clean answer too. Anything else escaping
/// is a bug, and so is a walk that does not end.
/// </summary>
public static class SquashfsFuzzTarget
{
    // A bound on the work per input, so that a legitimately huge (sparse) file or tree keeps a case short.
    private const int MaxNodes = 4000;
    private const int MaxBytesPerFile = 1 << 18;

    /// <summary>Returns true if the bytes opened as an image, false if they were rejected cleanly at open.</summary>
    public static bool Exercise(byte[] input)
    {
        SquashfsImage image;
        try
        {
            image = SquashfsImage.Open(input, "fuzz.sqfs", new SquashfsReaderOptions { CacheBytes = 2 << 20 });
        }
        catch (InvalidDataException)
        {
            return false;
        }
        catch (UnsupportedSquashfsCompressorException)
        {
            return false;
        }
        using (image)
        {
            var fs = new SquashfsFileSystem(image, ownsImage: false);
            Clean(() => fs.GetStatistics());
            Walk(fs);
            var reader = new SquashfsRootReader(image);
            foreach (string path in new[] { "/etc/passwd", "/links/absolute", "/a/b/../../c", "/.singularity.d/env" })
            {
                Clean(() => reader.KindOf(path));
                CleanRef(() => reader.ReadText(path, 1 << 16));
                CleanRef(() => reader.ListFiles(path));
            }
            CleanRef(() => reader.ListFiles("/"));
        }
        return true;
    }

    private static void Walk(SquashfsFileSystem fs)
    {
        var seen = new HashSet<ulong>();
        var queue = new Queue<ulong>();
        queue.Enqueue(fs.RootNode);
        byte[] buffer = new byte[1 << 16];
        while (queue.TryDequeue(out ulong node) && seen.Count < MaxNodes)
        {
            if (!seen.Add(node))
            {
                continue;
            }
            NodeAttributes? a = Clean(() => fs.GetAttributes(node));
            Clean(() =>
            {
                foreach (byte[] name in fs.ListExtendedAttributes(node))
                {
                    _ = fs.GetExtendedAttribute(node, name);
                }
                return 0;
            });
            CleanRef(() => fs.GetExtendedAttribute(node, "user.absent"u8));
            uint type = (a?.Mode ?? 0) & 0xF000;
            switch (type)
            {
                case 0xA000:
                    CleanRef(() => fs.ReadLink(node));
                    break;
                case 0x8000:
                    Clean(() => ReadFile(fs, node, (long)a!.Value.Size, buffer));
                    break;
                case 0x4000:
                    Clean(() => List(fs, node, queue));
                    break;
                default:
                    // Not a file: each of these must be refused cleanly.
                    Clean(() => fs.Read(node, 0, buffer));
                    CleanRef(() => fs.ReadLink(node));
                    break;
            }
        }
    }

    private static int ReadFile(SquashfsFileSystem fs, ulong node, long size, byte[] buffer)
    {
        long offset = 0;
        while (offset < Math.Min(size, MaxBytesPerFile))
        {
            int n = fs.Read(node, offset, buffer);
            if (n <= 0)
            {
                break;
            }
            offset += n;
        }
        // And the end of a file too large to read whole, across its last block boundary.
        return size > MaxBytesPerFile ? fs.Read(node, size - 5000, buffer.AsSpan(0, 10000)) : 0;
    }

    private static int List(SquashfsFileSystem fs, ulong node, Queue<ulong> queue)
    {
        var names = new List<byte[]>();
        long offset = 0;
        // Pages of 7 entries, resumed from the offsets the listing gave, as the kernel does.
        for (int page = 0; page < MaxNodes; page++)
        {
            int taken = 0;
            long next = offset;
            fs.ReadDirectory(node, offset, (in DirectoryEntry e) =>
            {
                if (taken == 7)
                {
                    return false;
                }
                taken++;
                names.Add(e.Name.ToArray());
                queue.Enqueue(e.Node);
                next = e.NextOffset;
                return true;
            });
            if (taken == 0 || next <= offset)
            {
                break;
            }
            offset = next;
        }
        foreach (byte[] name in names.Take(64))
        {
            Clean(() => fs.TryLookup(node, name, out _, out _));
        }
        Clean(() => fs.TryLookup(node, "not-there"u8, out _, out _));
        return names.Count;
    }

    private static T? Clean<T>(Func<T> action) where T : struct
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is InvalidDataException or FileSystemError or BurrowException)
        {
            return null;
        }
    }

    private static void CleanRef<T>(Func<T?> action) where T : class
    {
        try
        {
            _ = action();
        }
        catch (Exception e) when (e is InvalidDataException or FileSystemError or BurrowException)
        {
        }
    }
}
