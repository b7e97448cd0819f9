using System.Buffers.Binary;

namespace Burrow.Core.Squashfs;

/// <summary>
/// The 96-byte superblock, validated: magic, version 4.0, a block size that agrees with its log, tables in
/// the on-disk order the kernel insists on and inside the image's byte range. Positions are relative to the
/// start of the squashfs.
/// </summary>
public sealed class SquashfsSuperblock
{
    // Field locations (format.adoc, "The Superblock").
    private const int MagicAt = 0, InodeCountAt = 4, ModificationTimeAt = 8, BlockSizeAt = 12, FragmentCountAt = 16,
        CompressorAt = 20, BlockLogAt = 22, FlagsAt = 24, IdCountAt = 26, VersionMajorAt = 28, VersionMinorAt = 30,
        RootInodeAt = 32, BytesUsedAt = 40, IdTableAt = 48, XattrTableAt = 56, InodeTableAt = 64, DirectoryTableAt = 72,
        FragmentTableAt = 80, ExportTableAt = 88;

    public uint InodeCount { get; private init; }
    public uint ModificationTime { get; private init; }
    public uint BlockSize { get; private init; }
    public int BlockLog { get; private init; }
    public uint FragmentCount { get; private init; }
    public SquashfsCompressor Compressor { get; private init; }
    public ushort Flags { get; private init; }
    public ushort IdCount { get; private init; }
    public ulong RootInode { get; private init; }
    public long BytesUsed { get; private init; }
    public long IdTable { get; private init; }

    /// <summary>Start of the xattr id table header, or -1 when the image has no xattrs.</summary>
    public long XattrTable { get; private init; }
    public long InodeTable { get; private init; }
    public long DirectoryTable { get; private init; }

    /// <summary>Start of the fragment table's location list, or -1 when there is none.</summary>
    public long FragmentTable { get; private init; }

    /// <summary>Start of the export table's location list, or -1 when there is none.</summary>
    public long ExportTable { get; private init; }

    public bool HasCompressorOptions => (Flags & SquashfsLayout.FlagCompressorOptions) != 0;

    internal static SquashfsSuperblock Parse(ReadOnlySpan<byte> b, long rangeLength, string image)
    {
        if (b.Length < SquashfsLayout.SuperblockSize)
        {
            throw Bad(image, 0, $"the image is {b.Length} bytes, smaller than a superblock");
        }
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(b[MagicAt..]);
        if (magic != SquashfsLayout.Magic)
        {
            throw Bad(image, MagicAt, $"magic 0x{magic:x8} is not a squashfs's (0x{SquashfsLayout.Magic:x8}, \"hsqs\")");
        }
        ushort major = U16(b, VersionMajorAt), minor = U16(b, VersionMinorAt);
        if (major != 4 || minor != 0)
        {
            throw Bad(image, VersionMajorAt, $"version {major}.{minor} is not 4.0 (the only squashfs version Burrow reads)");
        }
        uint blockSize = U32(b, BlockSizeAt);
        ushort blockLog = U16(b, BlockLogAt);
        if (blockLog < SquashfsLayout.MinBlockLog || blockLog > SquashfsLayout.MaxBlockLog || blockSize != 1u << blockLog)
        {
            throw Bad(image, BlockSizeAt, $"block size {blockSize} and block log {blockLog} do not agree on a power of two from 4 KiB to 1 MiB");
        }
        ushort compressor = U16(b, CompressorAt);
        if (compressor is < 1 or > 6)
        {
            throw Bad(image, CompressorAt, $"compressor id {compressor} is unknown");
        }
        uint inodeCount = U32(b, InodeCountAt);
        if (inodeCount == 0)
        {
            throw Bad(image, InodeCountAt, "the inode count is 0 (there is always a root directory)");
        }
        ushort idCount = U16(b, IdCountAt);
        if (idCount == 0)
        {
            throw Bad(image, IdCountAt, "the id count is 0 (every inode names an owner)");
        }

        ulong bytesUsed = U64(b, BytesUsedAt);
        if (bytesUsed < SquashfsLayout.SuperblockSize || bytesUsed > (ulong)rangeLength)
        {
            throw Bad(image, BytesUsedAt, $"bytes used {bytesUsed} does not fit the {rangeLength} bytes of the image");
        }
        // Node ids are inode references (position << 16): a bound on the image keeps them below 2^62 (16 TiB is plenty).
        if (bytesUsed >= 1UL << 44)
        {
            throw Bad(image, BytesUsedAt, $"bytes used {bytesUsed} is more than the 16 TiB Burrow reads");
        }
        long used = (long)bytesUsed;
        long inodeTable = Required(b, InodeTableAt, used, image, "inode table");
        long directoryTable = Required(b, DirectoryTableAt, used, image, "directory table");
        long idTable = Required(b, IdTableAt, used, image, "id table");
        long fragmentTable = Optional(b, FragmentTableAt, used, image, "fragment table");
        long exportTable = Optional(b, ExportTableAt, used, image, "export table");
        long xattrTable = Optional(b, XattrTableAt, used, image, "xattr table");
        if (inodeTable < SquashfsLayout.SuperblockSize || directoryTable <= inodeTable)
        {
            throw Bad(image, InodeTableAt, $"the inode table ({inodeTable}) must start after the superblock and before the directory table ({directoryTable})");
        }
        // The kernel's order: inode table, directory table, then the fragment, export, id and xattr tables.
        foreach ((long at, string name) in new[] { (fragmentTable, "fragment table"), (exportTable, "export table"), (idTable, "id table"), (xattrTable, "xattr table") })
        {
            if (at >= 0 && at <= directoryTable)
            {
                throw Bad(image, DirectoryTableAt, $"the {name} ({at}) starts before the end of the directory table ({directoryTable})");
            }
        }
        uint fragmentCount = U32(b, FragmentCountAt);
        if (fragmentCount > 0 && fragmentTable < 0)
        {
            throw Bad(image, FragmentCountAt, $"{fragmentCount} fragments are counted but there is no fragment table");
        }
        ulong root = U64(b, RootInodeAt);
        if ((root & 0xFFFF) >= SquashfsLayout.MetadataSize || (long)(root >> 16) >= directoryTable - inodeTable)
        {
            throw Bad(image, RootInodeAt, $"the root inode reference 0x{root:x} points outside the inode table");
        }
        return new SquashfsSuperblock
        {
            InodeCount = inodeCount,
            ModificationTime = U32(b, ModificationTimeAt),
            BlockSize = blockSize,
            BlockLog = blockLog,
            FragmentCount = fragmentCount,
            Compressor = (SquashfsCompressor)compressor,
            Flags = U16(b, FlagsAt),
            IdCount = idCount,
            RootInode = root,
            BytesUsed = used,
            IdTable = idTable,
            XattrTable = xattrTable,
            InodeTable = inodeTable,
            DirectoryTable = directoryTable,
            FragmentTable = fragmentTable,
            ExportTable = exportTable,
        };
    }

    private static long Required(ReadOnlySpan<byte> b, int at, long used, string image, string name)
    {
        ulong v = U64(b, at);
        if (v >= (ulong)used)
        {
            throw Bad(image, at, $"the {name} position {v} is outside the {used} bytes used");
        }
        return (long)v;
    }

    private static long Optional(ReadOnlySpan<byte> b, int at, long used, string image, string name) =>
        U64(b, at) == SquashfsLayout.NoTable ? -1 : Required(b, at, used, image, name);

    private static InvalidDataException Bad(string image, long at, string defect) => SquashfsDamage.Create(image, "superblock", at, defect);

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
