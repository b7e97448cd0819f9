namespace Burrow.Core.Squashfs;

/// <summary>
/// One inode, parsed and checked. <see cref="Reference"/> (metadata block position relative to the inode table,
/// shifted left 16, or'ed with the offset in the block) names it; hard links share it.
/// </summary>
public sealed class SquashfsInode
{
    internal SquashfsInode(ulong reference, SquashfsInodeType type)
    {
        Reference = reference;
        Type = type;
    }

    public ulong Reference { get; }

    public SquashfsInodeType Type { get; }

    /// <summary>The basic type (extended types folded), as directory entries store it.</summary>
    public SquashfsInodeType BasicType => Type > SquashfsInodeType.Socket ? Type - 7 : Type;

    /// <summary>Permission bits, setuid, setgid and sticky included (07777).</summary>
    public uint Permissions { get; internal set; }

    /// <summary>st_mode: the type bits and the permissions.</summary>
    public uint Mode => SquashfsLayout.TypeBits(Type) | Permissions;

    public uint Uid { get; internal set; }

    public uint Gid { get; internal set; }

    public uint ModificationTime { get; internal set; }

    /// <summary>The inode number, from 1 to the superblock's inode count.</summary>
    public uint InodeNumber { get; internal set; }

    public uint LinkCount { get; internal set; }

    /// <summary>Bytes of a file, of a symlink's target, or of a directory listing as stored (3 more than its bytes).</summary>
    public long Size { get; internal set; }

    public uint XattrIndex { get; internal set; } = SquashfsLayout.NoXattr;

    public bool HasXattrs => XattrIndex != SquashfsLayout.NoXattr;

    /// <summary>st_rdev of a device, in the kernel's new encoding.</summary>
    public uint Device { get; internal set; }

    public bool IsDirectory => BasicType == SquashfsInodeType.Directory;

    public bool IsRegularFile => BasicType == SquashfsInodeType.File;

    public bool IsSymlink => BasicType == SquashfsInodeType.Symlink;

    // Regular files.
    internal long BlocksStart { get; set; }
    internal uint FragmentIndex { get; set; } = SquashfsLayout.NoFragment;
    internal uint FragmentOffset { get; set; }
    internal long BlockCount { get; set; }
    internal long SparseBytes { get; set; }

    public bool HasFragment => FragmentIndex != SquashfsLayout.NoFragment;

    // Directories.
    internal uint DirectoryBlock { get; set; }
    internal int DirectoryOffset { get; set; }
    internal int IndexCount { get; set; }
    internal uint ParentInode { get; set; }

    /// <summary>Bytes of the directory listing itself (headers and entries).</summary>
    internal long ListingSize => Size > 3 ? Size - 3 : 0;

    /// <summary>Where the variable part begins: a file's block sizes, a symlink's target, a directory's index.</summary>
    internal MetadataCursor Tail { get; set; }
}
