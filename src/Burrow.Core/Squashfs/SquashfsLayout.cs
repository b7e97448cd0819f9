namespace Burrow.Core.Squashfs;

/// <summary>The compressor ids of the superblock.</summary>
public enum SquashfsCompressor : ushort
{
    Gzip = 1,
    Lzma = 2,
    Lzo = 3,
    Xz = 4,
    Lz4 = 5,
    Zstd = 6,
}

/// <summary>Inode types as stored; the basic types 1–7 are also what directory entries carry.</summary>
public enum SquashfsInodeType : ushort
{
    Directory = 1,
    File = 2,
    Symlink = 3,
    BlockDevice = 4,
    CharacterDevice = 5,
    Fifo = 6,
    Socket = 7,
    ExtendedDirectory = 8,
    ExtendedFile = 9,
    ExtendedSymlink = 10,
    ExtendedBlockDevice = 11,
    ExtendedCharacterDevice = 12,
    ExtendedFifo = 13,
    ExtendedSocket = 14,
}

/// <summary>Sizes, limits and flag bits of the squashfs 4.0 layout (squashfs-tools-ng's doc/format.adoc).</summary>
internal static class SquashfsLayout
{
    public const uint Magic = 0x73717368;
    public const int SuperblockSize = 96;
    public const int MetadataSize = 8192;
    public const ushort MetadataUncompressed = 0x8000;
    public const uint DataUncompressed = 1u << 24;
    public const uint DataSizeMask = 0x00FF_FFFF;
    public const ulong NoTable = ulong.MaxValue;
    public const uint NoFragment = 0xFFFF_FFFF;
    public const uint NoXattr = 0xFFFF_FFFF;
    public const int MinBlockLog = 12, MaxBlockLog = 20;

    /// <summary>The kernel's limit on an entry name (the on-disk field stores length - 1).</summary>
    public const int MaxNameLength = 256;

    /// <summary>A header is followed by at most this many entries (the kernel refuses more).</summary>
    public const int MaxEntriesPerHeader = 256;

    /// <summary>Symlink targets longer than a page are refused by the kernel too.</summary>
    public const int MaxSymlinkLength = 4096;

    /// <summary>Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX.</summary>
    public const int MaxXattrNameLength = 255, MaxXattrValueLength = 65536;

    public const int DirectoryHeaderSize = 12, DirectoryEntrySize = 8, DirectoryIndexSize = 12;

    // Superblock flags.
    public const ushort FlagCompressorOptions = 0x0400;

    // S_IFMT type bits.
    public const uint S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFBLK = 0x6000, S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFSOCK = 0xC000;

    public static uint TypeBits(SquashfsInodeType type) => type switch
    {
        SquashfsInodeType.Directory or SquashfsInodeType.ExtendedDirectory => S_IFDIR,
        SquashfsInodeType.File or SquashfsInodeType.ExtendedFile => S_IFREG,
        SquashfsInodeType.Symlink or SquashfsInodeType.ExtendedSymlink => S_IFLNK,
        SquashfsInodeType.BlockDevice or SquashfsInodeType.ExtendedBlockDevice => S_IFBLK,
        SquashfsInodeType.CharacterDevice or SquashfsInodeType.ExtendedCharacterDevice => S_IFCHR,
        SquashfsInodeType.Fifo or SquashfsInodeType.ExtendedFifo => S_IFIFO,
        SquashfsInodeType.Socket or SquashfsInodeType.ExtendedSocket => S_IFSOCK,
        _ => 0,
    };
}
