namespace Burrow.Core.Fuse;

/// <summary>
/// What the FUSE server needs of a file system, and all it knows of one: an immutable tree of nodes named by
/// 64-bit ids that the file system chooses. The squashfs reader implements it; the server (docs/ARCHITECTURE.md,
/// "Serving images") turns the kernel's requests into these calls.
/// </summary>
/// <remarks>
/// <para>Node ids are self-describing and stable for the life of the object: the server keeps no table of them,
/// hands them to the kernel as they are (the root as FUSE's node 1) and may ask about any id it was given
/// earlier, in any order, from several threads at once. Ids must stay below 2^62.</para>
/// <para>Every member may be called concurrently. A member fails by throwing <see cref="FileSystemError"/> with the
/// errno the kernel should see (ENOENT, ENOTDIR, EINVAL, ENODATA, ERANGE…), or <see cref="InvalidDataException"/> when
/// the backing image is damaged: the server answers EIO and says once, as a WARNING, what the exception names.</para>
/// </remarks>
public interface IReadOnlyFileSystem
{
    /// <summary>The id of the root directory.</summary>
    ulong RootNode { get; }

    NodeAttributes GetAttributes(ulong node);

    /// <summary>The child called <paramref name="name"/> of directory <paramref name="parent"/>, or false if there is none.</summary>
    bool TryLookup(ulong parent, ReadOnlySpan<byte> name, out ulong child, out NodeAttributes attributes);

    /// <summary>Reads file bytes at <paramref name="offset"/>; returns how many were read (0 at or past the end).</summary>
    int Read(ulong node, long offset, Span<byte> destination);

    /// <summary>The target of a symbolic link, as stored (not resolved).</summary>
    byte[] ReadLink(ulong node);

    /// <summary>
    /// Lists a directory from <paramref name="offset"/> (0: the start; otherwise a <see cref="DirectoryEntry.NextOffset"/>
    /// this file system gave). Entries are "." and ".." free; each is handed to <paramref name="sink"/>, and the listing
    /// stops when the sink returns false (its buffer is full) or the directory ends.
    /// </summary>
    void ReadDirectory(ulong node, long offset, DirectoryEntrySink sink);

    /// <summary>Names of the node's extended attributes (namespace included, e.g. "user.comment"), no NULs.</summary>
    IReadOnlyList<byte[]> ListExtendedAttributes(ulong node);

    /// <summary>An extended attribute's value, or null when the node has none of that name (ENODATA).</summary>
    byte[]? GetExtendedAttribute(ulong node, ReadOnlySpan<byte> name);

    FileSystemStatistics GetStatistics();
}

/// <summary>Receives one directory entry; returns false to stop the listing (the entry is then not consumed).</summary>
public delegate bool DirectoryEntrySink(in DirectoryEntry entry);

/// <summary>One entry of a directory listing.</summary>
/// <param name="Name">The entry's name, valid only during the call.</param>
/// <param name="Node">The node the entry names.</param>
/// <param name="Mode">The node's type bits (S_IFMT of st_mode), as the directory stores them.</param>
/// <param name="NextOffset">Where a listing resumes after this entry; greater than zero.</param>
public readonly ref struct DirectoryEntry(ReadOnlySpan<byte> Name, ulong Node, uint Mode, long NextOffset)
{
    public ReadOnlySpan<byte> Name { get; } = Name;
    public ulong Node { get; } = Node;
    public uint Mode { get; } = Mode;
    public long NextOffset { get; } = NextOffset;
}

/// <summary>A node's attributes as the image stores them; the kernel maps the ids through the container's user namespace.</summary>
/// <param name="Inode">st_ino: equal for hard links of one file.</param>
/// <param name="Mode">st_mode, type bits (S_IFMT) included.</param>
/// <param name="Blocks">st_blocks, in 512-byte units.</param>
/// <param name="ModificationTime">Seconds since the epoch (used for atime, mtime and ctime alike).</param>
/// <param name="Device">st_rdev of character and block devices, in the kernel's new encoding (major/minor as makedev does).</param>
public readonly record struct NodeAttributes(
    ulong Inode, uint Mode, uint LinkCount, uint Uid, uint Gid, ulong Size, ulong Blocks, long ModificationTime, uint Device);

/// <summary>What statfs reports.</summary>
public readonly record struct FileSystemStatistics(uint BlockSize, ulong Blocks, ulong Files, uint MaxNameLength);

/// <summary>A failure with the errno the kernel should return for the request (not a damaged image: that is InvalidDataException).</summary>
public sealed class FileSystemError : Exception
{
    public FileSystemError(int errno, string? detail = null)
        : base(detail ?? "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture))
    {
        Errno = errno;
    }

    public int Errno { get; }
}
