using System.Text.Json;
using Burrow.Core.Sif;

namespace Burrow.Core.Trust;

/// <summary>One object entry of signed image metadata.</summary>
internal sealed record SignedObject(uint RelativeId, SifDigest DescriptorDigest, SifDigest ObjectDigest);

/// <summary>
/// The image metadata a non-legacy signature covers (the reference's imageMetadata), parsed from the signed JSON as
/// strictly as Go's decoder does what matters: each digest is "algorithm:hex" with a SHA-2 algorithm and the right
/// length (a digest over anything weaker is refused), unknown fields are ignored.
/// </summary>
internal sealed record SignedMetadata(SifDigest HeaderDigest, IReadOnlyList<SignedObject> Objects)
{
    /// <exception cref="FormatException">The JSON is not image metadata, or a digest is malformed or weak.</exception>
    public static SignedMetadata Parse(byte[] json)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the signed metadata is not a JSON object");
            }
            if (root.TryGetProperty("version", out JsonElement v) && v.ValueKind != JsonValueKind.Number)
            {
                throw new FormatException("the metadata version is not a number");
            }
            SifDigest header = root.TryGetProperty("header", out JsonElement h) && h.ValueKind == JsonValueKind.Object
                && h.TryGetProperty("digest", out JsonElement hd)
                ? Digest(hd)
                : throw new FormatException("the signed metadata has no header digest");
            var objects = new List<SignedObject>();
            if (root.TryGetProperty("objects", out JsonElement list))
            {
                if (list.ValueKind == JsonValueKind.Null)
                {
                    return new SignedMetadata(header, objects);
                }
                if (list.ValueKind != JsonValueKind.Array)
                {
                    throw new FormatException("the signed metadata's objects are not a list");
                }
                foreach (JsonElement o in list.EnumerateArray())
                {
                    if (o.ValueKind != JsonValueKind.Object)
                    {
                        throw new FormatException("an object of the signed metadata is not a JSON object");
                    }
                    uint rid = o.TryGetProperty("relativeId", out JsonElement r) ? r.GetUInt32() : 0;
                    SifDigest dd = o.TryGetProperty("descriptorDigest", out JsonElement d) ? Digest(d) : throw new FormatException("digest malformed");
                    SifDigest od = o.TryGetProperty("objectDigest", out JsonElement od1) ? Digest(od1) : throw new FormatException("digest malformed");
                    objects.Add(new SignedObject(rid, dd, od));
                }
            }
            return new SignedMetadata(header, objects);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FormatException("the signed metadata is not valid JSON: " + e.Message, e);
        }
    }

    private static SifDigest Digest(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("digest malformed");
        }
        string[] parts = e.GetString()!.Split(':');
        if (parts.Length != 2)
        {
            throw new FormatException("digest malformed");
        }
        SifDigestAlgorithm? a = Enum.GetValues<SifDigestAlgorithm>().Cast<SifDigestAlgorithm?>().FirstOrDefault(x => SifDigest.NameOf(x!.Value) == parts[0]);
        byte[] value;
        try
        {
            value = Convert.FromHexString(parts[1]);
        }
        catch (FormatException)
        {
            throw new FormatException("digest malformed");
        }
        if (a is null)
        {
            throw new FormatException($"hash algorithm unsupported ({parts[0]})");
        }
        return value.Length == SizeOf(a.Value) ? new SifDigest(a.Value, value) : throw new FormatException("digest malformed");
    }

    public static int SizeOf(SifDigestAlgorithm a) => a switch
    {
        SifDigestAlgorithm.Sha224 or SifDigestAlgorithm.Sha512_224 => 28,
        SifDigestAlgorithm.Sha256 or SifDigestAlgorithm.Sha512_256 => 32,
        SifDigestAlgorithm.Sha384 => 48,
        _ => 64,
    };
}
