using System.Buffers.Binary;
using System.Text;
using L = Burrow.Core.Sif.SifLayout.Descriptor;

namespace Burrow.Core.Sif;

/// <summary>
/// One used descriptor slot: what an object is and where its bytes are. Values are kept as stored
/// (raw group and link words, Unix-second times, the 384-byte Extra area) so that writing it back is
/// byte-exact; the typed properties decode them as the reference does.
/// </summary>
public sealed class SifDescriptor
{
    private readonly byte[] _name;
    private readonly byte[] _extra;

    internal SifDescriptor(int rawDataType, uint id, uint rawGroupId, uint rawLinkedId, long offset, long size, long sizeWithPadding,
        long createdAt, long modifiedAt, long uid, long gid, byte[] name, byte[] extra)
    {
        RawDataType = rawDataType;
        Id = id;
        RawGroupId = rawGroupId;
        RawLinkedId = rawLinkedId;
        Offset = offset;
        Size = size;
        SizeWithPadding = sizeWithPadding;
        CreatedAtUnix = createdAt;
        ModifiedAtUnix = modifiedAt;
        Uid = uid;
        Gid = gid;
        _name = name;
        _extra = extra;
    }

    public int RawDataType { get; }

    public SifDataType Type => (SifDataType)RawDataType;

    /// <summary>Object ID (slot index + 1 when written by the reference or Burrow).</summary>
    public uint Id { get; }

    public uint RawGroupId { get; }

    public uint RawLinkedId { get; }

    /// <summary>The group number, 0 for none.</summary>
    public uint GroupId => RawGroupId & ~SifLayout.GroupMask;

    /// <summary>The linked object or group number, 0 for none; see <see cref="LinkIsGroup"/>.</summary>
    public uint LinkedId => RawLinkedId & ~SifLayout.GroupMask;

    public bool LinkIsGroup => (RawLinkedId & SifLayout.GroupMask) == SifLayout.GroupMask;

    /// <summary>Absolute file offset of the data.</summary>
    public long Offset { get; }

    public long Size { get; }

    /// <summary>Alignment padding before the object plus its size.</summary>
    public long SizeWithPadding { get; }

    public long CreatedAtUnix { get; }

    public long ModifiedAtUnix { get; }

    /// <summary>Null when the stored time is Go's zero time (deterministic images).</summary>
    public DateTimeOffset? CreatedAt => SifTime.ToDateTime(CreatedAtUnix);

    public DateTimeOffset? ModifiedAt => SifTime.ToDateTime(ModifiedAtUnix);

    /// <summary>Deprecated owner fields; new writers store 0, legacy images 1000.</summary>
    public long Uid { get; }

    public long Gid { get; }

    /// <summary>The name with trailing NULs trimmed, as the reference reads it (validated as UTF-8 with a terminating NUL on load).</summary>
    public string Name => Encoding.UTF8.GetString(_name, 0, TrimmedLength(_name));

    internal static int TrimmedLength(ReadOnlySpan<byte> raw)
    {
        int end = raw.Length;
        while (end > 0 && raw[end - 1] == 0)
        {
            end--;
        }
        return end;
    }

    public ReadOnlySpan<byte> RawName => _name;

    /// <summary>The 384-byte type-specific metadata area.</summary>
    public ReadOnlySpan<byte> Extra => _extra;

    public bool IsPartition => Type == SifDataType.Partition;

    public SifFsType? FsType => IsPartition ? (SifFsType)BinaryPrimitives.ReadInt32LittleEndian(_extra) : null;

    public SifPartitionType? PartitionType => IsPartition ? (SifPartitionType)BinaryPrimitives.ReadInt32LittleEndian(_extra.AsSpan(4)) : null;

    /// <summary>Go arch name of a partition ("amd64", or "unknown"); null for other types.</summary>
    public string? Arch => IsPartition ? SifArch.NameOf(_extra.AsSpan(8, 3)) : null;

    public SifHashType? HashType => Type == SifDataType.Signature ? (SifHashType)BinaryPrimitives.ReadInt32LittleEndian(_extra) : null;

    /// <summary>The signing entity's 20-byte fingerprint, or empty when none is stored (DSSE).</summary>
    public ReadOnlySpan<byte> Entity
    {
        get
        {
            if (Type != SifDataType.Signature)
            {
                return default;
            }
            ReadOnlySpan<byte> fp = _extra.AsSpan(4, 20);
            return fp.ContainsAnyExcept((byte)0) ? fp : default;
        }
    }

    public SifFormatType? FormatType => Type == SifDataType.CryptoMessage ? (SifFormatType)BinaryPrimitives.ReadInt32LittleEndian(_extra) : null;

    public SifMessageType? MessageType => Type == SifDataType.CryptoMessage ? (SifMessageType)BinaryPrimitives.ReadInt32LittleEndian(_extra.AsSpan(4)) : null;

    public SifSbomFormat? SbomFormat => Type == SifDataType.Sbom ? (SifSbomFormat)BinaryPrimitives.ReadInt32LittleEndian(_extra) : null;

    /// <summary>"sha256:…" of an OCI object as stored (text up to the first NUL); null for other types.</summary>
    public string? OciDigest
    {
        get
        {
            if (Type is not (SifDataType.OciBlob or SifDataType.OciRootIndex))
            {
                return null;
            }
            int end = Array.IndexOf(_extra, (byte)0);
            return Encoding.ASCII.GetString(_extra, 0, end < 0 ? _extra.Length : end);
        }
    }

    public override string ToString() => $"object {Id} ({SifNames.Of(Type)}, {Size} bytes at {Offset})";

    internal SifDescriptor With(uint? rawLinkedId = null, long? modifiedAt = null, byte[]? extra = null) =>
        new(RawDataType, Id, RawGroupId, rawLinkedId ?? RawLinkedId, Offset, Size, SizeWithPadding, CreatedAtUnix,
            modifiedAt ?? ModifiedAtUnix, Uid, Gid, _name, extra ?? _extra);

    internal byte[] ExtraCopy() => (byte[])_extra.Clone();

    /// <summary>Writes the used slot's 585 bytes.</summary>
    internal void Encode(Span<byte> slot)
    {
        slot[..SifLayout.DescriptorSize].Clear();
        BinaryPrimitives.WriteInt32LittleEndian(slot[L.DataType..], RawDataType);
        slot[L.Used] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(slot[L.Id..], Id);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[L.GroupId..], RawGroupId);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[L.LinkedId..], RawLinkedId);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.Offset..], Offset);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.Size..], Size);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.SizeWithPadding..], SizeWithPadding);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.CreatedAt..], CreatedAtUnix);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.ModifiedAt..], ModifiedAtUnix);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.Uid..], Uid);
        BinaryPrimitives.WriteInt64LittleEndian(slot[L.Gid..], Gid);
        _name.CopyTo(slot[L.Name..]);
        _extra.CopyTo(slot[L.Extra..]);
    }

    /// <summary>Decodes a slot; the caller has checked that it is used.</summary>
    internal static SifDescriptor Decode(ReadOnlySpan<byte> slot) => new(
        BinaryPrimitives.ReadInt32LittleEndian(slot[L.DataType..]),
        BinaryPrimitives.ReadUInt32LittleEndian(slot[L.Id..]),
        BinaryPrimitives.ReadUInt32LittleEndian(slot[L.GroupId..]),
        BinaryPrimitives.ReadUInt32LittleEndian(slot[L.LinkedId..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.Offset..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.Size..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.SizeWithPadding..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.CreatedAt..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.ModifiedAt..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.Uid..]),
        BinaryPrimitives.ReadInt64LittleEndian(slot[L.Gid..]),
        slot.Slice(L.Name, L.NameLength).ToArray(),
        slot.Slice(L.Extra, L.ExtraLength).ToArray());
}
