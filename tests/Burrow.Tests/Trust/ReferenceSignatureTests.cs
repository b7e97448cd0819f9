using System.Text;
using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Dsse;
using Burrow.Core.Trust.Pgp;
using Burrow.Tests.Sif;

namespace Burrow.Tests.Trust;

/// <summary>
/// Burrow verifies every signed image of both reference versions with their keys, and signs as the reference does:
/// given the same key, time and image, Burrow's signatures and the whole signed file are the reference's bytes
/// (RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic, so equal bytes prove equal signed data and framing).
/// </summary>
public sealed class ReferenceSignatureTests
{
    private static uint[] Ids(IEnumerable<SifDescriptor> ds) => ds.Select(d => d.Id).ToArray();

    [Theory]
    [InlineData("apptainer", "one-group-signed-pgp.sif", new uint[] { 1, 2 })]
    [InlineData("apptainer", "two-groups-signed-pgp.sif", new uint[] { 1, 2, 3 })]
    [InlineData("sylabs", "one-group-signed.sif", new uint[] { 1, 2 })]
    [InlineData("sylabs", "two-groups-signed.sif", new uint[] { 1, 2, 3 })]
    public void PgpSignedImagesOfBothReferenceVersionsVerify(string version, string image, uint[] objects)
    {
        string path = Path.Combine(version == "apptainer" ? SifFixtures.Apptainer : SifFixtures.Sylabs, "test", "images", image);
        SifVerification v = TrustFixtures.Verify(path, TrustFixtures.Pgp(version == "apptainer" ? TrustFixtures.FixtureKey : TrustFixtures.SylabsKey));
        Assert.True(v.Succeeded, v.Error?.Message);
        Assert.Equal(objects, Ids(v.Results.SelectMany(r => r.Verified)));
        Assert.All(v.Results, r => Assert.Equal(TrustFixtures.FixtureFingerprint, r.Pgp!.Signer.FingerprintHex));
        Assert.All(v.Results, r => Assert.Equal("Unit Test <unit@test.com>", r.Pgp!.Signer.PrimaryUserId));
    }

    [Theory]
    [InlineData("one-group-signed-dsse.sif", "rsa")]
    [InlineData("one-group-signed-dsse.sif", "ed25519")]
    [InlineData("two-groups-signed-dsse.sif", "rsa")]
    [InlineData("two-groups-signed-dsse.sif", "ed25519")]
    public void DsseSignedImagesVerifyWithEitherOfTheirKeys(string image, string key)
    {
        SifVerification v = TrustFixtures.Verify(SifFixtures.Image(image), new VerifyKeys(null, [TrustFixtures.PemVerifier(key)]));
        Assert.True(v.Succeeded, v.Error?.Message);
        Assert.All(v.Results, r => Assert.Equal(TrustFixtures.PemVerifier(key).KeyId, Assert.Single(r.DsseKeys).KeyId));
    }

    [Fact]
    public void DsseImagesDoNotVerifyWithAnotherKeyOrWithoutOne()
    {
        SifVerification wrong = TrustFixtures.Verify(SifFixtures.Image("one-group-signed-dsse.sif"), new VerifyKeys(null, [TrustFixtures.PemVerifier("ecdsa")]));
        Assert.Equal(SifVerifyFailure.SignatureNotValid, wrong.Error!.Failure);
        Assert.StartsWith("signature object 3 not valid: dsse: verify envelope failed", wrong.Error.Message);
        SifVerification none = TrustFixtures.Verify(SifFixtures.Image("one-group-signed-dsse.sif"), TrustFixtures.Pgp(TrustFixtures.FixtureKey));
        Assert.Equal("key material not provided for DSSE envelope signature", none.Error!.Message);
        SifVerification pgpWithPem = TrustFixtures.Verify(SifFixtures.Image("one-group-signed-pgp.sif"), new VerifyKeys(null, [TrustFixtures.PemVerifier("rsa")]));
        Assert.Equal("key material not provided for PGP clear-sign signature", pgpWithPem.Error!.Message);
    }

    [Theory]
    [InlineData("one-group-signed-legacy.sif", null, null, false, true)]
    [InlineData("one-group-signed-legacy-group.sif", 1u, null, false, true)]
    [InlineData("one-group-signed-legacy-all.sif", null, null, true, true)]
    [InlineData("one-group-signed-legacy-all.sif", null, 1u, false, true)]
    [InlineData("two-groups-signed-legacy.sif", null, 2u, false, true)]
    [InlineData("two-groups-signed-legacy-group.sif", 1u, null, false, true)]
    [InlineData("two-groups-signed-legacy-group.sif", 2u, null, false, false)]
    [InlineData("one-group-signed-legacy-group.sif", null, 2u, false, false)]
    public void LegacySignaturesVerifyOnlyWhenAskedFor(string image, uint? group, uint? obj, bool all, bool succeeds)
    {
        using SifImage sif = SifImage.Open(SifFixtures.Image(image));
        var selection = new VerifySelection { Legacy = true, LegacyAll = all, GroupId = group, ObjectId = obj ?? (group is null && !all ? sif.PrimarySystemPartition!.Id : null) };
        SifVerification legacy = SifVerifier.Verify(sif, selection, TrustFixtures.Pgp(TrustFixtures.FixtureKey));
        Assert.Equal(succeeds, legacy.Succeeded);
        Assert.All(legacy.Results.Where(r => r.Error is null), r => Assert.Equal(SignatureFormat.LegacyPgp, r.Format));
        // Without asking for legacy signatures, the same image has none.
        SifVerification current = SifVerifier.Verify(sif, new VerifySelection(), TrustFixtures.Pgp(TrustFixtures.FixtureKey));
        Assert.Equal(SifVerifyFailure.SignatureNotFound, current.Error!.Failure);
    }

    [Theory]
    [InlineData("one-group.sif", "one-group-signed-pgp.sif")]
    [InlineData("two-groups.sif", "two-groups-signed-pgp.sif")]
    public void SigningWithTheReferenceKeyAndTimeGivesTheReferenceImageByteForByte(string unsigned, string signed)
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image(unsigned));
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            SifSigner.Sign(sif, SignatureEncoder.Pgp(PgpClearSigner.Unlock(TrustFixtures.FixtureKey, () => "")), new SignSelection { Time = TrustFixtures.FixtureTime });
        }
        Assert.Equal(File.ReadAllBytes(SifFixtures.Image(signed)), File.ReadAllBytes(copy));
    }

    /// <summary>
    /// The fixtures' envelopes were written by an older sigstore that ended them with a newline; the reference now
    /// writes none (its Test_dsseEncoder_signMessage goldens, matched below). Apart from that byte the envelopes,
    /// signatures included, are the reference's.
    /// </summary>
    [Theory]
    [InlineData("one-group.sif", "one-group-signed-dsse.sif")]
    [InlineData("two-groups.sif", "two-groups-signed-dsse.sif")]
    public void DsseSigningWithTheReferenceKeysGivesTheReferenceEnvelopes(string unsigned, string signed)
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image(unsigned));
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            SifSigner.Sign(sif, SignatureEncoder.Dsse(TrustFixtures.PemSigner("ed25519"), TrustFixtures.PemSigner("rsa")), new SignSelection());
        }
        using SifImage ours = SifImage.Open(copy);
        using SifImage theirs = SifImage.Open(SifFixtures.Image(signed));
        SifDescriptor[] a = ours.ByType(SifDataType.Signature).ToArray(), b = theirs.ByType(SifDataType.Signature).ToArray();
        Assert.Equal(b.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal((a[i].Id, a[i].RawLinkedId, a[i].HashType), (b[i].Id, b[i].RawLinkedId, b[i].HashType));
            Assert.Equal(Encoding.UTF8.GetString(theirs.ReadObject(b[i])).TrimEnd('\n'), Encoding.UTF8.GetString(ours.ReadObject(a[i])));
        }
    }

    [Theory]
    [InlineData("ED25519", "ed25519")]
    [InlineData("RSA_SHA256", "rsa")]
    [InlineData("Multi", "rsa,rsa")]
    public void DsseEnvelopesMatchTheReferenceGoldens(string golden, string keys)
    {
        byte[] message = "{\"One\":1,\"Two\":2}\n"u8.ToArray();
        byte[] pae = DsseEnvelope.Pae(DsseEnvelope.SifMetadataType, message);
        IDsseSigner[] signers = keys.Split(',').Select(TrustFixtures.PemSigner).ToArray();
        byte[] envelope = new DsseEnvelope(DsseEnvelope.SifMetadataType, message,
            signers.Select(s => new DsseSignature(s.KeyId, s.Sign(pae, DsseHash.Sha256))).ToArray()).Encode();
        string path = Path.Combine(SifFixtures.Apptainer, "pkg/integrity/testdata/Test_dsseEncoder_signMessage", golden + ".golden");
        Assert.Equal(Encoding.UTF8.GetString(File.ReadAllBytes(path)), Encoding.UTF8.GetString(envelope));
    }

    [Theory]
    [InlineData("rsa", "SHA256:BhCwr7qZulYcOMSl2Jt2DuYHxHNnN6th4NdMqR/PGa4", "RSA 4096")]
    [InlineData("ed25519", "SHA256:x6l8ZblpSSXGaPMCzySedWg88BwIFcz8jlPb6el0mFs", "Ed25519")]
    [InlineData("ecdsa", null, "ECDSA P-256")]
    public void PemKeyIdsAreOpenSshFingerprintsForPrivateAndPublicHalves(string key, string? keyId, string description)
    {
        IDsseSigner s = TrustFixtures.PemSigner(key);
        IDsseVerifier v = TrustFixtures.PemVerifier(key);
        Assert.Equal(v.KeyId, s.KeyId);
        Assert.StartsWith("SHA256:", v.KeyId);
        if (keyId is not null)
        {
            Assert.Equal(keyId, v.KeyId);
        }
        Assert.Equal(description, v.Description);
        byte[] pae = DsseEnvelope.Pae("t", "x"u8);
        Assert.True(v.Verify(pae, s.Sign(pae, DsseHash.Sha256), DsseHash.Sha256));
    }

    [Fact]
    public void EcdsaSignaturesMadeByBurrowVerify()
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image("two-groups.sif"));
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            SifSigner.Sign(sif, SignatureEncoder.Dsse(TrustFixtures.PemSigner("ecdsa")), new SignSelection());
        }
        SifVerification v = TrustFixtures.Verify(copy, new VerifyKeys(null, [TrustFixtures.PemVerifier("ecdsa")]));
        Assert.True(v.Succeeded, v.Error?.Message);
        Assert.Equal([1u, 2, 3], Ids(v.Results.SelectMany(r => r.Verified)));
    }
}
