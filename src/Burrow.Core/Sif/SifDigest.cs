using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;

namespace Burrow.Core.Sif;

/// <summary>The hashes SIF integrity metadata can name (the reference's supportedAlgorithms).</summary>
public enum SifDigestAlgorithm { Sha224, Sha256, Sha384, Sha512, Sha512_224, Sha512_256 }

/// <summary>A digest as the reference writes it in signed metadata: "sha256:&lt;lowercase hex&gt;".</summary>
public sealed record SifDigest(SifDigestAlgorithm Algorithm, byte[] Value)
{
    public static string NameOf(SifDigestAlgorithm a) => a switch
    {
        SifDigestAlgorithm.Sha224 => "sha224",
        SifDigestAlgorithm.Sha256 => "sha256",
        SifDigestAlgorithm.Sha384 => "sha384",
        SifDigestAlgorithm.Sha512 => "sha512",
        SifDigestAlgorithm.Sha512_224 => "sha512_224",
        SifDigestAlgorithm.Sha512_256 => "sha512_256",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public override string ToString() => NameOf(Algorithm) + ":" + Convert.ToHexStringLower(Value);

    public static SifDigest Compute(SifDigestAlgorithm algorithm, ReadOnlySpan<byte> data)
    {
        using var s = new MemoryStream(data.ToArray(), writable: false);
        return Compute(algorithm, s);
    }

    /// <summary>Hashes a stream to its end in bounded chunks.</summary>
    public static SifDigest Compute(SifDigestAlgorithm algorithm, Stream data)
    {
        byte[] buffer = new byte[1 << 16];
        int n;
        switch (algorithm)
        {
            case SifDigestAlgorithm.Sha224 or SifDigestAlgorithm.Sha512_224 or SifDigestAlgorithm.Sha512_256:
                // .NET has none of these three; BouncyCastle's are the standard FIPS 180-4 ones.
                IDigest d = algorithm == SifDigestAlgorithm.Sha224 ? new Sha224Digest()
                    : new Sha512tDigest(algorithm == SifDigestAlgorithm.Sha512_224 ? 224 : 256);
                while ((n = data.Read(buffer)) > 0)
                {
                    d.BlockUpdate(buffer, 0, n);
                }
                byte[] value = new byte[d.GetDigestSize()];
                d.DoFinal(value, 0);
                return new SifDigest(algorithm, value);
            default:
                using (IncrementalHash h = IncrementalHash.CreateHash(algorithm switch
                {
                    SifDigestAlgorithm.Sha256 => HashAlgorithmName.SHA256,
                    SifDigestAlgorithm.Sha384 => HashAlgorithmName.SHA384,
                    SifDigestAlgorithm.Sha512 => HashAlgorithmName.SHA512,
                    _ => throw new NotSupportedException(),
                }))
                {
                    while ((n = data.Read(buffer)) > 0)
                    {
                        h.AppendData(buffer, 0, n);
                    }
                    return new SifDigest(algorithm, h.GetHashAndReset());
                }
        }
    }
}
