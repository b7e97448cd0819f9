using System.Buffers.Binary;
using System.Text.Json;
using D = Burrow.Core.Sif.SifLayout.Descriptor;
using H = Burrow.Core.Sif.SifLayout.Header;

namespace Burrow.Core.Sif;

/// <summary>
/// The bytes a SIF signature covers and the signed metadata JSON, as the reference's pkg/integrity builds
/// them: 61 header bytes, 557 descriptor bytes with the id relative to the group, object digests, and
/// the compact JSON document (fields in the reference's order, no trailing newline).
/// </summary>
public static class SifIntegrity
{
    /// <summary>LaunchScript ‖ Magic ‖ Version ‖ ID (61 bytes): times, counts and offsets may change under a signature.</summary>
    public static byte[] HeaderBytes(SifHeader h)
    {
        byte[] full = new byte[SifLayout.HeaderSize];
        h.Encode(full);
        byte[] b = new byte[H.IntegrityLength];
        full.AsSpan(H.LaunchScript, H.LaunchScriptLength).CopyTo(b);
        full.AsSpan(H.Magic, H.MagicLength).CopyTo(b.AsSpan(32));
        full.AsSpan(H.Version, H.VersionLength).CopyTo(b.AsSpan(42));
        full.AsSpan(H.Id, H.IdLength).CopyTo(b.AsSpan(45));
        return b;
    }

    /// <summary>
    /// DataType ‖ Used ‖ relative ID ‖ LinkedID ‖ Size ‖ CreatedAt ‖ UID ‖ GID ‖ Name ‖ Extra (557 bytes):
    /// absolute ID, group, offset, padding and modification time are left out so a signed group can move.
    /// </summary>
    public static byte[] DescriptorBytes(SifDescriptor d, uint relativeId) => DescriptorBytes(d, relativeId, used: true);

    internal static byte[] DescriptorBytes(SifDescriptor d, uint relativeId, bool used)
    {
        byte[] slot = new byte[SifLayout.DescriptorSize];
        d.Encode(slot);
        slot[D.Used] = used ? (byte)1 : (byte)0;
        byte[] b = new byte[D.IntegrityLength];
        int o = 0;
        void Copy(int at, int length)
        {
            slot.AsSpan(at, length).CopyTo(b.AsSpan(o));
            o += length;
        }
        Copy(D.DataType, 5);                                   // DataType, Used
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), relativeId);
        o += 4;
        Copy(D.LinkedId, 4);
        Copy(D.Size, 8);
        Copy(D.CreatedAt, 8);
        Copy(D.Uid, 16);                                       // UID, GID
        Copy(D.Name, D.NameLength + D.ExtraLength);            // Name, Extra
        return b;
    }

    /// <summary>The smallest id among the used descriptors with the same raw group word (the reference's minimum id per group).</summary>
    public static uint GroupMinimumId(SifImage image, SifDescriptor d) =>
        image.Descriptors.Where(o => o.RawGroupId == d.RawGroupId).Min(o => o.Id);

    public static SifDigest HeaderDigest(SifHeader h, SifDigestAlgorithm a = SifDigestAlgorithm.Sha256) => SifDigest.Compute(a, HeaderBytes(h));

    /// <summary>The image metadata the reference signs for these objects, as compact JSON (UTF-8).</summary>
    public static byte[] ImageMetadataJson(SifImage image, IEnumerable<SifDescriptor> objects, SifDigestAlgorithm a = SifDigestAlgorithm.Sha256)
    {
        SifDescriptor[] ods = objects.OrderBy(d => d.Id).ToArray();
        if (ods.Length == 0)
        {
            throw new ArgumentException("no objects to describe", nameof(objects));
        }
        uint minId = GroupMinimumId(image, ods[0]);
        return ImageMetadataJson(image.Header, ods, minId, d => image.OpenObject(d), a);
    }

    /// <summary>Image metadata for objects whose relative ids count from <paramref name="minId"/> (the group's minimum id).</summary>
    public static byte[] ImageMetadataJson(SifHeader header, IReadOnlyList<SifDescriptor> objects, uint minId, Func<SifDescriptor, Stream> openObject,
        SifDigestAlgorithm a = SifDigestAlgorithm.Sha256)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("version", 1);
            w.WritePropertyName("header");
            WriteHeaderMetadata(w, header, a);
            w.WriteStartArray("objects");
            foreach (SifDescriptor d in objects)
            {
                if (d.Id < minId)
                {
                    throw new ArgumentException($"object {d.Id} is below the minimum id {minId}", nameof(minId));
                }
                using Stream data = openObject(d);
                WriteObjectMetadata(w, d, d.Id - minId, data, a);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>{"digest":"sha256:…"} of the 61 header bytes.</summary>
    public static byte[] HeaderMetadataJson(SifHeader header, SifDigestAlgorithm a = SifDigestAlgorithm.Sha256) =>
        Json(w => WriteHeaderMetadata(w, header, a));

    /// <summary>{"relativeId":n,"descriptorDigest":"…","objectDigest":"…"}.</summary>
    public static byte[] ObjectMetadataJson(SifDescriptor d, uint relativeId, Stream data, SifDigestAlgorithm a = SifDigestAlgorithm.Sha256) =>
        Json(w => WriteObjectMetadata(w, d, relativeId, data, a));

    private static void WriteHeaderMetadata(Utf8JsonWriter w, SifHeader header, SifDigestAlgorithm a)
    {
        w.WriteStartObject();
        w.WriteString("digest", HeaderDigest(header, a).ToString());
        w.WriteEndObject();
    }

    private static void WriteObjectMetadata(Utf8JsonWriter w, SifDescriptor d, uint relativeId, Stream data, SifDigestAlgorithm a)
    {
        w.WriteStartObject();
        w.WriteNumber("relativeId", relativeId);
        w.WriteString("descriptorDigest", SifDigest.Compute(a, DescriptorBytes(d, relativeId)).ToString());
        w.WriteString("objectDigest", SifDigest.Compute(a, data).ToString());
        w.WriteEndObject();
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            write(w);
        }
        return ms.ToArray();
    }
}
