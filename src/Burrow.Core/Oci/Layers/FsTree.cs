using System.Formats.Tar;

namespace Burrow.Core.Oci.Layers;

internal enum NodeKind { Directory, Regular, Symlink, CharDevice, BlockDevice, Fifo }

/// <summary>
/// What a path holds in the merged image: type, ownership and mode exactly as the layer said (nobody is root
/// here, so nothing is ever chowned on disk), and for a regular file where its bytes are: which layer and which
/// entry of it, to be copied in the second pass, or inline bytes for generated metadata. Hard links share one inode.
/// </summary>
internal sealed class FsInode
{
    public NodeKind Kind { get; init; }
    public UnixFileMode Mode { get; set; }
    public int Uid { get; set; }
    public int Gid { get; set; }
    public DateTimeOffset MTime { get; set; }
    public string? LinkTarget { get; init; }
    public int DevMajor { get; init; }
    public int DevMinor { get; init; }
    public Dictionary<string, string>? Xattrs { get; set; }
    public int DataLayer { get; init; } = -1;
    public int DataOrdinal { get; init; } = -1;
    public long Size { get; init; }
    public byte[]? InlineData { get; init; }

    /// <summary>Paths that reach this inode in the final tree, filled just before emission; the first gets the data.</summary>
    public List<string>? Paths { get; set; }
}

/// <summary>A name in a directory. <see cref="LastLayer"/> is the last layer that declared or passed through it, which is what whiteouts and opaque markers test against.</summary>
internal sealed class FsNode(FsInode inode, int lastLayer)
{
    public FsInode Inode { get; set; } = inode;
    public int LastLayer { get; set; } = lastLayer;
    public Dictionary<string, FsNode>? Children { get; set; } = inode.Kind == NodeKind.Directory ? new(StringComparer.Ordinal) : null;

    public bool IsDirectory => Inode.Kind == NodeKind.Directory;
}

/// <summary>The merged file system of an image, built from layer headers only (no file data, nothing written to disk).</summary>
internal sealed class FsTree
{
    public FsNode Root { get; } = new(new FsInode { Kind = NodeKind.Directory, Mode = (UnixFileMode)0b111_101_101 }, -1);

    public static NodeKind? KindOf(TarEntryType t) => t switch
    {
        TarEntryType.Directory => NodeKind.Directory,
        TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => NodeKind.Regular,
        TarEntryType.SymbolicLink => NodeKind.Symlink,
        TarEntryType.CharacterDevice => NodeKind.CharDevice,
        TarEntryType.BlockDevice => NodeKind.BlockDevice,
        TarEntryType.Fifo => NodeKind.Fifo,
        _ => null,
    };

    /// <summary>Finds an existing node by normalised components, or null; a symbolic link on the way is not followed.</summary>
    public FsNode? Find(IReadOnlyList<string> components)
    {
        FsNode node = Root;
        foreach (string c in components)
        {
            if (node.Children is null || !node.Children.TryGetValue(c, out FsNode? child))
            {
                return null;
            }
            node = child;
        }
        return node;
    }

    /// <summary>Every path of the tree in a stable pre-order (parents before children, names sorted ordinally).</summary>
    public IEnumerable<(string Path, FsNode Node)> Walk()
    {
        var stack = new Stack<(string, FsNode)>();
        stack.Push(("", Root));
        while (stack.Count > 0)
        {
            (string path, FsNode node) = stack.Pop();
            yield return (path, node);
            if (node.Children is { Count: > 0 } children)
            {
                foreach (KeyValuePair<string, FsNode> kv in children.OrderByDescending(k => k.Key, StringComparer.Ordinal))
                {
                    stack.Push((path.Length == 0 ? kv.Key : path + "/" + kv.Key, kv.Value));
                }
            }
        }
    }
}
