using System.Security.Cryptography;

namespace Burrow.Core.Oci;

/// <summary>
/// A content digest (<c>sha256:&lt;64 hex&gt;</c> or <c>sha512:&lt;128 hex&gt;</c>), validated on parse so that a
/// digest taken from a manifest or a reference can be used safely as a file name (CVE-2024-3727 class).
/// </summary>
public readonly record struct Digest(string Algorithm, string Hex)
{
    public override string ToString() => Algorithm + ":" + Hex;

    public static Digest Parse(string text, string what = "digest")
    {
        if (TryParse(text, out Digest d))
        {
            return d;
        }
        throw new InvalidDataException($"invalid {what} \"{text}\": expected sha256:<64 lowercase hex digits>");
    }

    public static bool TryParse(string? text, out Digest digest)
    {
        digest = default;
        if (text is null)
        {
            return false;
        }
        int colon = text.IndexOf(':');
        if (colon < 0)
        {
            return false;
        }
        string alg = text[..colon];
        string hex = text[(colon + 1)..];
        int expected = alg switch { "sha256" => 64, "sha512" => 128, _ => -1 };
        if (expected < 0 || hex.Length != expected || !hex.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            return false;
        }
        digest = new Digest(alg, hex);
        return true;
    }

    public static Digest Sha256(ReadOnlySpan<byte> data) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(data)));

    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

    public bool Matches(ReadOnlySpan<byte> data)
    {
        using IncrementalHash h = CreateHash();
        h.AppendData(data);
        return Convert.ToHexStringLower(h.GetHashAndReset()) == Hex;
    }
}
