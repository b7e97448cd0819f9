using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Dsse;
using Burrow.Core.Trust.Pgp;
using Burrow.Tests.Sif;

namespace Burrow.Tests.Trust;

/// <summary>The reference's signed images and keys, keys made for the tests, and scratch copies of images to sign or damage.</summary>
internal static class TrustFixtures
{
    public const string FixtureFingerprint = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84";

    /// <summary>The signing time of the reference's gen_sifs.go (2020-06-30 00:01:56 UTC).</summary>
    public static readonly DateTimeOffset FixtureTime = DateTimeOffset.FromUnixTimeSeconds(1593475316);

    private static readonly Lazy<PgpEntity> s_fixtureKey = new(() =>
        PgpKeyring.ReadKeyFile(File.ReadAllBytes(Key("private.asc")), "private.asc").Single());

    private static readonly Lazy<PgpEntity> s_sylabsKey = new(() =>
        PgpKeyring.ReadKeyFile(File.ReadAllBytes(Path.Combine(SifFixtures.Sylabs, "test", "keys", "private.asc")), "private.asc").Single());

    private static readonly Lazy<PgpEntity> s_key1 = new(() => PgpKeyGenerator.Generate("Key One <one@example.com>", 2048, Passphrase));
    private static readonly Lazy<PgpEntity> s_key2 = new(() => PgpKeyGenerator.Generate("Key Two <two@example.com>", 2048, Passphrase));

    public const string Passphrase = "burrow test passphrase";

    public static string Key(string name) => Path.Combine(SifFixtures.Apptainer, "test", "keys", name);

    /// <summary>"Unit Test &lt;unit@test.com&gt;", unencrypted, the key every reference PGP image is signed with.</summary>
    public static PgpEntity FixtureKey => s_fixtureKey.Value;

    /// <summary>The same primary key as sylabs sif 2.8.3 ships it (its subkey without expiry).</summary>
    public static PgpEntity SylabsKey => s_sylabsKey.Value;

    /// <summary>Keys made once per test run (2048 bits, passphrase-protected).</summary>
    public static PgpEntity Key1 => s_key1.Value;

    public static PgpEntity Key2 => s_key2.Value;

    public static IDsseSigner PemSigner(string name) => PemKeys.LoadPrivate(File.ReadAllText(Key(name + "-private.pem")), () => "");

    public static IDsseVerifier PemVerifier(string name) => PemKeys.LoadPublic(File.ReadAllText(Key(name + "-public.pem")));

    public static PgpKeyring Keyring(params PgpEntity[] keys)
    {
        PgpKeyring ring = PgpKeyring.Empty("/nonexistent/pgp-public", secret: false);
        foreach (PgpEntity k in keys)
        {
            ring.Add(k);
        }
        return ring;
    }

    public static VerifyKeys Pgp(params PgpEntity[] keys) => VerifyKeys.FromKeyrings(new NamedKeyring("LOCAL", Keyring(keys)));

    /// <summary>A writable copy of a reference image in a fresh temp directory.</summary>
    public static string Copy(string image, string? dir = null)
    {
        dir ??= Directory.CreateTempSubdirectory("burrow-trust-").FullName;
        string to = Path.Combine(dir, Path.GetFileName(image));
        File.Copy(image, to, overwrite: true);
        File.SetAttributes(to, FileAttributes.Normal);
#pragma warning disable CA1416 // Linux only
        File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite);
#pragma warning restore CA1416
        return to;
    }

    public static SifVerification Verify(string path, VerifyKeys keys, VerifySelection? selection = null)
    {
        using SifImage sif = SifImage.Open(path);
        return SifVerifier.Verify(sif, selection ?? new VerifySelection(), keys);
    }

    public static IReadOnlyList<SignatureAdded> SignPgp(string path, PgpEntity key, SignSelection? selection = null)
    {
        using SifImage sif = SifImage.Open(path, writable: true);
        return SifSigner.Sign(sif, SignatureEncoder.Pgp(PgpClearSigner.Unlock(key, () => Passphrase)), selection ?? new SignSelection());
    }

    /// <summary>Flips one byte of a file in place.</summary>
    public static void Flip(string path, long offset)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        fs.Position = offset;
        int b = fs.ReadByte();
        fs.Position = offset;
        fs.WriteByte((byte)(b ^ 0x01));
    }
}
