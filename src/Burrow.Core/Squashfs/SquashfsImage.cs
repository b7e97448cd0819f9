using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Squashfs;

/// <summary>Tunables of a <see cref="SquashfsImage"/>.</summary>
public sealed record SquashfsReaderOptions
{
    /// <summary>Memory for decompressed metadata and data blocks (shared by all threads).</summary>
    public long CacheBytes { get; init; } = 64L << 20;
}

/// <summary>
/// A squashfs 4.0 image, read in place: inodes, directories (with the index of large ones), file data,
/// symlinks and xattrs, over a read-only byte range of a file. Thread-safe: every member may be called from
/// many threads at once. The image is untrusted: any defect is an <see cref="InvalidDataException"/>
/// naming the image, the table and the byte position.
/// </summary>
/// <remarks>The layout is squashfs-tools-ng's doc/format.adoc; docs/ARCHITECTURE.md, "Serving images", says how the FUSE server uses it.</remarks>
public sealed partial class SquashfsImage : IDisposable
{
    private readonly SquashfsSource _source;
    private readonly SquashfsBlocks _blocks;
    private readonly uint[] _ids;
    private readonly LookupTable? _fragments;
    private readonly LookupTable? _export;
    private readonly XattrTable? _xattrs;
    private readonly TableRegion _inodeRegion, _directoryRegion;

    private SquashfsImage(SquashfsSource source, SquashfsReaderOptions options)
    {
        _source = source;
        Span<byte> sb = stackalloc byte[SquashfsLayout.SuperblockSize];
        if (source.Length < SquashfsLayout.SuperblockSize)
        {
            throw SquashfsDamage.Create(source.DisplayName, "superblock", 0, $"the image is {source.Length} bytes, smaller than a superblock");
        }
        source.Read(0, sb, "superblock");
        Superblock = SquashfsSuperblock.Parse(sb, source.Length, source.DisplayName);
        SquashfsSuperblock s = Superblock;
        _blocks = new SquashfsBlocks(source, SquashfsCompressors.Create(s.Compressor, s.BlockSize, DisplayName),
            new BlockCache(options.CacheBytes), s.BlockSize, s.BytesUsed);
        if (s.HasCompressorOptions)
        {
            CompressorOptions = SquashfsCompressorOptions.Read(_blocks, s, DisplayName);
        }

        long afterDirectories = new[] { s.FragmentTable, s.ExportTable, s.IdTable, s.XattrTable, s.BytesUsed }.Where(t => t > s.DirectoryTable).Min();
        _inodeRegion = new TableRegion("inode table", s.InodeTable, s.DirectoryTable);
        _directoryRegion = new TableRegion("directory table", s.DirectoryTable, afterDirectories);

        LookupTable ids = LookupTable.Read(_blocks, source, "id table", s.IdTable, s.IdCount, 4, s.DirectoryTable, s.BytesUsed);
        _ids = new uint[s.IdCount];
        Span<byte> id = stackalloc byte[4];
        for (int i = 0; i < _ids.Length; i++)
        {
            ids.ReadEntry(i, id);
            _ids[i] = BinaryPrimitives.ReadUInt32LittleEndian(id);
        }
        if (s.FragmentCount > 0)
        {
            _fragments = LookupTable.Read(_blocks, source, "fragment table", s.FragmentTable, s.FragmentCount, 16, s.DirectoryTable, s.BytesUsed);
        }
        if (s.ExportTable >= 0)
        {
            _export = LookupTable.Read(_blocks, source, "export table", s.ExportTable, s.InodeCount, 8, s.DirectoryTable, s.BytesUsed);
        }
        if (s.XattrTable >= 0)
        {
            _xattrs = XattrTable.Read(_blocks, source, s);
        }
        Root = ReadInode(s.RootInode);
        if (!Root.IsDirectory)
        {
            throw _blocks.Damage("inode table", s.InodeTable + (long)(s.RootInode >> 16), $"the root inode is a {Root.Type}, not a directory");
        }
    }

    /// <summary>Opens the squashfs at <paramref name="offset"/> in <paramref name="file"/> (which the caller keeps and disposes).</summary>
    /// <param name="displayName">How messages name the image (the SIF's path, say).</param>
    /// <exception cref="InvalidDataException">The bytes are not a valid squashfs.</exception>
    /// <exception cref="UnsupportedSquashfsCompressorException">The compressor cannot be read here; fall back to squashfuse_ll.</exception>
    public static SquashfsImage Open(SafeFileHandle file, long offset, long length, string displayName, SquashfsReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new SquashfsImage(new FileRangeSource(file, offset, length, displayName, ownsHandle: false), options ?? new());
    }

    /// <summary>Opens a squashfs read through <paramref name="bytes"/> (a verified SIF partition).</summary>
    public static SquashfsImage Open(ISquashfsBytes bytes, string displayName, SquashfsReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return new SquashfsImage(new ExternalSource(bytes, displayName), options ?? new());
    }

    /// <summary>Opens a whole squashfs file.</summary>
    public static SquashfsImage Open(string path, SquashfsReaderOptions? options = null)
    {
        SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return new SquashfsImage(new FileRangeSource(file, 0, RandomAccess.GetLength(file), path, ownsHandle: true), options ?? new());
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens an image held in memory.</summary>
    public static SquashfsImage Open(ReadOnlyMemory<byte> bytes, string displayName, SquashfsReaderOptions? options = null) =>
        new(new MemorySource(bytes, displayName), options ?? new());

    public string DisplayName => _source.DisplayName;

    public SquashfsSuperblock Superblock { get; }

    /// <summary>The compressor options block, when the image has one.</summary>
    public SquashfsCompressorOptions? CompressorOptions { get; }

    public SquashfsInode Root { get; }

    /// <summary>Blocks served from the cache and blocks read and decompressed (for benchmarks and tests).</summary>
    public (long Hits, long Misses, long BytesHeld) CacheStatistics => (_blocks.Cache.Hits, _blocks.Cache.Misses, _blocks.Cache.BytesHeld);

    public void Dispose() => _source.Dispose();

    /// <summary>The inode that <paramref name="inodeNumber"/> names, through the export table (null when the image has none).</summary>
    public ulong? FindInodeReference(uint inodeNumber)
    {
        if (_export is null)
        {
            return null;
        }
        if (inodeNumber == 0 || inodeNumber > Superblock.InodeCount)
        {
            return null;
        }
        Span<byte> e = stackalloc byte[8];
        _export.ReadEntry(inodeNumber - 1, e);
        ulong reference = BinaryPrimitives.ReadUInt64LittleEndian(e);
        CheckReference(reference, "export table", Superblock.ExportTable);
        return reference;
    }

    internal void CheckReference(ulong reference, string where, long position)
    {
        if ((reference & 0xFFFF) >= SquashfsLayout.MetadataSize || (reference >> 16) >= (ulong)_inodeRegion.Size)
        {
            throw _blocks.Damage(where, position, $"inode reference 0x{reference:x} points outside the inode table");
        }
    }

    /// <summary>Reads the inode at <paramref name="reference"/>.</summary>
    public SquashfsInode ReadInode(ulong reference)
    {
        CheckReference(reference, "inode table", _inodeRegion.Start);
        var c = new MetadataCursor(_inodeRegion.Start + (long)(reference >> 16), (int)(reference & 0xFFFF));
        long at = c.Block;
        Span<byte> h = stackalloc byte[16 + 40];
        _blocks.Read(ref c, _inodeRegion, h[..16]);
        var type = (SquashfsInodeType)BinaryPrimitives.ReadUInt16LittleEndian(h);
        int fixedSize = type switch
        {
            SquashfsInodeType.Directory => 16,
            SquashfsInodeType.ExtendedDirectory => 24,
            SquashfsInodeType.File => 16,
            SquashfsInodeType.ExtendedFile => 40,
            SquashfsInodeType.Symlink or SquashfsInodeType.ExtendedSymlink => 8,
            SquashfsInodeType.BlockDevice or SquashfsInodeType.CharacterDevice => 8,
            SquashfsInodeType.ExtendedBlockDevice or SquashfsInodeType.ExtendedCharacterDevice => 12,
            SquashfsInodeType.Fifo or SquashfsInodeType.Socket => 4,
            SquashfsInodeType.ExtendedFifo or SquashfsInodeType.ExtendedSocket => 8,
            _ => throw _blocks.Damage("inode table", at, $"inode 0x{reference:x} has unknown type {(ushort)type}"),
        };
        Span<byte> f = h.Slice(16, fixedSize);
        _blocks.Read(ref c, _inodeRegion, f);
        uint number = U32(h, 12);
        if (number == 0 || number > Superblock.InodeCount)
        {
            throw _blocks.Damage("inode table", at, $"inode 0x{reference:x} has number {number}, outside 1..{Superblock.InodeCount}");
        }
        var common = new SquashfsInode(reference, type)
        {
            Permissions = U16(h, 2) & 0xFFFu,
            Uid = Id(U16(h, 4), reference, at),
            Gid = Id(U16(h, 6), reference, at),
            ModificationTime = U32(h, 8),
            InodeNumber = number,
        };
        return type switch
        {
            SquashfsInodeType.Directory => Directory(common, c, linkCount: U32(f, 4), size: U16(f, 8), block: U32(f, 0), offset: U16(f, 10),
                parent: U32(f, 12), indexCount: 0, xattr: SquashfsLayout.NoXattr, at),
            SquashfsInodeType.ExtendedDirectory => Directory(common, c, linkCount: U32(f, 0), size: U32(f, 4), block: U32(f, 8), offset: U16(f, 18),
                parent: U32(f, 12), indexCount: U16(f, 16), xattr: U32(f, 20), at),
            SquashfsInodeType.File => RegularFile(common, c, start: U32(f, 0), size: U32(f, 12), fragment: U32(f, 4), fragmentOffset: U32(f, 8),
                linkCount: 1, sparse: 0, xattr: SquashfsLayout.NoXattr, at),
            SquashfsInodeType.ExtendedFile => RegularFile(common, c, start: U64(f, 0), size: U64(f, 8), fragment: U32(f, 28), fragmentOffset: U32(f, 32),
                linkCount: U32(f, 24), sparse: U64(f, 16), xattr: U32(f, 36), at),
            SquashfsInodeType.Symlink or SquashfsInodeType.ExtendedSymlink => Symlink(common, c, linkCount: U32(f, 0), length: U32(f, 4), at),
            SquashfsInodeType.BlockDevice or SquashfsInodeType.CharacterDevice => Special(common, c, U32(f, 0), U32(f, 4), SquashfsLayout.NoXattr),
            SquashfsInodeType.ExtendedBlockDevice or SquashfsInodeType.ExtendedCharacterDevice => Special(common, c, U32(f, 0), U32(f, 4), U32(f, 8)),
            SquashfsInodeType.Fifo or SquashfsInodeType.Socket => Special(common, c, U32(f, 0), 0, SquashfsLayout.NoXattr),
            _ => Special(common, c, U32(f, 0), 0, U32(f, 4)),
        };
    }

    private SquashfsInode Directory(SquashfsInode common, MetadataCursor tail, uint linkCount, uint size, uint block, int offset, uint parent,
        int indexCount, uint xattr, long at)
    {
        if (offset >= SquashfsLayout.MetadataSize || block >= _directoryRegion.Size)
        {
            throw _blocks.Damage("inode table", at, $"directory inode {common.InodeNumber} points outside the directory table (block {block}, offset {offset})");
        }
        CheckXattrIndex(xattr, common.InodeNumber, at);
        SquashfsInode inode = With(common, tail, linkCount, size, xattr);
        inode.DirectoryBlock = block;
        inode.DirectoryOffset = offset;
        inode.IndexCount = indexCount;
        inode.ParentInode = parent;
        return inode;
    }

    private SquashfsInode RegularFile(SquashfsInode common, MetadataCursor tail, ulong start, ulong size, uint fragment, uint fragmentOffset,
        uint linkCount, ulong sparse, uint xattr, long at)
    {
        if (size > long.MaxValue / 2 || start >= (ulong)Superblock.BytesUsed)
        {
            throw _blocks.Damage("inode table", at, $"file inode {common.InodeNumber} has size {size} and data at {start}, outside the image");
        }
        long blockSize = Superblock.BlockSize;
        long blocks;
        if (fragment != SquashfsLayout.NoFragment)
        {
            if (_fragments is null || fragment >= _fragments.Count)
            {
                throw _blocks.Damage("inode table", at, $"file inode {common.InodeNumber} names fragment {fragment} of {Superblock.FragmentCount}");
            }
            long tailBytes = (long)size % blockSize;
            if (fragmentOffset >= blockSize || fragmentOffset + tailBytes > blockSize)
            {
                throw _blocks.Damage("inode table", at, $"file inode {common.InodeNumber}'s {tailBytes}-byte tail at offset {fragmentOffset} does not fit a fragment block");
            }
            blocks = (long)size / blockSize;
        }
        else
        {
            blocks = (long)((size + (ulong)blockSize - 1) / (ulong)blockSize);
        }
        // The block sizes follow the inode: a count the rest of the inode table cannot hold is damage, found before any walk.
        if (blocks > _inodeRegion.Size / 3 * (SquashfsLayout.MetadataSize / 4))
        {
            throw _blocks.Damage("inode table", at, $"file inode {common.InodeNumber} claims {blocks} blocks, more than the inode table can list");
        }
        CheckXattrIndex(xattr, common.InodeNumber, at);
        SquashfsInode inode = With(common, tail, linkCount, (long)size, xattr);
        inode.BlocksStart = (long)start;
        inode.FragmentIndex = fragment;
        inode.FragmentOffset = fragmentOffset;
        inode.BlockCount = blocks;
        inode.SparseBytes = (long)Math.Min(sparse, size);
        return inode;
    }

    private SquashfsInode Symlink(SquashfsInode common, MetadataCursor tail, uint linkCount, uint length, long at)
    {
        if (length == 0 || length > SquashfsLayout.MaxSymlinkLength)
        {
            throw _blocks.Damage("inode table", at, $"symlink inode {common.InodeNumber} has a target of {length} bytes (1 to {SquashfsLayout.MaxSymlinkLength} allowed)");
        }
        uint xattr = SquashfsLayout.NoXattr;
        if (common.Type == SquashfsInodeType.ExtendedSymlink)
        {
            MetadataCursor after = tail;
            _blocks.Skip(ref after, _inodeRegion, length);
            xattr = _blocks.ReadUInt32(ref after, _inodeRegion);
            CheckXattrIndex(xattr, common.InodeNumber, at);
        }
        return With(common, tail, linkCount, length, xattr);
    }

    private SquashfsInode Special(SquashfsInode common, MetadataCursor tail, uint linkCount, uint device, uint xattr)
    {
        CheckXattrIndex(xattr, common.InodeNumber, _inodeRegion.Start);
        SquashfsInode inode = With(common, tail, linkCount, 0, xattr);
        inode.Device = device;
        return inode;
    }

    private static SquashfsInode With(SquashfsInode common, MetadataCursor tail, uint linkCount, long size, uint xattr) =>
        new(common.Reference, common.Type)
        {
            Permissions = common.Permissions,
            Uid = common.Uid,
            Gid = common.Gid,
            ModificationTime = common.ModificationTime,
            InodeNumber = common.InodeNumber,
            LinkCount = linkCount,
            Size = size,
            XattrIndex = xattr,
            Tail = tail,
        };

    private void CheckXattrIndex(uint xattr, uint inode, long at)
    {
        if (xattr != SquashfsLayout.NoXattr && (_xattrs is null || xattr >= _xattrs.Count))
        {
            throw _blocks.Damage("inode table", at, $"inode {inode} names xattr set {xattr}, but the image has {_xattrs?.Count ?? 0}");
        }
    }

    private uint Id(ushort index, ulong reference, long at) => index < _ids.Length
        ? _ids[index]
        : throw _blocks.Damage("inode table", at, $"inode 0x{reference:x} names id {index}, but the id table has {_ids.Length}");

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
