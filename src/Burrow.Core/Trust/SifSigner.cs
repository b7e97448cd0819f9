using Burrow.Core.Sif;
using Burrow.Core.Trust.Dsse;
using Burrow.Core.Trust.Pgp;

namespace Burrow.Core.Trust;

/// <summary>What to sign (the reference's OptSignGroup, OptSignObjects) and when.</summary>
public sealed record SignSelection
{
    public uint? GroupId { get; init; }

    public uint? ObjectId { get; init; }

    /// <summary>The PGP signature's creation time; null is now. The signature object gets the image's usual edit time (Go's zero time in a deterministic image).</summary>
    public DateTimeOffset? Time { get; init; }
}

/// <summary>One signature object written: which group it covers and which objects it signs.</summary>
public sealed record SignatureAdded(SifDescriptor Signature, uint Group, IReadOnlyList<SifDescriptor> Objects, IReadOnlyList<SifDescriptor> EarlierBySameKey);

/// <summary>Key material that turns signed metadata into a signature object's bytes.</summary>
public abstract class SignatureEncoder
{
    /// <summary>The signer's 20-byte fingerprint for the descriptor (PGP), or null (DSSE).</summary>
    public abstract byte[]? Fingerprint { get; }

    /// <summary>The hash the signature is made with, recorded in the descriptor.</summary>
    public virtual SifHashType HashType => SifHashType.Sha256;

    public abstract byte[] Encode(byte[] metadata, DateTimeOffset? time);

    /// <summary>Whether an existing signature object was made by this same key.</summary>
    public abstract bool SameKey(SifDescriptor signature, byte[] data);

    public static SignatureEncoder Pgp(PgpClearSigner signer) => new PgpEncoder(signer);

    public static SignatureEncoder Dsse(params IDsseSigner[] signers) => new DsseEncoder(signers);

    private sealed class PgpEncoder(PgpClearSigner signer) : SignatureEncoder
    {
        public override byte[]? Fingerprint => signer.Entity.Fingerprint;

        public override byte[] Encode(byte[] metadata, DateTimeOffset? time) => signer.Sign(metadata, time?.UtcDateTime);

        public override bool SameKey(SifDescriptor signature, byte[] data) => signature.Entity.SequenceEqual(signer.Entity.Fingerprint);
    }

    /// <summary>One envelope with a signature by each signer (what the reference's gen script does with two keys).</summary>
    private sealed class DsseEncoder(IReadOnlyList<IDsseSigner> signers) : SignatureEncoder
    {
        public override byte[]? Fingerprint => null;

        public override byte[] Encode(byte[] metadata, DateTimeOffset? time)
        {
            byte[] pae = DsseEnvelope.Pae(DsseEnvelope.SifMetadataType, metadata);
            return new DsseEnvelope(DsseEnvelope.SifMetadataType, metadata, signers.Select(s => new DsseSignature(s.KeyId, s.Sign(pae, DsseHash.Sha256))).ToArray()).Encode();
        }

        public override bool SameKey(SifDescriptor signature, byte[] data) =>
            DsseEnvelope.TryDecode(data) is { } e && e.Signatures.Any(s => signers.Any(k => k.KeyId == s.KeyId));
    }
}

/// <summary>
/// Signs a SIF as the reference's pkg/integrity Signer does: by default one signature per object group (in
/// ascending order), each covering every object of its group; or one group; or one object (still with ids relative
/// to its group). Each signature is a new Signature object with no group, linked to the group it covers, whose
/// descriptor records the hash and the signer's fingerprint; it is added with the image's crash-safe AddObject.
/// Earlier signatures are never replaced or removed: a second signature by the same key is added beside the first,
/// and <see cref="SignatureAdded.EarlierBySameKey"/> says so, for the caller to tell the user.
/// </summary>
public static class SifSigner
{
    public static IReadOnlyList<SignatureAdded> Sign(SifImage image, SignatureEncoder encoder, SignSelection selection)
    {
        List<(uint Group, IReadOnlyList<SifDescriptor> Objects)> plan = Plan(image, selection);
        var added = new List<SignatureAdded>();
        foreach ((uint group, IReadOnlyList<SifDescriptor> objects) in plan)
        {
            SifDescriptor[] earlier = image.Descriptors
                .Where(d => d.Type == SifDataType.Signature && d.LinkIsGroup && d.LinkedId == group && encoder.SameKey(d, image.ReadObject(d)))
                .ToArray();
            byte[] metadata = SifIntegrity.ImageMetadataJson(image, objects);
            byte[] signature = encoder.Encode(metadata, selection.Time);
            using var data = new MemoryStream(signature, writable: false);
            SifDescriptor d = image.AddObject(new SifObjectSpec(SifDataType.Signature, data)
            {
                GroupId = 0,
                LinkedId = group,
                LinkIsGroup = true,
                HashType = encoder.HashType,
                Entity = encoder.Fingerprint,
            });
            added.Add(new SignatureAdded(d, group, objects, earlier));
        }
        return added;
    }

    private static List<(uint, IReadOnlyList<SifDescriptor>)> Plan(SifImage image, SignSelection s)
    {
        var plan = new List<(uint, IReadOnlyList<SifDescriptor>)>();
        if (s.GroupId is { } g)
        {
            if (g == 0)
            {
                throw new SifVerifyException(SifVerifyFailure.Selection, "invalid group ID");
            }
            SifDescriptor[] members = image.Descriptors.Where(d => d.GroupId == g).ToArray();
            plan.Add((g, members.Length > 0 ? members : throw new SifVerifyException(SifVerifyFailure.Selection, "group not found")));
        }
        if (s.ObjectId is { } id)
        {
            SifDescriptor d = image.TryGetById(id) ?? throw new SifVerifyException(SifVerifyFailure.Selection, "object not found", id);
            if (d.GroupId == 0)
            {
                throw new SifVerifyException(SifVerifyFailure.Selection, "invalid group ID", id);
            }
            plan.Add((d.GroupId, [d]));
        }
        if (plan.Count == 0)
        {
            uint[] groups = image.Descriptors.Where(d => d.GroupId != 0).Select(d => d.GroupId).Distinct().Order().ToArray();
            if (groups.Length == 0)
            {
                throw new SifVerifyException(SifVerifyFailure.Selection, "no groups found");
            }
            foreach (uint group in groups)
            {
                plan.Add((group, image.Descriptors.Where(d => d.GroupId == group).ToArray()));
            }
        }
        return plan;
    }
}
