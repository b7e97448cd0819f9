using System.Buffers.Binary;
using System.Text;
using H = Burrow.Core.Sif.SifLayout.Header;

namespace Burrow.Core.Sif;

/// <summary>The 128-byte global header, values as stored.</summary>
public sealed record SifHeader
{
    /// <summary>The 32-byte launch script field, NUL-padded.</summary>
    public required byte[] RawLaunchScript { get; init; }

    /// <summary>The 3-byte arch field ("02\0").</summary>
    public required byte[] RawArch { get; init; }

    /// <summary>The 16 ID bytes in RFC 4122 (big-endian) order.</summary>
    public required byte[] RawId { get; init; }

    public required byte[] RawVersion { get; init; }

    public long CreatedAtUnix { get; init; }
    public long ModifiedAtUnix { get; init; }
    public long DescriptorsFree { get; init; }
    public long DescriptorsTotal { get; init; }
    public long DescriptorsOffset { get; init; }
    public long DescriptorsSize { get; init; }
    public long DataOffset { get; init; }
    public long DataSize { get; init; }

    public string LaunchScript
    {
        get
        {
            int end = Array.IndexOf(RawLaunchScript, (byte)0);
            return Encoding.UTF8.GetString(RawLaunchScript, 0, end < 0 ? RawLaunchScript.Length : end);
        }
    }

    /// <summary>"01": the version text without its NUL.</summary>
    public string Version
    {
        get
        {
            int end = Array.IndexOf(RawVersion, (byte)0);
            return Encoding.ASCII.GetString(RawVersion, 0, end < 0 ? RawVersion.Length : end);
        }
    }

    /// <summary>The primary partition's Go arch name, "unknown" if none.</summary>
    public string PrimaryArch => SifArch.NameOf(RawArch);

    public Guid Id => new(RawId, bigEndian: true);

    public DateTimeOffset? CreatedAt => SifTime.ToDateTime(CreatedAtUnix);

    public DateTimeOffset? ModifiedAt => SifTime.ToDateTime(ModifiedAtUnix);

    /// <summary>A deterministic image (nil ID and both times zero) keeps zero times when edited, as the reference does.</summary>
    public bool IsDeterministic => Id == Guid.Empty && SifTime.IsZero(CreatedAtUnix) && SifTime.IsZero(ModifiedAtUnix);

    internal void Encode(Span<byte> b)
    {
        b[..SifLayout.HeaderSize].Clear();
        RawLaunchScript.CopyTo(b[H.LaunchScript..]);
        SifLayout.Magic.CopyTo(b[H.Magic..]);
        RawVersion.CopyTo(b[H.Version..]);
        RawArch.CopyTo(b[H.Arch..]);
        RawId.CopyTo(b[H.Id..]);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.CreatedAt..], CreatedAtUnix);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.ModifiedAt..], ModifiedAtUnix);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.DescriptorsFree..], DescriptorsFree);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.DescriptorsTotal..], DescriptorsTotal);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.DescriptorsOffset..], DescriptorsOffset);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.DescriptorsSize..], DescriptorsSize);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.DataOffset..], DataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(b[H.DataSize..], DataSize);
    }

    /// <summary>Decodes without validating; <see cref="SifValidator"/> checks the values.</summary>
    internal static SifHeader Decode(ReadOnlySpan<byte> b) => new()
    {
        RawLaunchScript = b.Slice(H.LaunchScript, H.LaunchScriptLength).ToArray(),
        RawVersion = b.Slice(H.Version, H.VersionLength).ToArray(),
        RawArch = b.Slice(H.Arch, H.ArchLength).ToArray(),
        RawId = b.Slice(H.Id, H.IdLength).ToArray(),
        CreatedAtUnix = BinaryPrimitives.ReadInt64LittleEndian(b[H.CreatedAt..]),
        ModifiedAtUnix = BinaryPrimitives.ReadInt64LittleEndian(b[H.ModifiedAt..]),
        DescriptorsFree = BinaryPrimitives.ReadInt64LittleEndian(b[H.DescriptorsFree..]),
        DescriptorsTotal = BinaryPrimitives.ReadInt64LittleEndian(b[H.DescriptorsTotal..]),
        DescriptorsOffset = BinaryPrimitives.ReadInt64LittleEndian(b[H.DescriptorsOffset..]),
        DescriptorsSize = BinaryPrimitives.ReadInt64LittleEndian(b[H.DescriptorsSize..]),
        DataOffset = BinaryPrimitives.ReadInt64LittleEndian(b[H.DataOffset..]),
        DataSize = BinaryPrimitives.ReadInt64LittleEndian(b[H.DataSize..]),
    };
}
