using System.Formats.Tar;

namespace Burrow.Core.Oci.Layers;

/// <summary>
/// Applies one layer's headers to the merged tree by the OCI layer rules (image-spec layer.md): <c>.wh.NAME</c>
/// removes NAME from lower layers, <c>.wh..wh..opq</c> hides everything lower layers put in its directory, a
/// directory over a directory merges, anything else replaces. Entries that could reach outside the root are
/// refused with the layer digest and the entry name: absolute names, <c>..</c>, a symbolic link as a parent,
/// a root entry that is not a directory (umoci CVE-2021-29136), and hard links to a path that is not in the image.
/// </summary>
internal sealed class LayerApplier(FsTree tree, int layer, string layerName)
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private static readonly UnixFileMode DefaultDirMode = (UnixFileMode)0b111_101_101;

    /// <summary>Reads every header of the layer (data is skipped, not stored) and applies it.</summary>
    public void ApplyAll(TarReader reader)
    {
        int ordinal = 0;
        while (true)
        {
            TarEntry? entry;
            try
            {
                entry = reader.GetNextEntry(copyData: false);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException or EndOfStreamException)
            {
                throw new ImageFormatException($"layer {layerName}: the tar stream is corrupt after {ordinal} entries: {e.Message}", null, e);
            }
            if (entry is null)
            {
                return;
            }
            Apply(entry, ordinal);
            ordinal++;
        }
    }

    public void Apply(TarEntry entry, int ordinal)
    {
        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
        {
            return;
        }
        if (!EntryName.TrySplit(entry.Name, out List<string> parts, out string? why))
        {
            throw Refuse(entry.Name, why!);
        }
        if (parts.Count > 0 && parts[^1].StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            ApplyWhiteout(entry.Name, parts);
            return;
        }
        if (parts.Count == 0)
        {
            if (entry.EntryType != TarEntryType.Directory)
            {
                throw Refuse(entry.Name, $"the image root would become a {Describe(entry.EntryType)}");
            }
            SetDirectoryMetadata(tree.Root.Inode, entry);
            tree.Root.LastLayer = layer;
            return;
        }

        FsNode parent = ResolveParent(entry.Name, parts, create: true)!;
        string name = parts[^1];
        parent.Children!.TryGetValue(name, out FsNode? existing);

        if (entry.EntryType == TarEntryType.HardLink)
        {
            FsInode target = ResolveHardLinkTarget(entry.Name, entry.LinkName);
            parent.Children[name] = new FsNode(target, layer);
            return;
        }

        NodeKind? kind = FsTree.KindOf(entry.EntryType);
        if (kind is null)
        {
            // Sparse files, multi-volume headers and the like are not produced by image builders; saying so beats guessing.
            throw new ImageFormatException($"layer {layerName}: entry \"{entry.Name}\" has the unsupported tar type {entry.EntryType}");
        }
        if (kind == NodeKind.Directory && existing is { IsDirectory: true })
        {
            SetDirectoryMetadata(existing.Inode, entry);
            existing.LastLayer = layer;
            return;
        }
        var inode = new FsInode
        {
            Kind = kind.Value,
            Mode = entry.Mode,
            Uid = entry.Uid,
            Gid = entry.Gid,
            MTime = entry.ModificationTime,
            LinkTarget = kind == NodeKind.Symlink ? entry.LinkName : null,
            DevMajor = entry is PosixTarEntry p && kind is NodeKind.CharDevice or NodeKind.BlockDevice ? p.DeviceMajor : 0,
            DevMinor = entry is PosixTarEntry q && kind is NodeKind.CharDevice or NodeKind.BlockDevice ? q.DeviceMinor : 0,
            Xattrs = XattrsOf(entry),
            DataLayer = kind == NodeKind.Regular ? layer : -1,
            DataOrdinal = kind == NodeKind.Regular ? ordinal : -1,
            Size = kind == NodeKind.Regular ? entry.Length : 0,
        };
        parent.Children[name] = new FsNode(inode, layer);
    }

    private void ApplyWhiteout(string entryName, List<string> parts)
    {
        string marker = parts[^1];
        FsNode? parent = ResolveParent(entryName, parts, create: false);
        if (parent is null)
        {
            return; // Whiting out inside a directory that does not exist hides nothing.
        }
        if (marker == OpaqueMarker)
        {
            PruneLower(parent);
            return;
        }
        if (marker.StartsWith(WhiteoutPrefix + WhiteoutPrefix, StringComparison.Ordinal))
        {
            return; // Other .wh..wh. names are AUFS bookkeeping (e.g. .wh..wh.plnk), not whiteouts.
        }
        string victim = marker[WhiteoutPrefix.Length..];
        if (victim.Length == 0 || victim == "." || victim == "..")
        {
            throw Refuse(entryName, "the whiteout names no file");
        }
        if (!parent.Children!.TryGetValue(victim, out FsNode? node))
        {
            return;
        }
        if (node.LastLayer < layer)
        {
            parent.Children.Remove(victim);
        }
        else if (node.IsDirectory)
        {
            // Declared again in this very layer: the whiteout removes only what lower layers had in it.
            PruneLower(node);
        }
    }

    /// <summary>Removes from a directory everything that only lower layers put there, keeping what this layer wrote.</summary>
    private void PruneLower(FsNode dir)
    {
        Dictionary<string, FsNode> children = dir.Children!;
        foreach ((string name, FsNode child) in children.ToList())
        {
            if (child.LastLayer < layer)
            {
                children.Remove(name);
            }
            else if (child.IsDirectory)
            {
                PruneLower(child);
            }
        }
    }

    /// <summary>
    /// Walks to the directory that will hold the entry. A symbolic link on the way is refused, never followed: that
    /// is the Charliecloud 0.18 attack (a link planted by one layer, written through by the next). A file on the way is
    /// replaced by a directory, as extracting the layer over the lower ones would have to.
    /// </summary>
    private FsNode? ResolveParent(string entryName, List<string> parts, bool create)
    {
        FsNode node = tree.Root;
        for (int i = 0; i < parts.Count - 1; i++)
        {
            string c = parts[i];
            if (node.Children!.TryGetValue(c, out FsNode? child))
            {
                if (child.Inode.Kind == NodeKind.Symlink)
                {
                    throw Refuse(entryName, $"its parent \"{string.Join('/', parts.Take(i + 1))}\" is a symbolic link (to \"{child.Inode.LinkTarget}\")");
                }
                if (!child.IsDirectory)
                {
                    if (!create)
                    {
                        return null;
                    }
                    child = NewImplicitDirectory();
                    node.Children[c] = child;
                }
            }
            else
            {
                if (!create)
                {
                    return null;
                }
                child = NewImplicitDirectory();
                node.Children[c] = child;
            }
            if (create)
            {
                child.LastLayer = layer;
            }
            node = child;
        }
        return node;
    }

    private FsInode ResolveHardLinkTarget(string entryName, string linkName)
    {
        if (!EntryName.TrySplit(linkName, out List<string> parts, out string? why) || parts.Count == 0)
        {
            throw Refuse(entryName, $"it is a hard link to \"{linkName}\", outside the image ({why ?? "the root itself"})");
        }
        FsNode node = tree.Root;
        for (int i = 0; i < parts.Count; i++)
        {
            if (!node.IsDirectory || !node.Children!.TryGetValue(parts[i], out FsNode? child))
            {
                throw Refuse(entryName, $"it is a hard link to \"{linkName}\", which is not in the image");
            }
            if (i < parts.Count - 1 && child.Inode.Kind == NodeKind.Symlink)
            {
                throw Refuse(entryName, $"it is a hard link through the symbolic link \"{string.Join('/', parts.Take(i + 1))}\"");
            }
            node = child;
        }
        if (node.IsDirectory)
        {
            throw Refuse(entryName, $"it is a hard link to the directory \"{linkName}\"");
        }
        return node.Inode;
    }

    private FsNode NewImplicitDirectory() =>
        new(new FsInode { Kind = NodeKind.Directory, Mode = DefaultDirMode, MTime = DateTimeOffset.UnixEpoch }, layer);

    private void SetDirectoryMetadata(FsInode inode, TarEntry entry)
    {
        inode.Mode = entry.Mode;
        inode.Uid = entry.Uid;
        inode.Gid = entry.Gid;
        inode.MTime = entry.ModificationTime;
        inode.Xattrs = XattrsOf(entry);
    }

    private const string XattrKeyPrefix = "SCHILY.xattr.";

    // System.Formats.Tar decodes PAX values as UTF-8, so a binary xattr value (security.capability,
    // ACLs) arrives with its invalid bytes replaced by U+FFFD. Writing that on would give the file
    // a corrupt attribute; leaving it out is the honest choice, and it is said, never silent.
    private const char ReplacementCharacter = '\uFFFD';

    private Dictionary<string, string>? XattrsOf(TarEntry entry)
    {
        if (entry is not PaxTarEntry pax)
        {
            return null;
        }
        Dictionary<string, string>? result = null;
        foreach ((string key, string value) in pax.ExtendedAttributes)
        {
            if (key.StartsWith(XattrKeyPrefix, StringComparison.Ordinal) && value.Contains(ReplacementCharacter))
            {
                Diagnostics.Log.Warning($"layer {layerName}: \"{entry.Name}\": extended attribute {key[XattrKeyPrefix.Length..]} has a binary value that cannot be carried over; it is left out");
                continue;
            }
            if (key.StartsWith(XattrKeyPrefix, StringComparison.Ordinal))
            {
                (result ??= new(StringComparer.Ordinal))[key[XattrKeyPrefix.Length..]] = value;
            }
        }
        return result;
    }

    private static string Describe(TarEntryType t) => t switch
    {
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.HardLink => "hard link",
        _ => t.ToString(),
    };

    private ImageFormatException Refuse(string entryName, string why) =>
        new($"layer {layerName}: refusing entry \"{entryName}\": {why}",
            "the image is malformed or malicious; nothing was written outside the work directory");
}
