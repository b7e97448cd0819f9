using System.Text;
using D = Burrow.Core.Sif.SifLayout.Descriptor;

namespace Burrow.Core.Sif;

/// <summary>
/// The checks a loaded image must pass before anything trusts its numbers. The reference only checks the
/// magic and version; Burrow also refuses tables and objects outside the file, overlaps, duplicate ids and
/// dangling links, so that no later read can run wild. Each failure names the image and the defect.
/// </summary>
internal static class SifValidator
{
    public static SifHeader ReadHeader(SifStorage storage, string name)
    {
        long length = storage.Length;
        if (length == 0)
        {
            throw Bad(name, "the file is empty (0 bytes)");
        }
        if (length < SifLayout.HeaderSize)
        {
            throw Bad(name, $"truncated header: the file has {length} bytes, a SIF header needs {SifLayout.HeaderSize}");
        }
        Span<byte> raw = stackalloc byte[SifLayout.HeaderSize];
        storage.ReadExactly(0, raw);
        if (!raw.Slice(SifLayout.Header.Magic, SifLayout.Header.MagicLength).SequenceEqual(SifLayout.Magic))
        {
            throw Bad(name, "wrong magic: bytes 32..41 are not \"SIF_MAGIC\"", "the file is not a SIF image");
        }
        if (!raw.Slice(SifLayout.Header.Version, SifLayout.Header.VersionLength).SequenceEqual(SifLayout.Version))
        {
            string v = Printable(raw.Slice(SifLayout.Header.Version, SifLayout.Header.VersionLength));
            throw Bad(name, $"unsupported SIF version \"{v}\" (only 01 exists)");
        }
        SifHeader h = SifHeader.Decode(raw);
        CheckHeader(h, length, name);
        return h;
    }

    private static void CheckHeader(SifHeader h, long length, string name)
    {
        if (h.DescriptorsTotal < 0)
        {
            throw Bad(name, $"negative descriptor count {h.DescriptorsTotal}");
        }
        if (h.DescriptorsTotal > SifLayout.MaxDescriptors)
        {
            throw Bad(name, $"absurd descriptor count {h.DescriptorsTotal} (more than {SifLayout.MaxDescriptors})");
        }
        if (h.DescriptorsFree < 0 || h.DescriptorsFree > h.DescriptorsTotal)
        {
            throw Bad(name, $"free descriptor count {h.DescriptorsFree} is outside 0..{h.DescriptorsTotal}");
        }
        long tableBytes = h.DescriptorsTotal * SifLayout.DescriptorSize;
        if (h.DescriptorsOffset < SifLayout.HeaderSize)
        {
            throw Bad(name, $"descriptor table offset {h.DescriptorsOffset} overlaps the 128-byte header");
        }
        if (h.DescriptorsSize < tableBytes)
        {
            throw Bad(name, $"descriptor table size {h.DescriptorsSize} is smaller than {h.DescriptorsTotal} descriptors of {SifLayout.DescriptorSize} bytes");
        }
        if (h.DescriptorsOffset > length - tableBytes)
        {
            throw Bad(name, $"descriptor table ({h.DescriptorsTotal} descriptors at offset {h.DescriptorsOffset}) runs past the end of the file ({length} bytes)");
        }
        if (h.DataOffset < h.DescriptorsOffset || h.DataOffset - h.DescriptorsOffset < h.DescriptorsSize)
        {
            throw Bad(name, $"data offset {h.DataOffset} lies inside the descriptor table ({h.DescriptorsOffset}+{h.DescriptorsSize})");
        }
        if (h.DataSize < 0 || h.DataOffset > length || h.DataSize > length - h.DataOffset)
        {
            throw Bad(name, $"data section ({h.DataSize} bytes at offset {h.DataOffset}) runs past the end of the file ({length} bytes)");
        }
    }

    /// <summary>Decodes the table into slots (null = unused) and checks every used descriptor and their relations.</summary>
    public static SifDescriptor?[] ReadDescriptors(SifStorage storage, SifHeader h, string name)
    {
        int total = (int)h.DescriptorsTotal;
        byte[] table = new byte[total * SifLayout.DescriptorSize];
        storage.ReadExactly(h.DescriptorsOffset, table);
        long length = storage.Length;
        var slots = new SifDescriptor?[total];
        var ids = new HashSet<uint>();
        var used = new List<SifDescriptor>();
        for (int i = 0; i < total; i++)
        {
            ReadOnlySpan<byte> slot = table.AsSpan(i * SifLayout.DescriptorSize, SifLayout.DescriptorSize);
            byte flag = slot[D.Used];
            if (flag == 0)
            {
                continue;
            }
            if (flag != 1)
            {
                throw Bad(name, $"descriptor slot {i + 1}: used flag is {flag}, not 0 or 1");
            }
            SifDescriptor d = SifDescriptor.Decode(slot);
            CheckDescriptor(d, i, h, length, name);
            if (!ids.Add(d.Id))
            {
                throw Bad(name, $"duplicate object id {d.Id} (descriptor slot {i + 1})");
            }
            slots[i] = d;
            used.Add(d);
        }
        CheckRelations(used, name);
        return slots;
    }

    private static void CheckDescriptor(SifDescriptor d, int slot, SifHeader h, long length, string name)
    {
        string what = $"object {d.Id} (descriptor slot {slot + 1})";
        if (d.Id == 0)
        {
            throw Bad(name, $"descriptor slot {slot + 1} is used but has object id 0");
        }
        if (d.Size < 0)
        {
            throw Bad(name, $"{what}: negative size {d.Size}");
        }
        if (d.Offset < h.DataOffset)
        {
            throw Bad(name, $"{what}: offset {d.Offset} lies before the data section ({h.DataOffset})");
        }
        if (d.Offset > length || d.Size > length - d.Offset)
        {
            throw Bad(name, $"{what}: {d.Size} bytes at offset {d.Offset} run past the end of the file ({length} bytes)");
        }
        if (d.SizeWithPadding < d.Size)
        {
            throw Bad(name, $"{what}: size with padding {d.SizeWithPadding} is smaller than the size {d.Size}");
        }
        ReadOnlySpan<byte> raw = d.RawName;
        if (raw[^1] != 0)
        {
            throw Bad(name, $"{what}: the name is not NUL-terminated within {D.NameLength} bytes");
        }
        if (!System.Text.Unicode.Utf8.IsValid(raw[..SifDescriptor.TrimmedLength(raw)]))
        {
            throw Bad(name, $"{what}: the name is not valid UTF-8");
        }
    }

    private static void CheckRelations(List<SifDescriptor> used, string name)
    {
        var byOffset = used.Where(d => d.Size > 0).OrderBy(d => d.Offset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            SifDescriptor a = byOffset[i - 1], b = byOffset[i];
            if (b.Offset < a.Offset + a.Size)
            {
                throw Bad(name, $"object {b.Id} (bytes {b.Offset}..{b.Offset + b.Size}) overlaps object {a.Id} (bytes {a.Offset}..{a.Offset + a.Size})");
            }
        }
        var ids = used.Select(d => d.Id).ToHashSet();
        var groups = used.Where(d => d.GroupId != 0).Select(d => d.GroupId).ToHashSet();
        foreach (SifDescriptor d in used)
        {
            if (d.LinkedId == 0)
            {
                continue;
            }
            if (d.LinkIsGroup ? !groups.Contains(d.LinkedId) : !ids.Contains(d.LinkedId))
            {
                throw Bad(name, $"object {d.Id} links to {(d.LinkIsGroup ? "group" : "object")} {d.LinkedId}, which does not exist");
            }
        }
        SifDescriptor[] prim = used.Where(d => d.PartitionType == SifPartitionType.PrimarySystem).ToArray();
        if (prim.Length > 1)
        {
            throw Bad(name, $"objects {string.Join(" and ", prim.Select(d => d.Id))} are both primary system partitions");
        }
    }

    internal static SifFormatException Bad(string name, string defect, string? hint = null) =>
        new($"invalid SIF image {name}: {defect}", hint);

    private static string Printable(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder();
        foreach (byte c in b)
        {
            if (c == 0)
            {
                break;
            }
            sb.Append(c is >= 0x20 and < 0x7f ? (char)c : '?');
        }
        return sb.ToString();
    }
}
