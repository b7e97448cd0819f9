using System.Buffers.Binary;

namespace Burrow.Core.Squashfs;

public sealed partial class SquashfsImage
{
    // Files with at most this many blocks have their sizes summed from the inode each time (a few hundred bytes);
    // larger ones get a cached map of every block's position, so a sequential read does not go quadratic.
    private const int DirectBlockLimit = 64;
    private const int BlockMapEntry = 12;

    /// <summary>
    /// Reads file bytes at <paramref name="offset"/> into <paramref name="destination"/>; returns how many (0 at or past
    /// the end). Sparse blocks read as zeros; a tail packed in a fragment block is read from the cached fragment block.
    /// </summary>
    public int ReadFile(SquashfsInode file, long offset, Span<byte> destination)
    {
        if (!file.IsRegularFile)
        {
            throw new ArgumentException($"inode {file.InodeNumber} is a {file.Type}, not a regular file", nameof(file));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= file.Size || destination.IsEmpty)
        {
            return 0;
        }
        int total = (int)Math.Min(destination.Length, file.Size - offset);
        int blockLog = Superblock.BlockLog;
        int blockSize = (int)Superblock.BlockSize;
        byte[]? map = null;
        int done = 0;
        while (done < total)
        {
            long position = offset + done;
            long index = position >> blockLog;
            int within = (int)(position & (blockSize - 1));
            int chunk = Math.Min(total - done, blockSize - within);
            Span<byte> target = destination.Slice(done, chunk);
            if (index < file.BlockCount)
            {
                bool last = index == file.BlockCount - 1 && !file.HasFragment;
                int expected = last ? (int)(file.Size - (index << blockLog)) : blockSize;
                (long at, uint word) = LocateBlock(file, index, ref map);
                CopyFromBlock(file, at, word, within, expected, target);
            }
            else
            {
                CopyFromFragment(file, within, target);
            }
            done += chunk;
        }
        return total;
    }

    private void CopyFromBlock(SquashfsInode file, long at, uint word, int within, int expected, Span<byte> target)
    {
        const string Where = "data block";
        int stored = _blocks.CheckDataBlock(at, word, Where);
        if (stored == 0)
        {
            target.Clear();
            return;
        }
        ReadOnlySpan<byte> bytes;
        if ((word & SquashfsLayout.DataUncompressed) != 0)
        {
            if (stored < expected)
            {
                throw _blocks.Damage(Where, at, $"file inode {file.InodeNumber}: the uncompressed block holds {stored} bytes, not {expected}");
            }
            _blocks.ReadRaw(at + within, target, Where);
            return;
        }
        CachedBlock block = _blocks.ReadDataBlock(at, word, Where);
        bytes = block.Span;
        if (bytes.Length < expected && expected < (int)Superblock.BlockSize)
        {
            throw _blocks.Damage(Where, at, $"file inode {file.InodeNumber}: the last block decompresses to {bytes.Length} bytes, not {expected}");
        }
        // A full-size block that decompresses short ends in zeros (format.adoc, "Data and Fragment Blocks").
        int available = Math.Clamp(bytes.Length - within, 0, target.Length);
        bytes.Slice(Math.Min(within, bytes.Length), available).CopyTo(target);
        target[available..].Clear();
    }

    private void CopyFromFragment(SquashfsInode file, int within, Span<byte> target)
    {
        Span<byte> entry = stackalloc byte[16];
        _fragments!.ReadEntry(file.FragmentIndex, entry);
        long start = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(entry), long.MaxValue);
        uint word = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
        CachedBlock block = _blocks.ReadDataBlock(start, word, "fragment block");
        long tail = file.Size - (file.BlockCount << Superblock.BlockLog);
        if (file.FragmentOffset + tail > block.Length)
        {
            throw _blocks.Damage("fragment block", start,
                $"file inode {file.InodeNumber}: its {tail}-byte tail at offset {file.FragmentOffset} is past the block's {block.Length} bytes");
        }
        block.Span.Slice((int)file.FragmentOffset + within, target.Length).CopyTo(target);
    }

    /// <summary>Where block <paramref name="index"/> of a file starts, and its size word.</summary>
    private (long At, uint Word) LocateBlock(SquashfsInode file, long index, ref byte[]? map)
    {
        if (file.BlockCount > DirectBlockLimit)
        {
            map ??= BlockMap(file);
            if (map is not null)
            {
                ReadOnlySpan<byte> e = map.AsSpan((int)(index * BlockMapEntry), BlockMapEntry);
                return (BinaryPrimitives.ReadInt64LittleEndian(e), BinaryPrimitives.ReadUInt32LittleEndian(e[8..]));
            }
        }
        // Sum the sizes of the blocks before it, a chunk of sizes at a time.
        MetadataCursor c = file.Tail;
        long at = file.BlocksStart;
        Span<byte> sizes = stackalloc byte[4 * 256];
        long left = index;
        while (true)
        {
            int n = (int)Math.Min(left + 1, 256);
            _blocks.Read(ref c, _inodeRegion, sizes[..(n * 4)]);
            for (int i = 0; i < n; i++)
            {
                uint word = BinaryPrimitives.ReadUInt32LittleEndian(sizes[(i * 4)..]);
                if (left == 0)
                {
                    return (at, word);
                }
                at = Advance(file, at, word);
                left--;
            }
        }
    }

    private long Advance(SquashfsInode file, long at, uint word)
    {
        long next = at + (word & SquashfsLayout.DataSizeMask);
        if (next > Superblock.BytesUsed)
        {
            throw _blocks.Damage("inode table", _inodeRegion.Start + (long)(file.Reference >> 16),
                $"file inode {file.InodeNumber}: its blocks run past the bytes used ({Superblock.BytesUsed})");
        }
        return next;
    }

    /// <summary>The cached map of a large file's blocks, or null when it would take too much of the cache.</summary>
    private byte[]? BlockMap(SquashfsInode file)
    {
        long bytes = file.BlockCount * BlockMapEntry;
        if (bytes > _blocks.Cache.CapacityBytes / 8 || bytes > Array.MaxLength)
        {
            return null;
        }
        CachedBlock b = _blocks.Cache.GetOrAdd(new BlockKey((long)file.Reference, BlockKey.BlockMapTag), (this, file),
            static s => s.Item1.BuildBlockMap(s.file));
        return b.Data;
    }

    private CachedBlock BuildBlockMap(SquashfsInode file)
    {
        byte[] map = new byte[file.BlockCount * BlockMapEntry];
        MetadataCursor c = file.Tail;
        long at = file.BlocksStart;
        Span<byte> sizes = stackalloc byte[4 * 1024];
        for (long i = 0; i < file.BlockCount;)
        {
            int n = (int)Math.Min(file.BlockCount - i, 1024);
            _blocks.Read(ref c, _inodeRegion, sizes[..(n * 4)]);
            for (int k = 0; k < n; k++, i++)
            {
                uint word = BinaryPrimitives.ReadUInt32LittleEndian(sizes[(k * 4)..]);
                Span<byte> e = map.AsSpan((int)(i * BlockMapEntry), BlockMapEntry);
                BinaryPrimitives.WriteInt64LittleEndian(e, at);
                BinaryPrimitives.WriteUInt32LittleEndian(e[8..], word);
                at = Advance(file, at, word);
            }
        }
        return new CachedBlock(map, map.Length, 0);
    }

    /// <summary>A symlink's target, as stored.</summary>
    public byte[] ReadSymlink(SquashfsInode link)
    {
        if (!link.IsSymlink)
        {
            throw new ArgumentException($"inode {link.InodeNumber} is a {link.Type}, not a symlink", nameof(link));
        }
        byte[] target = new byte[link.Size];
        MetadataCursor c = link.Tail;
        _blocks.Read(ref c, _inodeRegion, target);
        return target;
    }

    /// <summary>The node's extended attributes, names with their namespace prefix.</summary>
    public IReadOnlyList<SquashfsXattr> ReadXattrs(SquashfsInode inode)
    {
        if (!inode.HasXattrs)
        {
            return [];
        }
        var all = new List<SquashfsXattr>();
        _xattrs!.Walk(inode.XattrIndex, static _ => true, (name, value) =>
        {
            all.Add(new SquashfsXattr(name, value!));
            return true;
        });
        return all;
    }

    /// <summary>Names of the node's extended attributes (values are not read).</summary>
    public IReadOnlyList<byte[]> ListXattrNames(SquashfsInode inode)
    {
        if (!inode.HasXattrs)
        {
            return [];
        }
        var names = new List<byte[]>();
        _xattrs!.Walk(inode.XattrIndex, static _ => false, (name, _) =>
        {
            names.Add(name);
            return true;
        });
        return names;
    }

    /// <summary>One extended attribute's value, or null when the node has none of that name.</summary>
    public byte[]? GetXattr(SquashfsInode inode, ReadOnlySpan<byte> name)
    {
        if (!inode.HasXattrs || name.IsEmpty || name.Length > SquashfsLayout.MaxXattrNameLength)
        {
            return null;
        }
        byte[] wanted = name.ToArray();
        byte[]? found = null;
        _xattrs!.Walk(inode.XattrIndex, n => n.AsSpan().SequenceEqual(wanted), (n, value) =>
        {
            if (value is not null)
            {
                found = value;
                return false;
            }
            return true;
        });
        return found;
    }
}
