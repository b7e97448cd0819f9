using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;

namespace Burrow.Core.Squashfs;

/// <summary>One entry of a directory listing.</summary>
public sealed record SquashfsDirectoryEntry(byte[] Name, ulong InodeReference, SquashfsInodeType Type, uint InodeNumber)
{
    public string NameString => Encoding.UTF8.GetString(Name);
}

/// <summary>An entry as the listing walk hands it out; the name is valid only during the call.</summary>
internal readonly ref struct RawDirectoryEntry(ReadOnlySpan<byte> name, ulong reference, SquashfsInodeType type, uint inodeNumber, long nextOffset)
{
    public ReadOnlySpan<byte> Name { get; } = name;
    public ulong Reference { get; } = reference;
    public SquashfsInodeType Type { get; } = type;
    public uint InodeNumber { get; } = inodeNumber;

    /// <summary>Bytes of the listing read once this entry is consumed: where a listing resumes.</summary>
    public long NextOffset { get; } = nextOffset;
}

internal delegate bool RawDirectoryEntrySink(in RawDirectoryEntry entry);

public sealed partial class SquashfsImage
{
    // Where paged listings resume: the kernel asks for the next page with the offset of the last entry it took.
    private const int MaxResumePoints = 4096;
    private readonly ConcurrentDictionary<(ulong Directory, long Offset), DirectoryPosition> _resume = new();

    /// <summary>The walk's state inside a listing: the cursor and what the current header said.</summary>
    private struct DirectoryPosition
    {
        public MetadataCursor Cursor;
        public long Consumed;
        public int Remaining;
        public uint HeaderBlock;
        public uint HeaderInode;
    }

    /// <summary>Finds <paramref name="name"/> in <paramref name="directory"/>, using the directory index when there is one.</summary>
    public bool TryLookup(SquashfsInode directory, ReadOnlySpan<byte> name, out ulong reference)
    {
        RequireDirectory(directory);
        reference = 0;
        if (name.Length == 0 || name.Length > SquashfsLayout.MaxNameLength || directory.ListingSize == 0)
        {
            return false;
        }
        DirectoryPosition p = Start(directory);
        if (directory.IndexCount > 0)
        {
            SeekByIndex(directory, ref p, name, long.MaxValue);
        }
        Span<byte> buffer = stackalloc byte[SquashfsLayout.MaxNameLength];
        while (Next(directory, ref p, buffer, out int length, out ulong child, out _, out _))
        {
            // Listings are sorted by byte value (strcmp), so the walk stops at the first name past the one sought.
            int order = buffer[..length].SequenceCompareTo(name);
            if (order == 0)
            {
                reference = child;
                return true;
            }
            if (order > 0)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>Finds <paramref name="name"/> in <paramref name="directory"/> and reads its inode.</summary>
    public SquashfsInode? Lookup(SquashfsInode directory, string name) =>
        TryLookup(directory, Encoding.UTF8.GetBytes(name), out ulong reference) ? ReadInode(reference) : null;

    /// <summary>The whole listing (without "." and ".."), in stored order.</summary>
    public IReadOnlyList<SquashfsDirectoryEntry> ReadDirectory(SquashfsInode directory)
    {
        var entries = new List<SquashfsDirectoryEntry>();
        ReadDirectory(directory, 0, (in RawDirectoryEntry e) =>
        {
            entries.Add(new SquashfsDirectoryEntry(e.Name.ToArray(), e.Reference, e.Type, e.InodeNumber));
            return true;
        });
        return entries;
    }

    /// <summary>Lists from <paramref name="offset"/> (0, or a <see cref="RawDirectoryEntry.NextOffset"/> given before) until the sink says stop.</summary>
    internal void ReadDirectory(SquashfsInode directory, long offset, RawDirectoryEntrySink sink)
    {
        RequireDirectory(directory);
        if (offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "a directory offset is never negative");
        }
        if (offset >= directory.ListingSize)
        {
            return;
        }
        DirectoryPosition p = offset == 0 ? Start(directory) : Resume(directory, offset);
        Span<byte> buffer = stackalloc byte[SquashfsLayout.MaxNameLength];
        while (true)
        {
            DirectoryPosition before = p;
            if (!Next(directory, ref p, buffer, out int length, out ulong child, out SquashfsInodeType type, out uint number))
            {
                return;
            }
            if (!sink(new RawDirectoryEntry(buffer[..length], child, type, number, p.Consumed)))
            {
                if (_resume.Count >= MaxResumePoints)
                {
                    _resume.Clear();
                }
                _resume[(directory.Reference, before.Consumed)] = before;
                return;
            }
        }
    }

    private DirectoryPosition Resume(SquashfsInode directory, long offset)
    {
        if (_resume.TryGetValue((directory.Reference, offset), out DirectoryPosition saved))
        {
            return saved;
        }
        // Not saved (evicted, or another thread's listing): walk there, from the nearest index entry if any.
        DirectoryPosition p = Start(directory);
        if (directory.IndexCount > 0)
        {
            SeekByIndex(directory, ref p, default, offset);
        }
        Span<byte> buffer = stackalloc byte[SquashfsLayout.MaxNameLength];
        while (p.Consumed < offset)
        {
            if (!Next(directory, ref p, buffer, out _, out _, out _, out _))
            {
                break;
            }
        }
        if (p.Consumed != offset)
        {
            // Offsets come from earlier listings of this image: one that is not an entry's means the index and the listing disagree.
            throw _blocks.Damage("directory table", p.Cursor.Block,
                $"directory inode {directory.InodeNumber}: offset {offset} is not where an entry starts (the directory index disagrees with the listing)");
        }
        return p;
    }

    private DirectoryPosition Start(SquashfsInode directory) => new()
    {
        Cursor = new MetadataCursor(_directoryRegion.Start + directory.DirectoryBlock, directory.DirectoryOffset),
    };

    /// <summary>
    /// Moves <paramref name="p"/> to the last header the index places at or before the name sought (lookup) or the
    /// listing offset sought (resuming). Index entries name the first entry of a header and where it starts.
    /// </summary>
    private void SeekByIndex(SquashfsInode directory, ref DirectoryPosition p, ReadOnlySpan<byte> name, long offset)
    {
        MetadataCursor c = directory.Tail;
        Span<byte> fixedPart = stackalloc byte[SquashfsLayout.DirectoryIndexSize];
        Span<byte> indexName = stackalloc byte[SquashfsLayout.MaxNameLength];
        long bestIndex = -1, previous = -1;
        uint bestBlock = 0;
        for (int i = 0; i < directory.IndexCount; i++)
        {
            long at = c.Block;
            _blocks.Read(ref c, _inodeRegion, fixedPart);
            uint index = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart);
            uint block = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart[4..]);
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart[8..]) + 1;
            if (nameSize > SquashfsLayout.MaxNameLength || nameSize == 0)
            {
                throw _blocks.Damage("directory index", at, $"directory inode {directory.InodeNumber}'s index entry {i} has a name of {nameSize} bytes");
            }
            if (index <= previous || index >= directory.ListingSize || block >= _directoryRegion.Size)
            {
                throw _blocks.Damage("directory index", at,
                    $"directory inode {directory.InodeNumber}'s index entry {i} (offset {index}, block {block}) is out of order or outside the listing");
            }
            previous = index;
            if (name.IsEmpty)
            {
                if (index > offset)
                {
                    break;
                }
                _blocks.Skip(ref c, _inodeRegion, nameSize);
            }
            else
            {
                _blocks.Read(ref c, _inodeRegion, indexName[..(int)nameSize]);
                if (indexName[..(int)nameSize].SequenceCompareTo(name) > 0)
                {
                    break;
                }
            }
            bestIndex = index;
            bestBlock = block;
        }
        if (bestIndex >= 0)
        {
            // As the kernel does: the offset counts from the listing's start as if its blocks were laid end to end.
            p = new DirectoryPosition
            {
                Cursor = new MetadataCursor(_directoryRegion.Start + bestBlock, (int)((directory.DirectoryOffset + bestIndex) % SquashfsLayout.MetadataSize)),
                Consumed = bestIndex,
            };
        }
    }

    /// <summary>Reads the next entry into <paramref name="name"/>; false at the end of the listing.</summary>
    private bool Next(SquashfsInode directory, ref DirectoryPosition p, Span<byte> name, out int nameLength, out ulong reference,
        out SquashfsInodeType type, out uint inodeNumber)
    {
        nameLength = 0;
        reference = 0;
        type = 0;
        inodeNumber = 0;
        long size = directory.ListingSize;
        if (p.Remaining == 0)
        {
            if (p.Consumed >= size)
            {
                return false;
            }
            long at = p.Cursor.Block;
            if (p.Consumed + SquashfsLayout.DirectoryHeaderSize > size)
            {
                throw _blocks.Damage("directory table", at, $"directory inode {directory.InodeNumber}: a header crosses the end of its {size}-byte listing");
            }
            Span<byte> h = stackalloc byte[SquashfsLayout.DirectoryHeaderSize];
            _blocks.Read(ref p.Cursor, _directoryRegion, h);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(h) + 1;
            uint block = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
            if (count == 0 || count > SquashfsLayout.MaxEntriesPerHeader || block >= _inodeRegion.Size)
            {
                throw _blocks.Damage("directory table", at,
                    $"directory inode {directory.InodeNumber}: a header claims {count} entries in inode block {block}");
            }
            p.Remaining = (int)count;
            p.HeaderBlock = block;
            p.HeaderInode = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
            p.Consumed += SquashfsLayout.DirectoryHeaderSize;
        }
        long entryAt = p.Cursor.Block;
        if (p.Consumed + SquashfsLayout.DirectoryEntrySize > size)
        {
            throw _blocks.Damage("directory table", entryAt, $"directory inode {directory.InodeNumber}: an entry crosses the end of its {size}-byte listing");
        }
        Span<byte> e = stackalloc byte[SquashfsLayout.DirectoryEntrySize];
        _blocks.Read(ref p.Cursor, _directoryRegion, e);
        ushort offset = BinaryPrimitives.ReadUInt16LittleEndian(e);
        short delta = BinaryPrimitives.ReadInt16LittleEndian(e[2..]);
        ushort rawType = BinaryPrimitives.ReadUInt16LittleEndian(e[4..]);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]) + 1;
        if (offset >= SquashfsLayout.MetadataSize || rawType is < 1 or > 7 || length > SquashfsLayout.MaxNameLength)
        {
            throw _blocks.Damage("directory table", entryAt,
                $"directory inode {directory.InodeNumber}: an entry has inode offset {offset}, type {rawType} and a {length}-byte name");
        }
        if (p.Consumed + SquashfsLayout.DirectoryEntrySize + length > size)
        {
            throw _blocks.Damage("directory table", entryAt, $"directory inode {directory.InodeNumber}: a name crosses the end of its {size}-byte listing");
        }
        _blocks.Read(ref p.Cursor, _directoryRegion, name[..length]);
        ReadOnlySpan<byte> n = name[..length];
        if (n.IndexOfAny((byte)'/', (byte)0) >= 0 || n.SequenceEqual("."u8) || n.SequenceEqual(".."u8))
        {
            throw _blocks.Damage("directory table", entryAt,
                $"directory inode {directory.InodeNumber}: the entry name \"{Encoding.UTF8.GetString(n)}\" is not a file name");
        }
        p.Consumed += SquashfsLayout.DirectoryEntrySize + length;
        p.Remaining--;
        nameLength = length;
        reference = ((ulong)p.HeaderBlock << 16) | offset;
        type = (SquashfsInodeType)rawType;
        inodeNumber = (uint)(p.HeaderInode + delta);
        return true;
    }

    private static void RequireDirectory(SquashfsInode directory)
    {
        if (!directory.IsDirectory)
        {
            throw new ArgumentException($"inode {directory.InodeNumber} is a {directory.Type}, not a directory", nameof(directory));
        }
    }
}
