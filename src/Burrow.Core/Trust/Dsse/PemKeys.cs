using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Burrow.Core.Trust.Dsse;

/// <summary>The hash a DSSE signature is made or checked with (the signature descriptor's hash type).</summary>
public enum DsseHash { Sha256, Sha384, Sha512 }

/// <summary>A PEM private key that signs DSSE envelopes.</summary>
public interface IDsseSigner
{
    /// <summary>"SHA256:…", the OpenSSH fingerprint of the public key (what sigstore writes as keyid).</summary>
    string KeyId { get; }

    /// <summary>"RSA 4096", "ECDSA P-256", "Ed25519".</summary>
    string Description { get; }

    byte[] Sign(byte[] pae, DsseHash hash);
}

/// <summary>A PEM public key that checks DSSE signatures.</summary>
public interface IDsseVerifier
{
    string KeyId { get; }

    string Description { get; }

    bool Verify(byte[] pae, byte[] signature, DsseHash hash);
}

/// <summary>
/// PEM keys as sigstore's cryptoutils reads them for <c>sign --key</c> and <c>verify --key</c>: RSA (PKCS#1 v1.5),
/// ECDSA P-256/P-384/P-521 (ASN.1 DER signatures) and Ed25519, from PKCS#8 ("PRIVATE KEY", or "ENCRYPTED PRIVATE
/// KEY" with a passphrase), PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY"), and for public keys PKIX
/// ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"). RSA and ECDSA are .NET's (OpenSSL); Ed25519 is BouncyCastle's.
/// </summary>
public static class PemKeys
{
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";
    private const string Ed25519Oid = "1.3.101.112";

    /// <summary>A PEM file larger than this is not a key.</summary>
    public const int MaxLength = 1 << 20;

    public static IDsseSigner LoadPrivate(string pemText, Func<string> passphrase)
    {
        (string label, byte[] der) = FirstPem(pemText, ["PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"])
            ?? throw new CryptographicException("no PEM private key found (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
        switch (label)
        {
            case "RSA PRIVATE KEY":
                RSA rsa1 = RSA.Create();
                rsa1.ImportRSAPrivateKey(der, out _);
                return new RsaKey(rsa1);
            case "EC PRIVATE KEY":
                ECDsa ec1 = ECDsa.Create();
                ec1.ImportECPrivateKey(der, out _);
                return new EcKey(ec1);
            case "ENCRYPTED PRIVATE KEY":
                der = Pkcs8Decrypt(der, passphrase());
                break;
        }
        string oid = Pkcs8Algorithm(der);
        switch (oid)
        {
            case RsaOid:
                RSA rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(der, out _);
                return new RsaKey(rsa);
            case EcOid:
                ECDsa ec = ECDsa.Create();
                ec.ImportPkcs8PrivateKey(der, out _);
                return new EcKey(ec);
            case Ed25519Oid:
                return new Ed25519Key(Ed25519Private(der));
            default:
                throw new CryptographicException($"unsupported private key algorithm {oid} (RSA, ECDSA and Ed25519 are)");
        }
    }

    public static IDsseVerifier LoadPublic(string pemText)
    {
        (string label, byte[] der) = FirstPem(pemText, ["PUBLIC KEY", "RSA PUBLIC KEY"])
            ?? throw new CryptographicException("no PEM public key found (PUBLIC KEY or RSA PUBLIC KEY)");
        if (label == "RSA PUBLIC KEY")
        {
            RSA rsa1 = RSA.Create();
            rsa1.ImportRSAPublicKey(der, out _);
            return new RsaKey(rsa1);
        }
        string oid = SpkiAlgorithm(der);
        switch (oid)
        {
            case RsaOid:
                RSA rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(der, out _);
                return new RsaKey(rsa);
            case EcOid:
                ECDsa ec = ECDsa.Create();
                ec.ImportSubjectPublicKeyInfo(der, out _);
                return new EcKey(ec);
            case Ed25519Oid:
                return new Ed25519Key(new Ed25519PublicKeyParameters(SpkiKeyBits(der)));
            default:
                throw new CryptographicException($"unsupported public key algorithm {oid} (RSA, ECDSA and Ed25519 are)");
        }
    }

    /// <summary>The first PEM block with one of the labels: its label and its decoded bytes.</summary>
    private static (string Label, byte[] Der)? FirstPem(string text, string[] labels)
    {
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out PemFields f))
        {
            string label = rest[f.Label].ToString();
            if (labels.Contains(label))
            {
                return (label, Convert.FromBase64String(rest[f.Base64Data].ToString()));
            }
            rest = rest[f.Location.End.GetOffset(rest.Length)..];
        }
        return null;
    }

    private static string Pkcs8Algorithm(byte[] der)
    {
        var seq = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        seq.ReadInteger();
        return seq.ReadSequence().ReadObjectIdentifier();
    }

    private static string SpkiAlgorithm(byte[] der) =>
        new AsnReader(der, AsnEncodingRules.DER).ReadSequence().ReadSequence().ReadObjectIdentifier();

    private static byte[] SpkiKeyBits(byte[] der)
    {
        var seq = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        seq.ReadSequence();
        return seq.ReadBitString(out _);
    }

    private static Ed25519PrivateKeyParameters Ed25519Private(byte[] pkcs8)
    {
        var seq = new AsnReader(pkcs8, AsnEncodingRules.DER).ReadSequence();
        seq.ReadInteger();
        seq.ReadSequence();
        byte[] inner = seq.ReadOctetString();
        byte[] seed = new AsnReader(inner, AsnEncodingRules.DER).ReadOctetString();
        return new Ed25519PrivateKeyParameters(seed);
    }

    /// <summary>Decrypts a PKCS#8 EncryptedPrivateKeyInfo (PBES2) with .NET, giving the plain PKCS#8 bytes.</summary>
    private static byte[] Pkcs8Decrypt(byte[] der, string passphrase)
    {
        // ECDsa/RSA import would do this too, but an Ed25519 key needs the plain bytes: any algorithm object decrypts.
        using var probe = ECDsa.Create();
        try
        {
            probe.ImportEncryptedPkcs8PrivateKey(passphrase, der, out _);
            return probe.ExportPkcs8PrivateKey();
        }
        catch (CryptographicException)
        {
        }
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportEncryptedPkcs8PrivateKey(passphrase, der, out _);
            return rsa.ExportPkcs8PrivateKey();
        }
        catch (CryptographicException)
        {
        }
        return Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(passphrase.ToCharArray(),
            Org.BouncyCastle.Asn1.Pkcs.EncryptedPrivateKeyInfo.GetInstance(der)).GetEncoded();
    }

    /// <summary>OpenSSH's "SHA256:" fingerprint of a key's wire encoding (base64 without padding).</summary>
    internal static string SshFingerprint(byte[] wire) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(wire)).TrimEnd('=');

    internal static byte[] SshWire(params byte[][] fields)
    {
        using var ms = new MemoryStream();
        Span<byte> len = stackalloc byte[4];
        foreach (byte[] f in fields)
        {
            BinaryPrimitives.WriteInt32BigEndian(len, f.Length);
            ms.Write(len);
            ms.Write(f);
        }
        return ms.ToArray();
    }

    /// <summary>An SSH mpint: big-endian, no leading zeros, one zero byte added when the top bit is set.</summary>
    internal static byte[] Mpint(byte[] unsigned)
    {
        int i = 0;
        while (i < unsigned.Length - 1 && unsigned[i] == 0)
        {
            i++;
        }
        byte[] v = unsigned[i..];
        return v.Length > 0 && (v[0] & 0x80) != 0 ? [0, .. v] : v;
    }

    private static HashAlgorithmName Name(DsseHash h) => h switch
    {
        DsseHash.Sha384 => HashAlgorithmName.SHA384,
        DsseHash.Sha512 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    private sealed class RsaKey(RSA rsa) : IDsseSigner, IDsseVerifier
    {
        public string KeyId { get; } = KeyIdOf(rsa);

        public string Description => $"RSA {rsa.KeySize}";

        public byte[] Sign(byte[] pae, DsseHash hash) => rsa.SignData(pae, Name(hash), RSASignaturePadding.Pkcs1);

        public bool Verify(byte[] pae, byte[] signature, DsseHash hash)
        {
            try
            {
                return rsa.VerifyData(pae, signature, Name(hash), RSASignaturePadding.Pkcs1);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }

        private static string KeyIdOf(RSA rsa)
        {
            RSAParameters p = rsa.ExportParameters(false);
            return SshFingerprint(SshWire(Encoding.ASCII.GetBytes("ssh-rsa"), Mpint(p.Exponent!), Mpint(p.Modulus!)));
        }
    }

    private sealed class EcKey(ECDsa ec) : IDsseSigner, IDsseVerifier
    {
        public string KeyId { get; } = KeyIdOf(ec);

        public string Description => $"ECDSA {CurveName(ec)}";

        public byte[] Sign(byte[] pae, DsseHash hash) => ec.SignData(pae, Name(hash), DSASignatureFormat.Rfc3279DerSequence);

        public bool Verify(byte[] pae, byte[] signature, DsseHash hash)
        {
            try
            {
                return ec.VerifyData(pae, signature, Name(hash), DSASignatureFormat.Rfc3279DerSequence);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }

        private static string CurveName(ECDsa ec) => ec.KeySize switch { 256 => "P-256", 384 => "P-384", 521 => "P-521", int n => $"{n}-bit" };

        private static string KeyIdOf(ECDsa ec)
        {
            ECParameters p = ec.ExportParameters(false);
            string curve = ec.KeySize switch { 256 => "nistp256", 384 => "nistp384", 521 => "nistp521", _ => throw new CryptographicException($"unsupported ECDSA curve of {ec.KeySize} bits") };
            byte[] point = [0x04, .. p.Q.X!, .. p.Q.Y!];
            return SshFingerprint(SshWire(Encoding.ASCII.GetBytes("ecdsa-sha2-" + curve), Encoding.ASCII.GetBytes(curve), point));
        }
    }

    private sealed class Ed25519Key : IDsseSigner, IDsseVerifier
    {
        private readonly Ed25519PrivateKeyParameters? _private;
        private readonly Ed25519PublicKeyParameters _public;

        public Ed25519Key(Ed25519PrivateKeyParameters key)
        {
            _private = key;
            _public = key.GeneratePublicKey();
            KeyId = KeyIdOf(_public);
        }

        public Ed25519Key(Ed25519PublicKeyParameters key)
        {
            _public = key;
            KeyId = KeyIdOf(_public);
        }

        public string KeyId { get; }

        public string Description => "Ed25519";

        public byte[] Sign(byte[] pae, DsseHash hash)
        {
            var s = new Ed25519Signer();
            s.Init(true, _private ?? throw new InvalidOperationException("a public key cannot sign"));
            s.BlockUpdate(pae, 0, pae.Length);
            return s.GenerateSignature();
        }

        public bool Verify(byte[] pae, byte[] signature, DsseHash hash)
        {
            var s = new Ed25519Signer();
            s.Init(false, _public);
            s.BlockUpdate(pae, 0, pae.Length);
            return s.VerifySignature(signature);
        }

        private static string KeyIdOf(Ed25519PublicKeyParameters k) =>
            SshFingerprint(SshWire(Encoding.ASCII.GetBytes("ssh-ed25519"), k.GetEncoded()));
    }
}
