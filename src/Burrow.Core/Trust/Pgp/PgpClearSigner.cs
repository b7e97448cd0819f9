using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Burrow.Core.Trust.Pgp;

/// <summary>
/// Clear-signs a message with an entity's primary key as the SIF reference does: a v4 canonical-text signature
/// with SHA-256, whose hashed area holds the creation time and the issuer key id (both critical) and the issuer
/// fingerprint, framed by <see cref="ClearSignedMessage"/>. gpg verifies the result (a test checks it).
/// </summary>
public sealed class PgpClearSigner
{
    private readonly PgpEntity _entity;
    private readonly PgpPrivateKey _key;

    private PgpClearSigner(PgpEntity entity, PgpPrivateKey key)
    {
        _entity = entity;
        _key = key;
    }

    public PgpEntity Entity => _entity;

    /// <summary>Unlocks the entity's primary secret key; a wrong passphrase is a <see cref="WrongPassphraseException"/>.</summary>
    public static PgpClearSigner Unlock(PgpEntity entity, Func<string> passphrase)
    {
        PgpSecretKey secret = entity.SecretRing?.GetSecretKey()
            ?? throw new ArgumentException("the entity has no secret key", nameof(entity));
        if (!secret.IsSigningKey)
        {
            throw new NotSupportedException($"the primary key of {entity.FingerprintHex} cannot sign ({entity.Algorithm})");
        }
        PgpPrivateKey? key;
        if (secret.KeyEncryptionAlgorithm == SymmetricKeyAlgorithmTag.Null)
        {
            key = secret.ExtractPrivateKey(null);
        }
        else
        {
            try
            {
                key = secret.ExtractPrivateKeyUtf8(passphrase().ToCharArray());
            }
            catch (PgpException e)
            {
                throw new WrongPassphraseException(entity, e);
            }
        }
        return new PgpClearSigner(entity, key ?? throw new WrongPassphraseException(entity, null));
    }

    /// <summary>The clear-signed message for <paramref name="text"/>, signed at <paramref name="time"/> (now if null).</summary>
    public byte[] Sign(ReadOnlySpan<byte> text, DateTime? time = null)
    {
        byte[] canonical = ClearSignedMessage.Canonical(text);
        var generator = new PgpSignatureGenerator(_entity.Primary.Algorithm, HashAlgorithmTag.Sha256);
        generator.InitSign(PgpSignature.CanonicalTextDocument, _key, new SecureRandom());
        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetSignatureCreationTime(true, (time ?? DateTime.UtcNow).ToUniversalTime());
        hashed.SetIssuerKeyID(true, _key.KeyId);
        hashed.SetIssuerFingerprint(false, _entity.Primary);
        generator.SetHashedSubpackets(hashed.Generate());
        generator.Update(canonical);
        PgpSignature signature = generator.Generate();
        using var packets = new MemoryStream();
        using (var bcpg = new BcpgOutputStream(packets, newFormatOnly: true))
        {
            signature.Encode(bcpg);
        }
        return ClearSignedMessage.Encode(text, "SHA256", packets.ToArray());
    }
}

/// <summary>The passphrase did not unlock the secret key.</summary>
public sealed class WrongPassphraseException(PgpEntity entity, Exception? inner)
    : Exception($"the passphrase does not unlock the secret key {entity.FingerprintHex}", inner)
{
    public PgpEntity Entity { get; } = entity;
}
