using System.Formats.Tar;

namespace Burrow.Core.Oci.Layers;

/// <summary>
/// Writes the merged tree as one PAX tar stream with the layers' real owners, modes, device numbers and xattrs:
/// first every directory, link, device and generated file (no layer data needed), then each live regular file's
/// bytes copied straight from its layer in a second sequential pass, then the extra names of hard-linked files.
/// Nothing is extracted, so nothing needs privilege and nothing can land outside the image.
/// </summary>
internal sealed class FlatTarWriter(FsTree tree, Stream output)
{
    /// <summary>Emits the tree; <paramref name="openLayer"/> opens layer i as its uncompressed tar for the data pass.</summary>
    public void Write(int layerCount, Func<int, Stream> openLayer)
    {
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var dataByEntry = new Dictionary<(int, int), FsInode>();
        var links = new List<(string Path, string Target)>();

        foreach ((string path, FsNode node) in tree.Walk())
        {
            FsInode inode = node.Inode;
            if (inode.Kind == NodeKind.Directory)
            {
                writer.WriteEntry(Entry(TarEntryType.Directory, path.Length == 0 ? "./" : path + "/", inode));
                continue;
            }
            if (inode.Paths is { Count: > 0 } paths)
            {
                links.Add((path, paths[0]));
                paths.Add(path);
                continue;
            }
            inode.Paths = [path];
            switch (inode.Kind)
            {
                case NodeKind.Regular when inode.InlineData is { } bytes:
                    PaxTarEntry generated = Entry(TarEntryType.RegularFile, path, inode);
                    generated.DataStream = new MemoryStream(bytes, writable: false);
                    writer.WriteEntry(generated);
                    break;
                case NodeKind.Regular:
                    dataByEntry[(inode.DataLayer, inode.DataOrdinal)] = inode;
                    break;
                default:
                    writer.WriteEntry(Entry(TypeOf(inode.Kind), path, inode));
                    break;
            }
        }

        for (int layer = 0; layer < layerCount; layer++)
        {
            if (!dataByEntry.Keys.Any(k => k.Item1 == layer))
            {
                continue; // Everything this layer wrote was replaced or removed later: no need to read it again.
            }
            using Stream tar = openLayer(layer);
            using var reader = new TarReader(tar, leaveOpen: true);
            int ordinal = 0;
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                if (dataByEntry.TryGetValue((layer, ordinal), out FsInode? inode))
                {
                    PaxTarEntry file = Entry(TarEntryType.RegularFile, inode.Paths![0], inode);
                    file.DataStream = entry.DataStream is null ? null : new KnownLengthStream(entry.DataStream, entry.Length);
                    writer.WriteEntry(file);
                }
                ordinal++;
            }
        }

        foreach ((string path, string target) in links)
        {
            var link = new PaxTarEntry(TarEntryType.HardLink, path) { LinkName = target };
            writer.WriteEntry(link);
        }
    }

    private static TarEntryType TypeOf(NodeKind kind) => kind switch
    {
        NodeKind.Symlink => TarEntryType.SymbolicLink,
        NodeKind.CharDevice => TarEntryType.CharacterDevice,
        NodeKind.BlockDevice => TarEntryType.BlockDevice,
        NodeKind.Fifo => TarEntryType.Fifo,
        NodeKind.Directory => TarEntryType.Directory,
        _ => TarEntryType.RegularFile,
    };

    private static PaxTarEntry Entry(TarEntryType type, string name, FsInode inode)
    {
        IEnumerable<KeyValuePair<string, string>> attrs = inode.Xattrs is { Count: > 0 } x
            ? x.Select(kv => new KeyValuePair<string, string>("SCHILY.xattr." + kv.Key, kv.Value))
            : [];
        var e = new PaxTarEntry(type, name, attrs)
        {
            Mode = inode.Mode,
            Uid = inode.Uid,
            Gid = inode.Gid,
            ModificationTime = inode.MTime,
        };
        if (inode.LinkTarget is { } target)
        {
            e.LinkName = target;
        }
        if (type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
        {
            e.DeviceMajor = inode.DevMajor;
            e.DeviceMinor = inode.DevMinor;
        }
        return e;
    }
}
