using System.Text;
using Burrow.Core.Fuse;
using Burrow.Linux;

namespace Burrow.Tests.Fuse;

/// <summary>
/// An in-memory <see cref="IReadOnlyFileSystem"/> for the server's tests. Its ids deliberately include 0 and 1 and a
/// root that is neither, so the server's id mapping is exercised; Read returns at most 64 KiB per call, as a block-based
/// reader would, so the server's fill loop is too. Lookups, attributes, reads and listings allocate nothing.
/// </summary>
internal sealed class MemoryFileSystem : IReadOnlyFileSystem
{
    public const uint Dir = 0x4000, File = 0x8000, Link = 0xA000;
    private const int ReadChunk = 64 * 1024;

    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, ulong> _paths = new(StringComparer.Ordinal);
    private int _free;

    public MemoryFileSystem(uint rootUid = 0, uint rootGid = 0, long time = 1_700_000_000)
    {
        Time = time;
        // Ids 0..4 are ordinary nodes created on demand; the root is 5.
        for (int i = 0; i < 5; i++)
        {
            _nodes.Add(null!);
        }
        RootNode = 5;
        _nodes.Add(new Node(5, Dir | 0b111_101_101, rootUid, rootGid, time) { Children = [] });
        _paths[""] = 5;
    }

    public ulong RootNode { get; }

    public long Time { get; }

    public int ReadCalls;

    /// <summary>Nodes whose reads fail as a damaged image's would.</summary>
    public HashSet<ulong> Damaged { get; } = [];

    /// <summary>Nodes whose reads throw something unexpected.</summary>
    public HashSet<ulong> Broken { get; } = [];

    public ulong this[string path] => _paths[path.Trim('/')];

    public ulong AddDirectory(string path, uint mode = 0b111_101_101, uint uid = 0, uint gid = 0) =>
        Add(path, new Node(0, Dir | mode, uid, gid, Time) { Children = [] });

    public ulong AddFile(string path, byte[] content, uint mode = 0b110_100_100, uint uid = 0, uint gid = 0) =>
        Add(path, new Node(0, File | mode, uid, gid, Time) { Data = content });

    public ulong AddSymlink(string path, string target, uint uid = 0, uint gid = 0) =>
        Add(path, new Node(0, Link | 0b111_111_111, uid, gid, Time) { Target = Encoding.UTF8.GetBytes(target) });

    public void SetXattr(string path, string name, byte[] value) => _nodes[(int)this[path]].Xattrs[name] = value;

    private ulong Add(string path, Node node)
    {
        path = path.Trim('/');
        int slash = path.LastIndexOf('/');
        Node parent = _nodes[(int)_paths[slash < 0 ? "" : path[..slash]]];
        int free = _free < 5 ? _free++ : -1;
        ulong id = free >= 0 ? (ulong)free : (ulong)_nodes.Count;
        node.Id = id;
        if (free >= 0)
        {
            _nodes[free] = node;
        }
        else
        {
            _nodes.Add(node);
        }
        parent.Children!.Add((Encoding.UTF8.GetBytes(slash < 0 ? path : path[(slash + 1)..]), id));
        if ((node.Mode & 0xF000) == Dir)
        {
            parent.Links++;
        }
        _paths[path] = id;
        return id;
    }

    private Node Get(ulong node) =>
        node < (ulong)_nodes.Count && _nodes[(int)node] is Node n ? n : throw new FileSystemError(Errno.ENOENT, "no node " + node);

    public NodeAttributes GetAttributes(ulong node) => Get(node).Attributes;

    public bool TryLookup(ulong parent, ReadOnlySpan<byte> name, out ulong child, out NodeAttributes attributes)
    {
        Node p = Get(parent);
        if (p.Children is null)
        {
            throw new FileSystemError(Errno.ENOTDIR);
        }
        foreach ((byte[] n, ulong id) in p.Children)
        {
            if (name.SequenceEqual(n))
            {
                child = id;
                attributes = _nodes[(int)id].Attributes;
                return true;
            }
        }
        child = 0;
        attributes = default;
        return false;
    }

    public int Read(ulong node, long offset, Span<byte> destination)
    {
        Interlocked.Increment(ref ReadCalls);
        if (Damaged.Contains(node))
        {
            throw new InvalidDataException($"image.sqfs: data block at byte {4096 + offset} of node {node} does not decompress");
        }
        if (Broken.Contains(node))
        {
            throw new NullReferenceException("a defect");
        }
        byte[] data = Get(node).Data ?? throw new FileSystemError(Errno.EISDIR);
        if (offset >= data.Length)
        {
            return 0;
        }
        int n = (int)Math.Min(Math.Min(destination.Length, ReadChunk), data.Length - offset);
        data.AsSpan((int)offset, n).CopyTo(destination);
        return n;
    }

    public byte[] ReadLink(ulong node) => Get(node).Target ?? throw new FileSystemError(Errno.EINVAL);

    public void ReadDirectory(ulong node, long offset, DirectoryEntrySink sink)
    {
        List<(byte[] Name, ulong Id)> children = Get(node).Children ?? throw new FileSystemError(Errno.ENOTDIR);
        for (int i = (int)offset; i < children.Count; i++)
        {
            (byte[] name, ulong id) = children[i];
            if (!sink(new DirectoryEntry(name, id, _nodes[(int)id].Mode & 0xF000, i + 1)))
            {
                return;
            }
        }
    }

    public IReadOnlyList<byte[]> ListExtendedAttributes(ulong node) =>
        Get(node).Xattrs.Keys.Select(k => Encoding.UTF8.GetBytes(k)).ToArray();

    public byte[]? GetExtendedAttribute(ulong node, ReadOnlySpan<byte> name) =>
        Get(node).Xattrs.TryGetValue(Encoding.UTF8.GetString(name), out byte[]? v) ? v : null;

    public FileSystemStatistics GetStatistics() => new(131072, 1000, (ulong)_nodes.Count, 256);

    private sealed class Node(ulong id, uint mode, uint uid, uint gid, long time)
    {
        public ulong Id { get; set; } = id;
        public uint Mode { get; } = mode;
        public uint Links { get; set; } = (mode & 0xF000) == Dir ? 2u : 1u;
        public List<(byte[] Name, ulong Id)>? Children { get; init; }
        public byte[]? Data { get; init; }
        public byte[]? Target { get; init; }
        public Dictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);

        public NodeAttributes Attributes => new(Id + 1000, Mode, Links, uid, gid,
            (ulong)(Data?.Length ?? Target?.Length ?? 0), (ulong)((Data?.Length ?? 0) + 511) / 512, time, 0);
    }

    /// <summary>Deterministic content for a test file (the mount helper checks it by SHA-256).</summary>
    public static byte[] Pattern(int seed, int length)
    {
        var data = new byte[length];
        uint x = (uint)seed * 2654435761u + 1;
        for (int i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data[i] = (byte)x;
        }
        return data;
    }
}
