namespace Burrow.Core.Trust;

/// <summary>What kind of verification failure it is, as the reference's error types distinguish them.</summary>
public enum SifVerifyFailure
{
    /// <summary>The request does not fit the image: object or group not found, no groups, an ungrouped object.</summary>
    Selection,

    /// <summary>No signature for a group or object (the reference's SignatureNotFoundError).</summary>
    SignatureNotFound,

    /// <summary>A signature that does not verify cryptographically (SignatureNotValidError): unknown key, bad bytes.</summary>
    SignatureNotValid,

    /// <summary>No key material for the signature's format, or a format Burrow does not know.</summary>
    KeyMaterial,

    /// <summary>The signature verified but its signer is not the one the descriptor names.</summary>
    FingerprintMismatch,

    /// <summary>The signed metadata does not describe the same set of objects as the image holds.</summary>
    ObjectSet,

    /// <summary>The header, a descriptor or an object's data is not what was signed.</summary>
    Integrity,
}

/// <summary>
/// A failed verification. <see cref="Exception.Message"/> is the reference's wording ("signature not found for
/// object group 1", "data object integrity compromised: 2") so that scripts written for Apptainer keep working;
/// <see cref="ObjectId"/> names the object concerned, when there is one.
/// </summary>
public sealed class SifVerifyException(SifVerifyFailure failure, string message, uint objectId = 0, uint signatureId = 0, Exception? inner = null)
    : Exception(message, inner)
{
    public SifVerifyFailure Failure { get; } = failure;

    public uint ObjectId { get; } = objectId;

    /// <summary>The signature object concerned (for not-valid and mismatch failures), else 0.</summary>
    public uint SignatureId { get; } = signatureId;
}
