using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace Burrow.Core.Trust.Pgp;

/// <summary>
/// Makes a new OpenPGP key as Apptainer's <c>key newpair</c> does (go-crypto's NewEntity): an RSA primary key
/// that certifies and signs, an RSA subkey that encrypts, one user id "Name (comment) &lt;email&gt;", self-signatures
/// over SHA-384. The secret keys are protected with the passphrase (AES-256, iterated and salted S2K over
/// SHA-256). The RSA keys come from the system's OpenSSL (through .NET), which is much faster than a managed
/// generator at 4096 bits; BouncyCastle only wraps and signs them.
/// </summary>
public static class PgpKeyGenerator
{
    public const int DefaultBits = 4096;
    public const int MinimumBits = 2048;
    public const int MaximumBits = 16384;

    public static string UserId(string name, string email, string comment)
    {
        string id = name.Trim();
        if (comment.Trim().Length > 0)
        {
            id += $" ({comment.Trim()})";
        }
        if (email.Trim().Length > 0)
        {
            id += $" <{email.Trim()}>";
        }
        return id;
    }

    public static PgpEntity Generate(string userId, int bits, string passphrase, DateTime? time = null)
    {
        if (bits < MinimumBits || bits > MaximumBits)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), $"an RSA key needs {MinimumBits} to {MaximumBits} bits");
        }
        if (passphrase.Length == 0)
        {
            throw new ArgumentException("a new secret key needs a passphrase", nameof(passphrase));
        }
        DateTime now = (time ?? DateTime.UtcNow).ToUniversalTime();
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        var random = new SecureRandom();
        var primary = new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral, NewRsaKey(bits), now);
        var encryption = new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral, NewRsaKey(bits), now);

        var primaryPackets = new PgpSignatureSubpacketGenerator();
        primaryPackets.SetKeyFlags(true, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        primaryPackets.SetPreferredHashAlgorithms(false, [(int)HashAlgorithmTag.Sha384, (int)HashAlgorithmTag.Sha256, (int)HashAlgorithmTag.Sha512, (int)HashAlgorithmTag.Sha224]);
        primaryPackets.SetPreferredSymmetricAlgorithms(false, [(int)SymmetricKeyAlgorithmTag.Aes256, (int)SymmetricKeyAlgorithmTag.Aes128]);
        primaryPackets.SetPreferredCompressionAlgorithms(false, [(int)CompressionAlgorithmTag.Uncompressed]);
        primaryPackets.SetFeature(false, Org.BouncyCastle.Bcpg.Sig.Features.FEATURE_MODIFICATION_DETECTION);
        primaryPackets.SetPrimaryUserId(false, true);
        primaryPackets.SetIssuerFingerprint(false, primary.PublicKey);

        var subkeyPackets = new PgpSignatureSubpacketGenerator();
        subkeyPackets.SetKeyFlags(true, PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage);
        subkeyPackets.SetIssuerFingerprint(false, primary.PublicKey);

        var generator = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, primary, userId,
            SymmetricKeyAlgorithmTag.Aes256, HashAlgorithmTag.Sha384, passphrase.ToCharArray(), useSha1: true,
            primaryPackets.Generate(), null, random);
        generator.AddSubKey(encryption, subkeyPackets.Generate(), null);
        PgpSecretKeyRing secret = generator.GenerateSecretKeyRing();
        return new PgpEntity(generator.GeneratePublicKeyRing(), secret);
    }

    private static AsymmetricCipherKeyPair NewRsaKey(int bits)
    {
        using var rsa = RSA.Create(bits);
        RSAParameters p = rsa.ExportParameters(includePrivateParameters: true);
        static BigInteger B(byte[]? v) => new(1, v ?? throw new CryptographicException("incomplete RSA key"));
        var pub = new RsaKeyParameters(false, B(p.Modulus), B(p.Exponent));
        var priv = new RsaPrivateCrtKeyParameters(B(p.Modulus), B(p.Exponent), B(p.D), B(p.P), B(p.Q), B(p.DP), B(p.DQ), B(p.InverseQ));
        return new AsymmetricCipherKeyPair(pub, priv);
    }
}
