using System.Globalization;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Burrow.Core.Trust.Pgp;

/// <summary>
/// One OpenPGP key ("entity"): a primary key with its user ids and subkeys, from a public keyring, and the
/// secret half when it came from a secret keyring. Its identity everywhere in Burrow is the primary key's v4
/// fingerprint, shown as 40 upper-case hex digits as Apptainer shows it.
/// </summary>
public sealed class PgpEntity
{
    internal PgpEntity(PgpPublicKeyRing publicRing, PgpSecretKeyRing? secretRing)
    {
        PublicRing = publicRing;
        SecretRing = secretRing;
        Primary = publicRing.GetPublicKey();
        Fingerprint = Primary.GetFingerprint();
    }

    internal PgpPublicKeyRing PublicRing { get; }

    internal PgpSecretKeyRing? SecretRing { get; }

    internal PgpPublicKey Primary { get; }

    /// <summary>The primary key's fingerprint (20 bytes for a v4 key).</summary>
    public byte[] Fingerprint { get; }

    public string FingerprintHex => Convert.ToHexString(Fingerprint);

    public bool HasSecret => SecretRing is not null;

    public IReadOnlyList<string> UserIds => Primary.GetUserIds().ToArray();

    /// <summary>The user id Apptainer reports as the signing entity: the primary one if marked, else the first.</summary>
    public string PrimaryUserId
    {
        get
        {
            string? first = null;
            foreach (string id in Primary.GetUserIds())
            {
                first ??= id;
                foreach (PgpSignature s in Primary.GetSignaturesForId(id))
                {
                    if (s.GetHashedSubPackets() is { } p && p.IsPrimaryUserId())
                    {
                        return id;
                    }
                }
            }
            return first ?? "";
        }
    }

    public DateTime CreatedUtc => Primary.CreationTime.ToUniversalTime();

    public int BitLength => Primary.BitStrength;

    public string Algorithm => Primary.Algorithm switch
    {
        PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaSign or PublicKeyAlgorithmTag.RsaEncrypt => "RSA",
        PublicKeyAlgorithmTag.Dsa => "DSA",
        PublicKeyAlgorithmTag.ECDsa => "ECDSA",
        PublicKeyAlgorithmTag.EdDsa_Legacy or PublicKeyAlgorithmTag.Ed25519 => "EdDSA",
        _ => Primary.Algorithm.ToString(),
    };

    /// <summary>Go's time.Time String() in UTC, as Apptainer's key list prints it: "2020-06-30 00:01:56 +0000 UTC".</summary>
    public string CreatedText => CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " +0000 UTC";

    /// <summary>The public half alone (for an entity read from a secret keyring).</summary>
    public PgpEntity PublicOnly() => SecretRing is null ? this : new PgpEntity(PublicRing, null);

    public bool Matches(string fingerprint) =>
        string.Equals(FingerprintHex, Normalize(fingerprint), StringComparison.Ordinal);

    /// <summary>"0x12ab…", spaces and lower case accepted, as people paste fingerprints.</summary>
    public static string Normalize(string fingerprint)
    {
        string f = fingerprint.Trim();
        if (f.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            f = f[2..];
        }
        return f.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
    }

    public override string ToString() => $"{FingerprintHex} ({PrimaryUserId})";
}
