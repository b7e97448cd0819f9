using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Burrow.Core.Trust.Pgp;

/// <summary>A keyring the verifier searches, with the name verify's output gives it ("GLOBAL", "LOCAL").</summary>
public sealed record NamedKeyring(string Label, PgpKeyring Keyring);

/// <summary>A clear-signed message whose signature checked out.</summary>
public sealed record PgpVerified(byte[] Plaintext, PgpEntity Signer, string KeyringLabel, PgpSignature Signature);

/// <summary>A signature that does not verify (unknown key, weak hash, bad bytes); the message says which.</summary>
public sealed class PgpSignatureInvalidException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Checks a clear-signed message against keyrings as the SIF reference does (go-crypto's
/// CheckDetachedSignatureAndHash): the signing key is found by its key id, the hash must be SHA-224, -256, -384
/// or -512 (a weaker one is refused: Singularity/sif CVE-2022-39237), and a revoked key, a subkey not bound for
/// signing, or a key that had expired when it signed do not count.
/// </summary>
public sealed class PgpClearSignVerifier(IReadOnlyList<NamedKeyring> keyrings)
{
    public static readonly IReadOnlySet<HashAlgorithmTag> AcceptedHashes = new HashSet<HashAlgorithmTag>
    {
        HashAlgorithmTag.Sha224, HashAlgorithmTag.Sha256, HashAlgorithmTag.Sha384, HashAlgorithmTag.Sha512,
    };

    public IReadOnlyList<NamedKeyring> Keyrings => keyrings;

    /// <exception cref="PgpSignatureInvalidException">The message is malformed or its signature does not verify.</exception>
    public PgpVerified Verify(ReadOnlySpan<byte> data)
    {
        ClearSignedMessage message = ClearSignedMessage.TryDecode(data)
            ?? throw new PgpSignatureInvalidException("clearsigned message not found");
        PgpSignature signature = ReadSignature(message.Signature);
        if (!AcceptedHashes.Contains(signature.HashAlgorithm))
        {
            throw new PgpSignatureInvalidException(
                $"the signature uses {HashName(signature.HashAlgorithm)}, which is not accepted (only SHA-224, SHA-256, SHA-384 and SHA-512)");
        }
        if (message.HashHeaders.Count > 0 && !message.HashHeaders.Contains(HashName(signature.HashAlgorithm).Replace("-", "", StringComparison.Ordinal), StringComparer.OrdinalIgnoreCase))
        {
            throw new PgpSignatureInvalidException("hash algorithm mismatch with cleartext message headers");
        }
        if (signature.SignatureType is not (PgpSignature.CanonicalTextDocument or PgpSignature.BinaryDocument))
        {
            throw new PgpSignatureInvalidException($"the signature is of type 0x{signature.SignatureType:x2}, not a document signature");
        }
        (NamedKeyring ring, PgpEntity entity, PgpPublicKey key) = FindKey(signature);
        CheckUsable(entity, key, signature);
        try
        {
            signature.InitVerify(key);
            signature.Update(message.SignedBytes);
            if (!signature.Verify())
            {
                throw new PgpSignatureInvalidException($"invalid signature: it does not match the signed text (key {entity.FingerprintHex})");
            }
        }
        catch (PgpException e)
        {
            throw new PgpSignatureInvalidException($"invalid signature: {e.Message}", e);
        }
        return new PgpVerified(message.Plaintext, entity, ring.Label, signature);
    }

    private static PgpSignature ReadSignature(byte[] packets)
    {
        try
        {
            var factory = new PgpObjectFactory(packets);
            PgpObject? o = factory.NextPgpObject();
            if (o is PgpSignatureList list && list.Count == 1)
            {
                return list[0];
            }
            throw new PgpSignatureInvalidException(o is PgpSignatureList l ? $"the signature block holds {l.Count} signatures, not one" : "the signature block holds no signature");
        }
        catch (Exception e) when (e is IOException or PgpException or InvalidCastException or ArgumentException)
        {
            throw new PgpSignatureInvalidException("the signature block is not an OpenPGP signature: " + e.Message, e);
        }
    }

    private (NamedKeyring, PgpEntity, PgpPublicKey) FindKey(PgpSignature signature)
    {
        foreach (NamedKeyring ring in keyrings)
        {
            if (ring.Keyring.FindKey(signature.KeyId) is { } found)
            {
                return (ring, found.Entity, found.Key);
            }
        }
        throw new PgpSignatureInvalidException($"signature made by unknown entity (key id {signature.KeyId:X16} is in no keyring)");
    }

    private static void CheckUsable(PgpEntity entity, PgpPublicKey key, PgpSignature signature)
    {
        if (entity.Primary.HasRevocation() || key.HasRevocation())
        {
            throw new PgpSignatureInvalidException($"the signing key {entity.FingerprintHex} is revoked");
        }
        if (!key.IsMasterKey && !IsSigningSubkey(key))
        {
            throw new PgpSignatureInvalidException($"the signing subkey {key.KeyId:X16} of {entity.FingerprintHex} is not bound for signing");
        }
        long valid = key.GetValidSeconds();
        if (valid > 0 && key.CreationTime.ToUniversalTime().AddSeconds(valid) < signature.CreationTime.ToUniversalTime())
        {
            throw new PgpSignatureInvalidException($"the signing key {entity.FingerprintHex} had expired when it signed");
        }
    }

    private static bool IsSigningSubkey(PgpPublicKey key)
    {
        foreach (PgpSignature binding in key.GetSignaturesOfType(PgpSignature.SubkeyBinding))
        {
            if (binding.GetHashedSubPackets() is { } p && (p.GetKeyFlags() & PgpKeyFlags.CanSign) != 0)
            {
                return true;
            }
        }
        return false;
    }

    public static string HashName(HashAlgorithmTag h) => h switch
    {
        HashAlgorithmTag.MD5 => "MD5",
        HashAlgorithmTag.Sha1 => "SHA-1",
        HashAlgorithmTag.RipeMD160 => "RIPEMD-160",
        HashAlgorithmTag.Sha224 => "SHA-224",
        HashAlgorithmTag.Sha256 => "SHA-256",
        HashAlgorithmTag.Sha384 => "SHA-384",
        HashAlgorithmTag.Sha512 => "SHA-512",
        _ => h.ToString(),
    };
}
