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
        SifHasher h = SifHasher.Create(algorithm);
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = data.Read(buffer)) > 0)
        {
            h.Append(buffer.AsSpan(0, n));
        }
        return new SifDigest(algorithm, h.Finish());
    }
}

/// <summary>An incremental hash of one of the SIF digest algorithms, so that several can be fed from one read pass.</summary>
public abstract class SifHasher
{
    public abstract SifDigestAlgorithm Algorithm { get; }

    public abstract void Append(ReadOnlySpan<byte> data);

    public abstract byte[] Finish();

    public static SifHasher Create(SifDigestAlgorithm algorithm) => algorithm switch
    {
        SifDigestAlgorithm.Sha256 => new Framework(algorithm, HashAlgorithmName.SHA256),
        SifDigestAlgorithm.Sha384 => new Framework(algorithm, HashAlgorithmName.SHA384),
        SifDigestAlgorithm.Sha512 => new Framework(algorithm, HashAlgorithmName.SHA512),
        // .NET has none of these three; BouncyCastle's are the standard FIPS 180-4 ones.
        SifDigestAlgorithm.Sha224 => new Bouncy(algorithm, new Sha224Digest()),
        SifDigestAlgorithm.Sha512_224 => new Bouncy(algorithm, new Sha512tDigest(224)),
        SifDigestAlgorithm.Sha512_256 => new Bouncy(algorithm, new Sha512tDigest(256)),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    private sealed class Framework(SifDigestAlgorithm algorithm, HashAlgorithmName name) : SifHasher
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(name);

        public override SifDigestAlgorithm Algorithm => algorithm;

        public override void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

        public override byte[] Finish()
        {
            byte[] value = _hash.GetHashAndReset();
            _hash.Dispose();
            return value;
        }
    }

    private sealed class Bouncy(SifDigestAlgorithm algorithm, IDigest digest) : SifHasher
    {
        public override SifDigestAlgorithm Algorithm => algorithm;

        public override void Append(ReadOnlySpan<byte> data) => digest.BlockUpdate(data);

        public override byte[] Finish()
        {
            byte[] value = new byte[digest.GetDigestSize()];
            digest.DoFinal(value, 0);
            return value;
        }
    }
}
