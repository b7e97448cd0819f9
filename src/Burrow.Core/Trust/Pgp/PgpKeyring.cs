using Burrow.Core.Diagnostics;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Burrow.Core.Trust.Pgp;

/// <summary>
/// One keyring file: the public or the secret keys of a user, or the administrator's global public keys. The
/// file is a sequence of binary OpenPGP transferable keys (what Apptainer's keyrings and <c>gpg --export</c>
/// hold); an armored file is read too. A missing file is an empty keyring. Saving replaces the file whole
/// (<see cref="AtomicFile"/>), so a reader never sees half a keyring.
/// </summary>
public sealed class PgpKeyring
{
    /// <summary>A keyring file larger than this is refused rather than read (a real one holds a few KiB per key).</summary>
    public const long MaxFileSize = 64L << 20;

    private readonly List<PgpEntity> _entities;

    private PgpKeyring(string path, bool secret, List<PgpEntity> entities)
    {
        Path = path;
        IsSecret = secret;
        _entities = entities;
    }

    public string Path { get; }

    public bool IsSecret { get; }

    public IReadOnlyList<PgpEntity> Entities => _entities;

    public static PgpKeyring Empty(string path, bool secret) => new(path, secret, []);

    /// <summary>Reads a keyring file; a missing file gives an empty keyring.</summary>
    public static PgpKeyring Load(string path, bool secret)
    {
        byte[] data;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Empty(path, secret);
            }
            if (info.Length > MaxFileSize)
            {
                throw new BurrowException($"cannot read keyring {path}: it is {info.Length} bytes, more than a keyring can be ({MaxFileSize})");
            }
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"cannot read keyring {path}: {ErrorText.Of(e)}", "check the file's permissions");
        }
        try
        {
            return new PgpKeyring(path, secret, Parse(data, secret, path));
        }
        catch (Exception e) when (e is PgpException or IOException or InvalidDataException)
        {
            throw new BurrowException($"cannot read keyring {path}: it is damaged ({ErrorText.Of(e, "not an OpenPGP keyring")})",
                "restore it from a backup, or remove it and import the keys again");
        }
    }

    /// <summary>Reads every key in an exported key file (armored or binary; public, secret or both).</summary>
    public static IReadOnlyList<PgpEntity> ReadKeyFile(byte[] data, string name)
    {
        try
        {
            return Parse(data, secret: null, name);
        }
        catch (Exception e) when (e is PgpException or IOException or InvalidDataException)
        {
            throw new BurrowException($"cannot read keys from {name}: {ErrorText.Of(e, "it is not an OpenPGP key file (armored or binary)")}", "give an OpenPGP key file (burrow key export, gpg --export)");
        }
    }

    /// <summary>Parses transferable keys; <paramref name="secret"/> null accepts both kinds.</summary>
    private static List<PgpEntity> Parse(byte[] data, bool? secret, string name)
    {
        var result = new List<PgpEntity>();
        using var input = new MemoryStream(data, writable: false);
        while (input.Position < input.Length)
        {
            if (IsOnlyWhitespace(data, input.Position))
            {
                break;
            }
            Stream decoder = PgpUtilities.GetDecoderStream(input);
            var factory = new PgpObjectFactory(decoder);
            bool any = false;
            PgpObject? o;
            while ((o = factory.NextPgpObject()) is not null)
            {
                any = true;
                switch (o)
                {
                    case PgpPublicKeyRing pub when secret != true:
                        result.Add(new PgpEntity(pub, null));
                        break;
                    case PgpSecretKeyRing sec when secret != false:
                        result.Add(new PgpEntity(PublicRingOf(sec), sec));
                        break;
                    case PgpPublicKeyRing or PgpSecretKeyRing:
                        throw new InvalidDataException(secret == true ? "it holds a public key where secret keys belong" : "it holds a secret key where only public keys belong");
                    case PgpMarker:
                        break;
                    default:
                        throw new InvalidDataException($"it holds a {o.GetType().Name.Replace("Pgp", "", StringComparison.Ordinal)} where keys belong");
                }
            }
            if (!any)
            {
                throw new InvalidDataException("no OpenPGP key found");
            }
            if (decoder is not ArmoredInputStream)
            {
                break;
            }
        }
        if (result.Count == 0 && secret is null)
        {
            throw new InvalidDataException("no OpenPGP key found");
        }
        return result;
    }

    private static bool IsOnlyWhitespace(byte[] data, long from)
    {
        for (long i = from; i < data.Length; i++)
        {
            if (data[i] is not ((byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The public keyring a secret keyring implies (its keys, user ids and signatures).</summary>
    internal static PgpPublicKeyRing PublicRingOf(PgpSecretKeyRing secret)
    {
        using var ms = new MemoryStream();
        foreach (PgpSecretKey k in secret.GetSecretKeys())
        {
            k.PublicKey.Encode(ms, forTransfer: true);
        }
        foreach (PgpPublicKey extra in secret.GetExtraPublicKeys())
        {
            extra.Encode(ms, forTransfer: true);
        }
        return new PgpPublicKeyRing(ms.ToArray());
    }

    public PgpEntity? Find(string fingerprint) => _entities.FirstOrDefault(e => e.Matches(fingerprint));

    public PgpEntity? Find(byte[] fingerprint) => _entities.FirstOrDefault(e => e.Fingerprint.AsSpan().SequenceEqual(fingerprint));

    /// <summary>The entity holding the key with this key id (primary or subkey), if any.</summary>
    internal (PgpEntity Entity, PgpPublicKey Key)? FindKey(long keyId)
    {
        foreach (PgpEntity e in _entities)
        {
            if (e.PublicRing.GetPublicKey(keyId) is { } k)
            {
                return (e, k);
            }
        }
        return null;
    }

    /// <summary>Adds a key; false (nothing changed) if a key with its fingerprint is already there.</summary>
    public bool Add(PgpEntity entity)
    {
        if (Find(entity.Fingerprint) is not null)
        {
            return false;
        }
        if (IsSecret && !entity.HasSecret)
        {
            throw new ArgumentException("a secret keyring holds secret keys only", nameof(entity));
        }
        _entities.Add(IsSecret ? entity : entity.PublicOnly());
        return true;
    }

    /// <summary>Removes the key with this fingerprint; false if there is none.</summary>
    public bool Remove(string fingerprint)
    {
        int i = _entities.FindIndex(e => e.Matches(fingerprint));
        if (i < 0)
        {
            return false;
        }
        _entities.RemoveAt(i);
        return true;
    }

    /// <summary>The keyring's bytes: binary transferable keys, one after the other.</summary>
    public byte[] Encode()
    {
        using var ms = new MemoryStream();
        foreach (PgpEntity e in _entities)
        {
            if (IsSecret)
            {
                e.SecretRing!.Encode(ms);
            }
            else
            {
                e.PublicRing.Encode(ms);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Writes the keyring whole: a secret keyring 0600, a public one 0644.</summary>
    public void Save()
    {
        AtomicFile.Write(Path, Encode(), IsSecret ? AtomicFile.PrivateMode : AtomicFile.PublicMode, "keyring");
    }

    /// <summary>One key, armored ("-----BEGIN PGP PUBLIC KEY BLOCK-----") or binary, as gpg exports it.</summary>
    public static byte[] Export(PgpEntity entity, bool secret, bool armor)
    {
        using var ms = new MemoryStream();
        Stream target = ms;
        ArmoredOutputStream? armored = null;
        if (armor)
        {
            armored = ArmoredOutputStream.Build().Build(ms);
            target = armored;
        }
        if (secret)
        {
            (entity.SecretRing ?? throw new InvalidOperationException("no secret key to export")).Encode(target);
        }
        else
        {
            entity.PublicRing.Encode(target);
        }
        armored?.Dispose();
        return ms.ToArray();
    }
}
