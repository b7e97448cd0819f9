using System.Text;
using Burrow.Core.Sif;
using Burrow.Core.Trust.Dsse;
using Burrow.Core.Trust.Pgp;

namespace Burrow.Core.Trust;

/// <summary>What to verify (the reference's OptVerifyGroup, OptVerifyObject, OptVerifyLegacy, OptVerifyLegacyAll).</summary>
public sealed record VerifySelection
{
    /// <summary>One group only; null verifies every group.</summary>
    public uint? GroupId { get; init; }

    /// <summary>One object only (its group's signatures, which may cover more).</summary>
    public uint? ObjectId { get; init; }

    /// <summary>Legacy signatures (object data only) instead of the current ones.</summary>
    public bool Legacy { get; init; }

    /// <summary>With <see cref="Legacy"/>: one task per grouped object as well.</summary>
    public bool LegacyAll { get; init; }
}

/// <summary>Where public keys come from: keyrings for PGP signatures, PEM keys for DSSE envelopes.</summary>
public sealed record VerifyKeys(PgpClearSignVerifier? Pgp, IReadOnlyList<IDsseVerifier> Dsse)
{
    public static VerifyKeys FromKeyrings(params NamedKeyring[] keyrings) => new(new PgpClearSignVerifier(keyrings), []);
}

public enum SignatureFormat { Pgp, Dsse, LegacyPgp }

/// <summary>The outcome of one signature (the reference's VerifyResult).</summary>
public sealed record SignatureResult(SifDescriptor Signature, SignatureFormat? Format, PgpVerified? Pgp, IReadOnlyList<IDsseVerifier> DsseKeys,
    IReadOnlyList<SifDescriptor> Verified, SifVerifyException? Error);

/// <summary>Everything a verification found: each signature's result, the first failure not ignored, and what it read.</summary>
public sealed record SifVerification(IReadOnlyList<SignatureResult> Results, SifVerifyException? Error, VerifiedExtent? Extent, long BytesHashed,
    IReadOnlyList<uint> TaskGroups)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Verifies a SIF's signatures as the reference's pkg/integrity Verifier does, task by task and signature by
/// signature, with its rules and its error wording: every non-signature object must be in a group; by default one
/// task per group, which must be covered exactly by each of its signatures (so an object added after signing, or
/// one left out, fails: Singularity CVE-2020-13846); the signed metadata covers the header's launch script, magic,
/// version and id and every descriptor (CVE-2020-13847); a PGP signature must come from the entity whose
/// fingerprint the signature descriptor names. Unlike the reference, each object's data is read once however many
/// signatures cover it, and the primary partition's chunk digests can be recorded from that same pass for serving
/// it later (<see cref="VerifiedExtent"/>).
/// </summary>
public sealed class SifVerifier
{
    private readonly SifImage _image;
    private readonly VerifyKeys _keys;
    private readonly ObjectDigests _digests;
    private readonly Dictionary<uint, bool> _legacyCache = [];

    private SifVerifier(SifImage image, VerifyKeys keys)
    {
        _image = image;
        _keys = keys;
        _digests = new ObjectDigests(image);
    }

    /// <param name="ignore">Called after each signature; returning true ignores its error (the reference's VerifyCallback).</param>
    /// <param name="record">An object whose chunk digests are to be recorded while it is hashed.</param>
    public static SifVerification Verify(SifImage image, VerifySelection selection, VerifyKeys keys,
        Func<SignatureResult, bool>? ignore = null, SifDescriptor? record = null)
    {
        var v = new SifVerifier(image, keys);
        return v.Run(selection, ignore, record);
    }

    /// <summary>
    /// The fingerprints stored in the signature descriptors of the selection's tasks (the reference's AnySignedBy and
    /// AllSignedBy): those of signatures in any task, or only those present in every task. No cryptography: use it
    /// with the result of <see cref="Verify"/>.
    /// </summary>
    public static IReadOnlyList<string> Signers(SifImage image, VerifySelection selection, bool inEveryTask)
    {
        var v = new SifVerifier(image, new VerifyKeys(null, []));
        List<VerifyTask> tasks;
        try
        {
            tasks = v.Tasks(selection);
        }
        catch (SifVerifyException)
        {
            return [];
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (VerifyTask t in tasks)
        {
            foreach (string fp in v.Signatures(t).Where(s => !s.Entity.IsEmpty).Select(s => Convert.ToHexString(s.Entity)).Distinct())
            {
                counts[fp] = counts.GetValueOrDefault(fp) + 1;
            }
        }
        return counts.Where(c => !inEveryTask || c.Value == tasks.Count).Select(c => c.Key).Order(StringComparer.Ordinal).ToArray();
    }

    private abstract record VerifyTask(uint Group);

    private sealed record GroupTask(uint Group, IReadOnlyList<SifDescriptor> Objects, bool SubsetOk) : VerifyTask(Group);

    private sealed record LegacyGroupTask(uint Group, IReadOnlyList<SifDescriptor> Objects) : VerifyTask(Group);

    private sealed record LegacyObjectTask(SifDescriptor Object) : VerifyTask(Object.GroupId);

    private SifVerification Run(VerifySelection selection, Func<SignatureResult, bool>? ignore, SifDescriptor? record)
    {
        var results = new List<SignatureResult>();
        List<VerifyTask> tasks;
        try
        {
            tasks = Tasks(selection);
        }
        catch (SifVerifyException e)
        {
            return new SifVerification(results, e, null, 0, []);
        }
        uint[] groups = tasks.Select(t => t.Group).Distinct().ToArray();
        if (record is not null)
        {
            _digests.Record(record);
        }
        SifVerifyException? error = Check(tasks, results, ignore);
        if (error is null && record is not null && _digests.Extent is null)
        {
            _digests.Compute();
        }
        return new SifVerification(results, error, error is null ? _digests.Extent : null, _digests.BytesHashed, groups);
    }

    private List<VerifyTask> Tasks(VerifySelection s)
    {
        var objects = new SortedSet<uint>();
        var groups = new SortedSet<uint>();
        if (s.GroupId is { } g)
        {
            if (g == 0)
            {
                throw Selection("invalid group ID");
            }
            groups.Add(g);
        }
        if (s.ObjectId is { } o)
        {
            if (o == 0)
            {
                throw Selection("invalid object ID");
            }
            objects.Add(o);
        }
        if (s.Legacy && s.LegacyAll)
        {
            foreach (SifDescriptor d in _image.Descriptors.Where(d => d.Type != SifDataType.Signature && d.GroupId != 0))
            {
                objects.Add(d.Id);
            }
        }
        if (groups.Count == 0 && objects.Count == 0)
        {
            foreach (SifDescriptor d in _image.Descriptors.Where(d => d.GroupId != 0))
            {
                groups.Add(d.GroupId);
            }
            if (groups.Count == 0)
            {
                throw Selection("no groups found");
            }
        }
        var tasks = new List<VerifyTask>();
        foreach (uint group in groups)
        {
            IReadOnlyList<SifDescriptor> members = GroupObjects(group);
            tasks.Add(s.Legacy ? new LegacyGroupTask(group, members) : new GroupTask(group, members, SubsetOk: false));
        }
        foreach (uint id in objects)
        {
            SifDescriptor d = _image.TryGetById(id) ?? throw Selection("object not found", id);
            tasks.Add(s.Legacy ? new LegacyObjectTask(d) : new GroupTask(d.GroupId, [d], SubsetOk: true));
        }
        return tasks;
    }

    private IReadOnlyList<SifDescriptor> GroupObjects(uint group)
    {
        SifDescriptor[] members = _image.Descriptors.Where(d => d.GroupId == group).ToArray();
        return members.Length > 0 ? members : throw Selection("group not found");
    }

    private SifVerifyException? Check(List<VerifyTask> tasks, List<SignatureResult> results, Func<SignatureResult, bool>? ignore)
    {
        if (_image.Descriptors.FirstOrDefault(d => d.GroupId == 0 && d.Type != SifDataType.Signature) is { } loose)
        {
            return new SifVerifyException(SifVerifyFailure.Selection, "non-signature object not associated with object group", loose.Id);
        }
        // First every signature's cryptography (cheap), so that one batch of reads can compute every digest they name.
        var pending = new List<(VerifyTask Task, SifDescriptor Sig, SignatureFormat? Format, Decoded? Decoded, SifVerifyException? Error)>();
        foreach (VerifyTask task in tasks)
        {
            IReadOnlyList<SifDescriptor> sigs = Signatures(task);
            if (sigs.Count == 0)
            {
                pending.Add((task, null!, null, null, NotFound(task)));
                continue;
            }
            foreach (SifDescriptor sig in sigs)
            {
                try
                {
                    (SignatureFormat format, Decoded decoded) = Decode(task, sig);
                    pending.Add((task, sig, format, decoded, null));
                    WantDigests(task, decoded);
                }
                catch (SifVerifyException e)
                {
                    pending.Add((task, sig, FormatOf(sig), null, e));
                }
            }
        }
        foreach ((VerifyTask task, SifDescriptor sig, SignatureFormat? format, Decoded? decoded, SifVerifyException? early) in pending)
        {
            if (sig is null)
            {
                return early;
            }
            IReadOnlyList<SifDescriptor> verified = [];
            SifVerifyException? error = early;
            if (error is null)
            {
                try
                {
                    verified = Match(task, sig, decoded!);
                }
                catch (SifVerifyException e)
                {
                    error = e;
                    verified = e.Data["verified"] as IReadOnlyList<SifDescriptor> ?? [];
                }
                catch (IOException e)
                {
                    error = new SifVerifyException(SifVerifyFailure.Integrity, "cannot read the image: " + e.Message, 0, sig.Id, e);
                }
            }
            else if (error.Failure is SifVerifyFailure.KeyMaterial)
            {
                return error;
            }
            var result = new SignatureResult(sig, format, decoded?.Pgp, decoded?.Keys ?? [], verified, error);
            results.Add(result);
            if (error is not null && !(ignore?.Invoke(result) ?? false))
            {
                return error;
            }
            if (error is null)
            {
                ignore?.Invoke(result);
            }
        }
        return null;
    }

    private sealed record Decoded(byte[] Plaintext, PgpVerified? Pgp, IReadOnlyList<IDsseVerifier> Keys, SignedMetadata? Metadata);

    private static SifVerifyException NotFound(VerifyTask task) => task switch
    {
        LegacyObjectTask o => new SifVerifyException(SifVerifyFailure.SignatureNotFound, $"signature not found for object {o.Object.Id}", o.Object.Id),
        _ => new SifVerifyException(SifVerifyFailure.SignatureNotFound, $"signature not found for object group {task.Group}"),
    };

    private IReadOnlyList<SifDescriptor> Signatures(VerifyTask task) => task switch
    {
        LegacyObjectTask o => _image.Descriptors.Where(d => d.Type == SifDataType.Signature && !d.LinkIsGroup && d.LinkedId == o.Object.Id).ToArray(),
        LegacyGroupTask => GroupSignatures(task.Group, legacy: true),
        _ => GroupSignatures(task.Group, legacy: false),
    };

    private SifDescriptor[] GroupSignatures(uint group, bool legacy) =>
        _image.Descriptors.Where(d => d.Type == SifDataType.Signature && d.LinkIsGroup && d.LinkedId == group && IsLegacy(d) == legacy).ToArray();

    /// <summary>A legacy signature is clear-signed text starting with "SIFHASH:\n" (JSON metadata never does).</summary>
    private bool IsLegacy(SifDescriptor sig)
    {
        if (!_legacyCache.TryGetValue(sig.Id, out bool legacy))
        {
            byte[]? data = ReadSignature(sig);
            legacy = data is not null && ClearSignedMessage.TryDecode(data) is { } m && m.Plaintext.AsSpan().StartsWith("SIFHASH:\n"u8);
            _legacyCache[sig.Id] = legacy;
        }
        return legacy;
    }

    private byte[]? ReadSignature(SifDescriptor sig) => sig.Size <= ClearSignedMessage.MaxLength ? _image.ReadObject(sig) : null;

    private SignatureFormat? FormatOf(SifDescriptor sig)
    {
        byte[]? data = ReadSignature(sig);
        if (data is null)
        {
            return null;
        }
        if (DsseEnvelope.TryDecode(data) is { PayloadType: DsseEnvelope.SifMetadataType })
        {
            return SignatureFormat.Dsse;
        }
        return ClearSignedMessage.TryDecode(data) is null ? null : IsLegacy(sig) ? SignatureFormat.LegacyPgp : SignatureFormat.Pgp;
    }

    /// <summary>Checks the signature's cryptography and decodes what it signs.</summary>
    private (SignatureFormat, Decoded) Decode(VerifyTask task, SifDescriptor sig)
    {
        byte[] data = ReadSignature(sig) ?? throw NotValid(sig, $"the signature is {sig.Size} bytes, too large to be one");
        bool legacyTask = task is LegacyGroupTask or LegacyObjectTask;
        if (DsseEnvelope.TryDecode(data) is { PayloadType: DsseEnvelope.SifMetadataType } envelope)
        {
            if (_keys.Dsse.Count == 0)
            {
                throw new SifVerifyException(SifVerifyFailure.KeyMaterial, "key material not provided for DSSE envelope signature", 0, sig.Id);
            }
            IReadOnlyList<IDsseVerifier> accepted = CheckDsse(envelope, sig);
            return (SignatureFormat.Dsse, new Decoded(envelope.Payload, null, accepted, legacyTask ? null : Metadata(envelope.Payload, sig)));
        }
        if (!ClearSignedMessage.LooksLikeOne(data))
        {
            throw new SifVerifyException(SifVerifyFailure.KeyMaterial, "signature format not recognized", 0, sig.Id);
        }
        if (ClearSignedMessage.TryDecode(data) is null)
        {
            // It starts as a clear-signed message but its frame or armor does not decode: damaged, not a foreign format.
            throw NotValid(sig, "the clear-signed message is damaged: its signature block does not decode");
        }
        if (_keys.Pgp is null)
        {
            throw new SifVerifyException(SifVerifyFailure.KeyMaterial, "key material not provided for PGP clear-sign signature", 0, sig.Id);
        }
        PgpVerified pgp;
        try
        {
            pgp = _keys.Pgp.Verify(data);
        }
        catch (PgpSignatureInvalidException e)
        {
            throw NotValid(sig, e.Message, e);
        }
        SignedMetadata? metadata = legacyTask ? null : Metadata(pgp.Plaintext, sig);
        if (!pgp.Signer.Fingerprint.AsSpan().SequenceEqual(sig.Entity))
        {
            throw new SifVerifyException(SifVerifyFailure.FingerprintMismatch, "fingerprint in descriptor does not correspond to signing entity", 0, sig.Id);
        }
        return (legacyTask ? SignatureFormat.LegacyPgp : SignatureFormat.Pgp, new Decoded(pgp.Plaintext, pgp, [], metadata));
    }

    private IReadOnlyList<IDsseVerifier> CheckDsse(DsseEnvelope envelope, SifDescriptor sig)
    {
        DsseHash hash = sig.HashType switch
        {
            SifHashType.Sha256 => DsseHash.Sha256,
            SifHashType.Sha384 => DsseHash.Sha384,
            SifHashType.Sha512 => DsseHash.Sha512,
            SifHashType h => throw NotValid(sig, $"the signature's hash type {SifNames.Of(h)} is not supported (SHA-256, SHA-384 and SHA-512 are)"),
            null => throw NotValid(sig, "no hash type"),
        };
        byte[] pae = DsseEnvelope.Pae(envelope.PayloadType, envelope.Payload);
        var accepted = new List<IDsseVerifier>();
        foreach (IDsseVerifier key in _keys.Dsse)
        {
            foreach (DsseSignature s in envelope.Signatures)
            {
                if (s.KeyId.Length > 0 && key.KeyId.Length > 0 && s.KeyId != key.KeyId)
                {
                    continue;
                }
                if (key.Verify(pae, s.Sig, hash))
                {
                    accepted.Add(key);
                    break;
                }
            }
        }
        if (accepted.Count == 0)
        {
            throw NotValid(sig, $"dsse: verify envelope failed: no signature of the envelope ({string.Join(", ", envelope.Signatures.Select(s => s.KeyId.Length > 0 ? s.KeyId : "no key id"))}) verifies with the key{(_keys.Dsse.Count > 1 ? "s" : "")} given ({string.Join(", ", _keys.Dsse.Select(k => k.KeyId))})");
        }
        return accepted;
    }

    private static SignedMetadata Metadata(byte[] json, SifDescriptor sig)
    {
        try
        {
            return SignedMetadata.Parse(json);
        }
        catch (FormatException e)
        {
            throw NotValid(sig, e.Message, e);
        }
    }

    private void WantDigests(VerifyTask task, Decoded decoded)
    {
        switch (task)
        {
            case GroupTask g when decoded.Metadata is { } md:
                uint min = MinimumId(g.Group);
                foreach (SifDescriptor d in g.Objects)
                {
                    if (md.Objects.FirstOrDefault(o => min + o.RelativeId == d.Id) is { } om)
                    {
                        _digests.Want(d, om.ObjectDigest.Algorithm);
                    }
                }
                break;
            case LegacyObjectTask o when LegacyAlgorithm(o.Object.Id) is { } a:
                _digests.Want(o.Object, a);
                break;
        }
    }

    private SifDigestAlgorithm? LegacyAlgorithm(uint objectId)
    {
        SifDescriptor? sig = _image.Descriptors.FirstOrDefault(d => d.Type == SifDataType.Signature && !d.LinkIsGroup && d.LinkedId == objectId);
        return sig?.HashType switch
        {
            SifHashType.Sha256 => SifDigestAlgorithm.Sha256,
            SifHashType.Sha384 => SifDigestAlgorithm.Sha384,
            SifHashType.Sha512 => SifDigestAlgorithm.Sha512,
            _ => null,
        };
    }

    private uint MinimumId(uint group) => _image.Descriptors.Where(d => d.GroupId == group).Select(d => d.Id).DefaultIfEmpty(0u).Min();

    /// <summary>Compares what the signature covers with the image as it is now.</summary>
    private IReadOnlyList<SifDescriptor> Match(VerifyTask task, SifDescriptor sig, Decoded decoded)
    {
        switch (task)
        {
            case GroupTask g:
                return MatchGroup(g, decoded.Metadata!);
            case LegacyGroupTask lg:
                MatchLegacy(sig, decoded.Plaintext, lg.Objects, objectId: 0);
                return lg.Objects;
            case LegacyObjectTask lo:
                MatchLegacy(sig, decoded.Plaintext, [lo.Object], lo.Object.Id);
                return [lo.Object];
            default:
                throw new InvalidOperationException("unknown task");
        }
    }

    private IReadOnlyList<SifDescriptor> MatchGroup(GroupTask task, SignedMetadata md)
    {
        uint min = MinimumId(task.Group);
        var signedIds = md.Objects.Select(o => min + o.RelativeId).ToList();
        if (!task.SubsetOk)
        {
            foreach (SifDescriptor d in task.Objects)
            {
                if (!signedIds.Contains(d.Id))
                {
                    throw new SifVerifyException(SifVerifyFailure.ObjectSet, $"object {d.Id}: object not signed", d.Id);
                }
            }
            foreach (uint id in signedIds.Order())
            {
                if (task.Objects.All(d => d.Id != id))
                {
                    throw new SifVerifyException(SifVerifyFailure.ObjectSet, $"object {id}: signed object not found", id);
                }
            }
        }
        var verified = new List<SifDescriptor>();
        SifVerifyException Fail(SifVerifyException e)
        {
            e.Data["verified"] = verified.ToArray();
            return e;
        }
        if (!SifDigest.Compute(md.HeaderDigest.Algorithm, SifIntegrity.HeaderBytes(_image.Header)).Value.AsSpan().SequenceEqual(md.HeaderDigest.Value))
        {
            throw Fail(new SifVerifyException(SifVerifyFailure.Integrity, "header integrity compromised"));
        }
        _digests.Compute();
        foreach (SifDescriptor d in task.Objects)
        {
            SignedObject om = md.Objects.FirstOrDefault(o => min + o.RelativeId == d.Id)
                ?? throw Fail(new SifVerifyException(SifVerifyFailure.ObjectSet, $"object {d.Id}: object not signed", d.Id));
            byte[] descriptor = SifIntegrity.DescriptorBytes(d, d.Id - min);
            if (!SifDigest.Compute(om.DescriptorDigest.Algorithm, descriptor).Value.AsSpan().SequenceEqual(om.DescriptorDigest.Value))
            {
                throw Fail(new SifVerifyException(SifVerifyFailure.Integrity, $"data object descriptor integrity compromised: {d.Id}", d.Id));
            }
            if (!_digests.Get(d, om.ObjectDigest.Algorithm).AsSpan().SequenceEqual(om.ObjectDigest.Value))
            {
                throw Fail(new SifVerifyException(SifVerifyFailure.Integrity, $"data object integrity compromised: {d.Id}", d.Id));
            }
            verified.Add(d);
        }
        return verified;
    }

    /// <summary>A legacy signature: "SIFHASH:\n&lt;hex&gt;" over the objects' data alone, with the descriptor's hash.</summary>
    private void MatchLegacy(SifDescriptor sig, byte[] plaintext, IReadOnlyList<SifDescriptor> objects, uint objectId)
    {
        SifDigestAlgorithm a = sig.HashType switch
        {
            SifHashType.Sha256 => SifDigestAlgorithm.Sha256,
            SifHashType.Sha384 => SifDigestAlgorithm.Sha384,
            SifHashType.Sha512 => SifDigestAlgorithm.Sha512,
            _ => throw new SifVerifyException(SifVerifyFailure.ObjectSet, "hash algorithm unsupported", objectId, sig.Id),
        };
        string text = Encoding.ASCII.GetString(plaintext);
        text = text.StartsWith("SIFHASH:\n", StringComparison.Ordinal) ? text[9..] : text;
        text = text.EndsWith('\n') ? text[..^1] : text;
        byte[] want;
        try
        {
            want = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new SifVerifyException(SifVerifyFailure.ObjectSet, "encoding/hex: invalid byte in the legacy digest", objectId, sig.Id);
        }
        if (want.Length != SignedMetadata.SizeOf(a))
        {
            throw new SifVerifyException(SifVerifyFailure.ObjectSet, "digest malformed", objectId, sig.Id);
        }
        byte[] got;
        if (objects.Count == 1)
        {
            _digests.Compute();
            got = _digests.Get(objects[0], a);
        }
        else
        {
            SifHasher h = SifHasher.Create(a);
            byte[] buffer = new byte[1 << 20];
            foreach (SifDescriptor d in objects)
            {
                using Stream s = _image.OpenObject(d);
                int n;
                while ((n = s.Read(buffer)) > 0)
                {
                    h.Append(buffer.AsSpan(0, n));
                }
            }
            got = h.Finish();
        }
        if (!got.AsSpan().SequenceEqual(want))
        {
            throw new SifVerifyException(SifVerifyFailure.Integrity,
                objectId == 0 ? "data object integrity compromised" : $"data object integrity compromised: {objectId}", objectId, sig.Id);
        }
    }

    private static SifVerifyException Selection(string message, uint id = 0) => new(SifVerifyFailure.Selection, message, id);

    private static SifVerifyException NotValid(SifDescriptor sig, string why, Exception? inner = null) =>
        new(SifVerifyFailure.SignatureNotValid, $"signature object {sig.Id} not valid: {why}", 0, sig.Id, inner);
}
