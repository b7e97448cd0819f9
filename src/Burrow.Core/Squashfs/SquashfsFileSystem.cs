using Burrow.Core.Fuse;
using Burrow.Linux;

namespace Burrow.Core.Squashfs;

/// <summary>
/// A <see cref="SquashfsImage"/> as the FUSE server sees it: nodes named by inode references, errno for
/// requests that do not fit the node, <see cref="InvalidDataException"/> for damage.
/// </summary>
/// <remarks>
/// Node ids: the root is 1 (FUSE's root id), every other node is its inode reference + 2, so no id is 0 or 1
/// and each decodes to its inode with no table. A reference is the block's position in the inode table shifted
/// left 16; the superblock check keeps images below 2^44 bytes, so ids stay below 2^60.
/// </remarks>
public sealed class SquashfsFileSystem : IReadOnlyFileSystem, IDisposable
{
    private const ulong RootId = 1, IdBias = 2;
    private const int ESTALE = 116;
    private readonly bool _ownsImage;

    public SquashfsFileSystem(SquashfsImage image, bool ownsImage = true)
    {
        Image = image;
        _ownsImage = ownsImage;
    }

    public SquashfsImage Image { get; }

    public ulong RootNode => RootId;

    /// <summary>The id a node of this reference has (the root's reference gives the root id).</summary>
    public ulong NodeOf(ulong reference) => reference == Image.Superblock.RootInode ? RootId : reference + IdBias;

    public NodeAttributes GetAttributes(ulong node) => Attributes(Inode(node));

    public bool TryLookup(ulong parent, ReadOnlySpan<byte> name, out ulong child, out NodeAttributes attributes)
    {
        SquashfsInode directory = Directory(parent);
        child = 0;
        attributes = default;
        if (!Image.TryLookup(directory, name, out ulong reference))
        {
            return false;
        }
        SquashfsInode inode = Image.ReadInode(reference);
        child = NodeOf(reference);
        attributes = Attributes(inode);
        return true;
    }

    public int Read(ulong node, long offset, Span<byte> destination)
    {
        SquashfsInode inode = Inode(node);
        if (!inode.IsRegularFile)
        {
            throw new FileSystemError(inode.IsDirectory ? Errno.EISDIR : Errno.EINVAL, $"node {node} is not a regular file");
        }
        if (offset < 0)
        {
            throw new FileSystemError(Errno.EINVAL, "negative offset");
        }
        return Image.ReadFile(inode, offset, destination);
    }

    public byte[] ReadLink(ulong node)
    {
        SquashfsInode inode = Inode(node);
        return inode.IsSymlink ? Image.ReadSymlink(inode) : throw new FileSystemError(Errno.EINVAL, $"node {node} is not a symlink");
    }

    public void ReadDirectory(ulong node, long offset, DirectoryEntrySink sink)
    {
        SquashfsInode directory = Directory(node);
        if (offset < 0)
        {
            throw new FileSystemError(Errno.EINVAL, "negative directory offset");
        }
        Image.ReadDirectory(directory, offset, (in RawDirectoryEntry e) =>
            sink(new DirectoryEntry(e.Name, NodeOf(e.Reference), SquashfsLayout.TypeBits(e.Type), e.NextOffset)));
    }

    public IReadOnlyList<byte[]> ListExtendedAttributes(ulong node) => Image.ListXattrNames(Inode(node));

    public byte[]? GetExtendedAttribute(ulong node, ReadOnlySpan<byte> name) => Image.GetXattr(Inode(node), name);

    public FileSystemStatistics GetStatistics()
    {
        SquashfsSuperblock s = Image.Superblock;
        return new FileSystemStatistics(s.BlockSize, (ulong)((s.BytesUsed + s.BlockSize - 1) / s.BlockSize), s.InodeCount,
            SquashfsLayout.MaxNameLength);
    }

    public void Dispose()
    {
        if (_ownsImage)
        {
            Image.Dispose();
        }
    }

    /// <summary>st_* as the image stores them; st_blocks counts the bytes a file's data takes (sparse parts excluded).</summary>
    public static NodeAttributes Attributes(SquashfsInode inode)
    {
        ulong size = (ulong)inode.Size;
        ulong blocks = inode.IsRegularFile ? ((ulong)(inode.Size - inode.SparseBytes) + 511) / 512 : 0;
        return new NodeAttributes(inode.InodeNumber, inode.Mode, inode.LinkCount, inode.Uid, inode.Gid, size, blocks,
            inode.ModificationTime, inode.Device);
    }

    private SquashfsInode Inode(ulong node)
    {
        if (node == RootId)
        {
            return Image.Root;
        }
        if (node < IdBias || node - IdBias > (ulong)long.MaxValue)
        {
            throw new FileSystemError(ESTALE, $"node {node} was never given out");
        }
        return Image.ReadInode(node - IdBias);
    }

    private SquashfsInode Directory(ulong node)
    {
        SquashfsInode inode = Inode(node);
        return inode.IsDirectory ? inode : throw new FileSystemError(Errno.ENOTDIR, $"node {node} is not a directory");
    }
}
