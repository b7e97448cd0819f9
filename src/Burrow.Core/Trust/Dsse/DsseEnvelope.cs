using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Burrow.Core.Trust.Dsse;

/// <summary>One signature of an envelope: the signer's key id (an OpenSSH SHA-256 fingerprint) and the signature bytes.</summary>
public sealed record DsseSignature(string KeyId, byte[] Sig);

/// <summary>
/// A Dead Simple Signing Envelope (secure-systems-lab DSSE v1) as sigstore writes it for SIF: compact JSON with the
/// fields payloadType, payload (standard base64), signatures [{keyid, sig}], in that order and with Go's escaping
/// (only &lt;, &gt; and &amp; are escaped), so that an envelope Burrow writes is byte-identical to the reference's for
/// the same key and payload (RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic).
/// </summary>
public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<DsseSignature> Signatures)
{
    /// <summary>The payload type of signed SIF metadata.</summary>
    public const string SifMetadataType = "application/vnd.sylabs.sif-metadata+json";

    /// <summary>An envelope larger than this is not read (signed SIF metadata is a few KiB).</summary>
    public const int MaxLength = 1 << 20;

    /// <summary>Pre-authentication encoding: "DSSEv1 &lt;len(type)&gt; &lt;type&gt; &lt;len(payload)&gt; &lt;payload&gt;", what each signer signs.</summary>
    public static byte[] Pae(string payloadType, ReadOnlySpan<byte> payload)
    {
        byte[] type = Encoding.UTF8.GetBytes(payloadType);
        byte[] head = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        byte[] mid = Encoding.ASCII.GetBytes($" {payload.Length} ");
        byte[] pae = new byte[head.Length + type.Length + mid.Length + payload.Length];
        head.CopyTo(pae, 0);
        type.CopyTo(pae, head.Length);
        mid.CopyTo(pae, head.Length + type.Length);
        payload.CopyTo(pae.AsSpan(head.Length + type.Length + mid.Length));
        return pae;
    }

    public byte[] Encode()
    {
        using var ms = new MemoryStream();
        // Go's encoding/json escapes only <, > and & (and U+2028/9); the relaxed encoder escapes no more than that here,
        // since base64 and key ids are plain ASCII.
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("payloadType", PayloadType);
            w.WriteString("payload", Convert.ToBase64String(Payload));
            w.WriteStartArray("signatures");
            foreach (DsseSignature s in Signatures)
            {
                w.WriteStartObject();
                w.WriteString("keyid", s.KeyId);
                w.WriteString("sig", Convert.ToBase64String(s.Sig));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>Parses the first JSON value of the data as an envelope; null if it is not one (the reference's isDSSESignature test).</summary>
    public static DsseEnvelope? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxLength)
        {
            return null;
        }
        try
        {
            var reader = new Utf8JsonReader(data, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
            using JsonDocument doc = JsonDocument.ParseValue(ref reader);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            string type = root.TryGetProperty("payloadType", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            byte[] payload = root.TryGetProperty("payload", out JsonElement p) && p.ValueKind == JsonValueKind.String ? Base64(p.GetString()!) ?? [] : [];
            var signatures = new List<DsseSignature>();
            if (root.TryGetProperty("signatures", out JsonElement sigs) && sigs.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement s in sigs.EnumerateArray())
                {
                    if (s.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }
                    string keyId = s.TryGetProperty("keyid", out JsonElement k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : "";
                    byte[]? sig = s.TryGetProperty("sig", out JsonElement v) && v.ValueKind == JsonValueKind.String ? Base64(v.GetString()!) : null;
                    if (sig is not null)
                    {
                        signatures.Add(new DsseSignature(keyId, sig));
                    }
                }
            }
            return new DsseEnvelope(type, payload, signatures);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Standard base64, else URL-safe (go-securesystemslib accepts both).</summary>
    private static byte[]? Base64(string s)
    {
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            string u = s.Replace('-', '+').Replace('_', '/');
            u = u.PadRight(u.Length + (4 - u.Length % 4) % 4, '=');
            try
            {
                return Convert.FromBase64String(u);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
