using System.Diagnostics;
using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Pgp;
using Burrow.Tests.Sif;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Burrow.Tests.Trust;

/// <summary>
/// Signatures Burrow makes verify (in Burrow and in gpg), cover what the reference's cover, and every tampering
/// and known attack on SIF signatures fails with the reference's words and the object named.
/// </summary>
public sealed class SignVerifyTests
{
    private static string SignedCopy(string image = "two-groups.sif")
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image(image));
        TrustFixtures.SignPgp(copy, TrustFixtures.Key1);
        return copy;
    }

    private static SifVerifyException Fails(string path, PgpEntity? key = null)
    {
        SifVerification v = TrustFixtures.Verify(path, TrustFixtures.Pgp(key ?? TrustFixtures.Key1));
        return v.Error ?? throw new Xunit.Sdk.XunitException("verification passed");
    }

    [Fact]
    public void OneSignaturePerGroupLinkedToItWithTheHashAndFingerprint()
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image("two-groups.sif"));
        IReadOnlyList<SignatureAdded> added = TrustFixtures.SignPgp(copy, TrustFixtures.Key1);
        Assert.Equal([1u, 2], added.Select(a => a.Group).ToArray());
        using SifImage sif = SifImage.Open(copy);
        foreach (SignatureAdded a in added)
        {
            SifDescriptor d = sif.GetById(a.Signature.Id);
            Assert.Equal(SifDataType.Signature, d.Type);
            Assert.Equal(0u, d.GroupId);
            Assert.True(d.LinkIsGroup);
            Assert.Equal(a.Group, d.LinkedId);
            Assert.Equal(SifHashType.Sha256, d.HashType);
            Assert.Equal(TrustFixtures.Key1.Fingerprint, d.Entity.ToArray());
        }
        SifVerification v = TrustFixtures.Verify(copy, TrustFixtures.Pgp(TrustFixtures.Key1));
        Assert.True(v.Succeeded, v.Error?.Message);
        Assert.Equal(2, v.Results.Count);
    }

    [Fact]
    public void SigningTwiceWithTheSameKeyKeepsBothAndSaysSo()
    {
        string copy = SignedCopy("one-group.sif");
        SignatureAdded again = Assert.Single(TrustFixtures.SignPgp(copy, TrustFixtures.Key1));
        Assert.Equal([3u], again.EarlierBySameKey.Select(d => d.Id).ToArray());
        Assert.Equal(4u, again.Signature.Id);
        Assert.True(TrustFixtures.Verify(copy, TrustFixtures.Pgp(TrustFixtures.Key1)).Succeeded);
        SignatureAdded other = Assert.Single(TrustFixtures.SignPgp(copy, TrustFixtures.Key2));
        Assert.Empty(other.EarlierBySameKey);
    }

    [Fact]
    public void GroupAndObjectSelectionsSignWhatTheyNameAndFailAsTheReferenceDoes()
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image("two-groups.sif"));
        Assert.Equal(2u, Assert.Single(TrustFixtures.SignPgp(copy, TrustFixtures.Key1, new SignSelection { GroupId = 2 })).Group);
        SignatureAdded one = Assert.Single(TrustFixtures.SignPgp(copy, TrustFixtures.Key1, new SignSelection { ObjectId = 2 }));
        Assert.Equal([2u], one.Objects.Select(o => o.Id).ToArray());
        Assert.Equal("object not found", Assert.Throws<SifVerifyException>(() => TrustFixtures.SignPgp(copy, TrustFixtures.Key1, new SignSelection { ObjectId = 9 })).Message);
        Assert.Equal("group not found", Assert.Throws<SifVerifyException>(() => TrustFixtures.SignPgp(copy, TrustFixtures.Key1, new SignSelection { GroupId = 5 })).Message);
        // The object signature covers object 2 only: verifying object 2 passes, verifying group 1 whole does not.
        Assert.True(TrustFixtures.Verify(copy, TrustFixtures.Pgp(TrustFixtures.Key1), new VerifySelection { ObjectId = 2 }).Succeeded);
        Assert.Equal("object 1: object not signed", TrustFixtures.Verify(copy, TrustFixtures.Pgp(TrustFixtures.Key1), new VerifySelection { GroupId = 1 }).Error!.Message);
    }

    [Fact]
    public void AWrongPassphraseDoesNotUnlockTheKey()
    {
        Assert.Throws<WrongPassphraseException>(() => PgpClearSigner.Unlock(TrustFixtures.Key1, () => "not it"));
    }

    [Fact]
    public void GpgVerifiesTheClearSignedMessageOfABurrowSignature()
    {
        if (!File.Exists("/usr/bin/gpg"))
        {
            Assert.Fail("gnupg is not installed (scripts/setup installs it)");
        }
        string copy = SignedCopy("one-group.sif");
        string dir = Path.GetDirectoryName(copy)!;
        using (SifImage sif = SifImage.Open(copy))
        {
            File.WriteAllBytes(Path.Combine(dir, "sig.asc"), sif.ReadObject(sif.ByType(SifDataType.Signature).Single()));
        }
        File.WriteAllBytes(Path.Combine(dir, "pub.asc"), PgpKeyring.Export(TrustFixtures.Key1, secret: false, armor: true));
        string home = Directory.CreateTempSubdirectory("burrow-gpg-").FullName;
        (int importCode, string importOut) = Gpg(home, "--import", Path.Combine(dir, "pub.asc"));
        Assert.True(importCode == 0, importOut);
        (int code, string output) = Gpg(home, "--verify", Path.Combine(dir, "sig.asc"));
        Assert.True(code == 0, output);
        Assert.Contains("Good signature from \"Key One <one@example.com>\"", output);
        Assert.Contains(TrustFixtures.Key1.FingerprintHex, output.Replace(" ", "", StringComparison.Ordinal));
        // And a flipped byte of the signed text makes gpg say BAD, as Burrow does.
        string text = File.ReadAllText(Path.Combine(dir, "sig.asc")).Replace("\"version\":1", "\"version\":2", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "bad.asc"), text);
        (int badCode, string badOut) = Gpg(home, "--verify", Path.Combine(dir, "bad.asc"));
        Assert.NotEqual(0, badCode);
        Assert.Contains("BAD signature", badOut);
    }

    private static (int, string) Gpg(string home, params string[] args)
    {
        var psi = new ProcessStartInfo("gpg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "--homedir", home, "--batch", "--no-tty" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    // --- Tampering: one byte anywhere that is signed, and the signature set itself.

    [Fact]
    public void AByteFlippedInTheHeaderFailsAsHeaderIntegrity()
    {
        string copy = SignedCopy();
        TrustFixtures.Flip(copy, 0x31);                     // the image ID
        Assert.Equal("header integrity compromised", Fails(copy).Message);
    }

    [Fact]
    public void AByteFlippedInADescriptorNamesTheObject()
    {
        string copy = SignedCopy();
        TrustFixtures.Flip(copy, 4096 + 585 * 1 + 73);     // object 2's name
        SifVerifyException e = Fails(copy);
        Assert.Equal("data object descriptor integrity compromised: 2", e.Message);
        Assert.Equal(2u, e.ObjectId);
    }

    [Fact]
    public void AByteFlippedInThePartitionNamesTheObject()
    {
        string copy = SignedCopy();
        SifDescriptor p;
        using (SifImage sif = SifImage.Open(copy))
        {
            p = sif.PrimarySystemPartition!;
        }
        TrustFixtures.Flip(copy, p.Offset + p.Size / 2);
        SifVerifyException e = Fails(copy);
        Assert.Equal("data object integrity compromised: 2", e.Message);
        Assert.Equal(SifVerifyFailure.Integrity, e.Failure);
    }

    [Fact]
    public void AByteFlippedInTheSignatureMakesItInvalid()
    {
        string copy = SignedCopy("one-group.sif");
        SifDescriptor sig;
        using (SifImage sif = SifImage.Open(copy))
        {
            sig = sif.ByType(SifDataType.Signature).Single();
        }
        TrustFixtures.Flip(copy, sig.Offset + sig.Size - 200);   // inside the base64 signature
        SifVerifyException e = Fails(copy);
        Assert.Equal(SifVerifyFailure.SignatureNotValid, e.Failure);
        Assert.StartsWith($"signature object {sig.Id} not valid", e.Message);
        Assert.Equal(sig.Id, e.SignatureId);
    }

    [Fact]
    public void RemovingTheSignatureLeavesNoSignatureFound()
    {
        string copy = SignedCopy("one-group.sif");
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            sif.DeleteObject(sif.ByType(SifDataType.Signature).Single().Id);
        }
        SifVerifyException e = Fails(copy);
        Assert.Equal(SifVerifyFailure.SignatureNotFound, e.Failure);
        Assert.Equal("signature not found for object group 1", e.Message);
    }

    [Fact]
    public void AnObjectAddedToASignedGroupAfterSigningFails()
    {
        string copy = SignedCopy("one-group.sif");
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            sif.AddObject(new SifObjectSpec(SifDataType.Generic, new MemoryStream("evil"u8.ToArray())) { GroupId = 1 });
        }
        SifVerifyException e = Fails(copy);
        Assert.Equal("object 4: object not signed", e.Message);
        Assert.Equal(4u, e.ObjectId);
    }

    // --- The known attack classes (Singularity and sif CVEs), each a regression test.

    [Fact]
    public void Cve2020_13847_TheHeaderAndEveryDescriptorAreCovered()
    {
        // The launch script and ID are signed (magic and version too, which opening already checks), and so are a
        // descriptor's type, owner fields, name and extra; only what may legitimately change (offsets, free counts,
        // modification times) is not.
        foreach (long offset in new long[] { 0, 5, 0x30, 0x3F, 4096 + 585 + 0, 4096 + 585 + 57, 4096 + 585 + 73, 4096 + 585 + 201 })
        {
            string copy = SignedCopy();
            TrustFixtures.Flip(copy, offset);
            Assert.False(TrustFixtures.Verify(copy, TrustFixtures.Pgp(TrustFixtures.Key1)).Succeeded, $"byte {offset} is not covered");
        }
        string moved = SignedCopy();
        TrustFixtures.Flip(moved, 4096 + 585 + 49);   // object 2's modification time: not signed, by the reference's design
        Assert.True(TrustFixtures.Verify(moved, TrustFixtures.Pgp(TrustFixtures.Key1)).Succeeded);
    }

    [Fact]
    public void Cve2020_13846_VerifyingAllNeverPassesAnUnsignedObject()
    {
        // An object outside any group, and an unsigned group beside a signed one, both fail "verify all".
        string loose = SignedCopy("one-group.sif");
        using (SifImage sif = SifImage.Open(loose, writable: true))
        {
            sif.AddObject(new SifObjectSpec(SifDataType.Generic, new MemoryStream("evil"u8.ToArray())) { GroupId = 0 });
        }
        Assert.Equal("non-signature object not associated with object group", Fails(loose).Message);

        string partly = TrustFixtures.Copy(SifFixtures.Image("two-groups.sif"));
        TrustFixtures.SignPgp(partly, TrustFixtures.Key1, new SignSelection { GroupId = 1 });
        Assert.Equal("signature not found for object group 2", Fails(partly).Message);
        // And a signature by one key over a group does not pass for a group signed by nobody under legacy --all either.
        Assert.False(TrustFixtures.Verify(SifFixtures.Image("two-groups-signed-legacy-all.sif"), TrustFixtures.Pgp(TrustFixtures.FixtureKey),
            new VerifySelection { Legacy = true, LegacyAll = true }).Succeeded);
    }

    [Theory]
    [InlineData(HashAlgorithmTag.Sha1)]
    [InlineData(HashAlgorithmTag.MD5)]
    [InlineData(HashAlgorithmTag.RipeMD160)]
    public void Cve2022_39237_ASignatureOverAWeakHashIsRefused(HashAlgorithmTag weak)
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image("one-group.sif"));
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            byte[] json = SifIntegrity.ImageMetadataJson(sif, sif.ByGroup(1));
            byte[] message = ClearSignWith(TrustFixtures.FixtureKey, json, weak);
            sif.AddObject(new SifObjectSpec(SifDataType.Signature, new MemoryStream(message))
            {
                GroupId = 0, LinkedId = 1, LinkIsGroup = true, HashType = SifHashType.Sha256, Entity = TrustFixtures.FixtureKey.Fingerprint,
            });
        }
        SifVerifyException e = Fails(copy, TrustFixtures.FixtureKey);
        Assert.Equal(SifVerifyFailure.SignatureNotValid, e.Failure);
        Assert.Contains("which is not accepted (only SHA-224, SHA-256, SHA-384 and SHA-512)", e.Message);
    }

    [Fact]
    public void Cve2022_39237_SignedMetadataWithAWeakDigestIsRefused()
    {
        string copy = TrustFixtures.Copy(SifFixtures.Image("one-group.sif"));
        using (SifImage sif = SifImage.Open(copy, writable: true))
        {
            string json = System.Text.Encoding.UTF8.GetString(SifIntegrity.ImageMetadataJson(sif, sif.ByGroup(1)));
            json = System.Text.RegularExpressions.Regex.Replace(json, "\"objectDigest\":\"sha256:[0-9a-f]{64}\"", "\"objectDigest\":\"md5:00112233445566778899aabbccddeeff\"");
            byte[] message = PgpClearSigner.Unlock(TrustFixtures.FixtureKey, () => "").Sign(System.Text.Encoding.UTF8.GetBytes(json));
            sif.AddObject(new SifObjectSpec(SifDataType.Signature, new MemoryStream(message))
            {
                GroupId = 0, LinkedId = 1, LinkIsGroup = true, HashType = SifHashType.Sha256, Entity = TrustFixtures.FixtureKey.Fingerprint,
            });
        }
        SifVerifyException e = Fails(copy, TrustFixtures.FixtureKey);
        Assert.Equal(SifVerifyFailure.SignatureNotValid, e.Failure);
        Assert.Contains("hash algorithm unsupported (md5)", e.Message);
    }

    [Fact]
    public void ASignatureWhoseDescriptorNamesAnotherSignerFails()
    {
        string copy = SignedCopy("one-group.sif");
        SifDescriptor sig;
        using (SifImage sif = SifImage.Open(copy))
        {
            sig = sif.ByType(SifDataType.Signature).Single();
        }
        TrustFixtures.Flip(copy, 4096 + 585 * (sig.Id - 1) + 201 + 4);   // first byte of the stored fingerprint
        Assert.Equal("fingerprint in descriptor does not correspond to signing entity", Fails(copy).Message);
    }

    [Fact]
    public void ASignatureByAKeyNotInTheKeyringIsNotValid()
    {
        SifVerifyException e = Fails(SignedCopy("one-group.sif"), TrustFixtures.Key2);
        Assert.Equal(SifVerifyFailure.SignatureNotValid, e.Failure);
        Assert.Contains("signature made by unknown entity", e.Message);
    }

    [Fact]
    public void EachObjectIsReadOnceHoweverManySignaturesCoverIt()
    {
        string copy = SignedCopy("one-group.sif");
        TrustFixtures.SignPgp(copy, TrustFixtures.Key2);
        long objects;
        using (SifImage sif = SifImage.Open(copy))
        {
            objects = sif.ByGroup(1).Sum(d => d.Size);
        }
        SifVerification v = TrustFixtures.Verify(copy, TrustFixtures.Pgp(TrustFixtures.Key1, TrustFixtures.Key2));
        Assert.True(v.Succeeded, v.Error?.Message);
        Assert.Equal(2, v.Results.Count);
        Assert.Equal(objects, v.BytesHashed);
    }

    /// <summary>A clear-signed message over a chosen hash, made with BouncyCastle directly (Burrow itself only signs over SHA-256).</summary>
    private static byte[] ClearSignWith(PgpEntity key, byte[] text, HashAlgorithmTag hash)
    {
        PgpPrivateKey priv = TrustFixtures.FixtureKey.SecretRing!.GetSecretKey().ExtractPrivateKey(null);
        var gen = new PgpSignatureGenerator(key.Primary.Algorithm, hash);
        gen.InitSign(PgpSignature.CanonicalTextDocument, priv, new SecureRandom());
        var sub = new PgpSignatureSubpacketGenerator();
        sub.SetSignatureCreationTime(false, DateTime.UtcNow);
        sub.SetIssuerKeyID(false, priv.KeyId);
        gen.SetHashedSubpackets(sub.Generate());
        gen.Update(ClearSignedMessage.Canonical(text));
        using var ms = new MemoryStream();
        gen.Generate().Encode(ms);
        string name = hash switch { HashAlgorithmTag.Sha1 => "SHA1", HashAlgorithmTag.MD5 => "MD5", _ => "RIPEMD160" };
        return ClearSignedMessage.Encode(text, name, ms.ToArray());
    }
}
