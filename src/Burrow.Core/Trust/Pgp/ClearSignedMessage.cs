using System.Text;

namespace Burrow.Core.Trust.Pgp;

/// <summary>
/// The OpenPGP cleartext signature framework (RFC 4880 §7) as the SIF reference writes it: the header, one
/// <c>Hash:</c> line, the dash-escaped text, then the armored signature with 64-column base64 and no CRC line
/// and nothing after the END line. Decoding also accepts the CRC line older writers (sylabs sif 2.8) add, checks
/// it, and gives the bytes the signature covers: the text with each line's trailing blanks removed, CRLF line
/// ends, and no line end after the last line.
/// </summary>
public sealed class ClearSignedMessage
{
    private const string BeginMessage = "-----BEGIN PGP SIGNED MESSAGE-----";
    private const string BeginSignature = "-----BEGIN PGP SIGNATURE-----";
    private const string EndSignature = "-----END PGP SIGNATURE-----";

    /// <summary>At most this many bytes are taken as a clear-signed message (signed SIF metadata is a few KiB).</summary>
    public const int MaxLength = 1 << 20;

    private ClearSignedMessage(byte[] plaintext, byte[] signedBytes, IReadOnlyList<string> hashHeaders, byte[] signature)
    {
        Plaintext = plaintext;
        SignedBytes = signedBytes;
        HashHeaders = hashHeaders;
        Signature = signature;
    }

    /// <summary>The text as written (dash-escaping undone, <c>\n</c> line ends, no line end after the last line).</summary>
    public byte[] Plaintext { get; }

    /// <summary>What the signature covers: <see cref="Plaintext"/> in canonical form (trailing blanks removed, CRLF).</summary>
    public byte[] SignedBytes { get; }

    /// <summary>The values of the <c>Hash:</c> headers ("SHA256"), possibly none.</summary>
    public IReadOnlyList<string> HashHeaders { get; }

    /// <summary>The binary OpenPGP packets of the signature block.</summary>
    public byte[] Signature { get; }

    /// <summary>Frames <paramref name="text"/> and its binary signature packets as the reference does.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> text, string hashName, ReadOnlySpan<byte> signature)
    {
        var sb = new StringBuilder();
        sb.Append(BeginMessage).Append('\n').Append("Hash: ").Append(hashName).Append("\n\n");
        string body = Encoding.UTF8.GetString(text);
        string[] lines = body.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith('-'))
            {
                sb.Append("- ");
            }
            sb.Append(lines[i]);
            sb.Append('\n');
        }
        sb.Append(BeginSignature).Append("\n\n");
        string b64 = Convert.ToBase64String(signature);
        for (int i = 0; i < b64.Length; i += 64)
        {
            sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
        }
        sb.Append(EndSignature);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The canonical bytes a text signature is computed over (what <see cref="Encode"/> frames covers).</summary>
    public static byte[] Canonical(ReadOnlySpan<byte> text)
    {
        string[] lines = Encoding.UTF8.GetString(text).Split('\n');
        return Encoding.UTF8.GetBytes(string.Join("\r\n", lines.Select(l => l.TrimEnd(' ', '\t', '\r'))));
    }

    /// <summary>True when the data starts (after blank lines) like a clear-signed message; says nothing of its validity.</summary>
    public static bool LooksLikeOne(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> begin = "-----BEGIN PGP SIGNED MESSAGE-----"u8;
        int i = 0;
        while (i < data.Length && data[i] is (byte)'\n' or (byte)'\r' or (byte)' ' or (byte)'\t')
        {
            i++;
        }
        return data[i..].StartsWith(begin);
    }

    /// <summary>Parses a message; null when the data is not a well-formed clear-signed message.</summary>
    public static ClearSignedMessage? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxLength)
        {
            return null;
        }
        string s;
        try
        {
            s = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(data);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        string[] lines = s.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int i = 0;
        while (i < lines.Length && lines[i].Trim().Length == 0)
        {
            i++;
        }
        if (i >= lines.Length || lines[i].TrimEnd() != BeginMessage)
        {
            return null;
        }
        i++;
        var hashes = new List<string>();
        for (; i < lines.Length && lines[i].TrimEnd().Length > 0; i++)
        {
            int colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0)
            {
                return null;
            }
            if (lines[i][..colon] == "Hash")
            {
                hashes.AddRange(lines[i][(colon + 2)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            }
        }
        if (i >= lines.Length)
        {
            return null;
        }
        i++;
        var text = new List<string>();
        for (; i < lines.Length && lines[i].TrimEnd() != BeginSignature; i++)
        {
            string line = lines[i];
            if (line.StartsWith("- ", StringComparison.Ordinal))
            {
                line = line[2..];
            }
            else if (line.StartsWith('-'))
            {
                return null;
            }
            text.Add(line);
        }
        if (i >= lines.Length)
        {
            return null;
        }
        i++;
        // Armor headers of the signature block, then a blank line.
        for (; i < lines.Length && lines[i].Trim().Length > 0; i++)
        {
            if (!lines[i].Contains(": ", StringComparison.Ordinal))
            {
                break;
            }
        }
        if (i < lines.Length && lines[i].Trim().Length == 0)
        {
            i++;
        }
        var b64 = new StringBuilder();
        string? crc = null;
        for (; i < lines.Length && lines[i].TrimEnd() != EndSignature; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith('='))
            {
                crc = line[1..];
                continue;
            }
            b64.Append(line);
        }
        if (i >= lines.Length)
        {
            return null;
        }
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(b64.ToString());
        }
        catch (FormatException)
        {
            return null;
        }
        if (crc is not null && !CrcMatches(signature, crc))
        {
            return null;
        }
        byte[] plaintext = Encoding.UTF8.GetBytes(string.Join("\n", text));
        return new ClearSignedMessage(plaintext, Canonical(plaintext), hashes, signature);
    }

    private static bool CrcMatches(byte[] data, string crc)
    {
        byte[] want;
        try
        {
            want = Convert.FromBase64String(crc);
        }
        catch (FormatException)
        {
            return false;
        }
        uint c = Crc24(data);
        return want.Length == 3 && want[0] == (byte)(c >> 16) && want[1] == (byte)(c >> 8) && want[2] == (byte)c;
    }

    /// <summary>The armor checksum of RFC 4880 §6.1.</summary>
    internal static uint Crc24(ReadOnlySpan<byte> data)
    {
        uint crc = 0xB704CE;
        foreach (byte b in data)
        {
            crc ^= (uint)b << 16;
            for (int k = 0; k < 8; k++)
            {
                crc <<= 1;
                if ((crc & 0x1000000) != 0)
                {
                    crc ^= 0x1864CFB;
                }
            }
        }
        return crc & 0xFFFFFF;
    }
}
