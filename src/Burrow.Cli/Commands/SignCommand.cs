using System.CommandLine;
using System.Security.Cryptography;
using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Dsse;
using Burrow.Core.Trust.Pgp;
using Burrow.Linux;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow sign IMAGE.sif</c>: Apptainer's sign, byte-compatible with the SIF reference: one signature object per
/// object group (or the group or object asked for), OpenPGP clear-signed with a key of your secret keyring, or a
/// DSSE envelope with a PEM private key (<c>--key</c>). Earlier signatures are kept, and every one added is named.
/// </summary>
public static class SignCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "The SIF image to sign (changed in place, crash-safely)" };
        var keyIndex = new Option<int?>("--keyidx", "-k") { Description = "The secret key to sign with: its number in burrow key list --secret" };
        var key = new Option<string>("--key") { Description = "Sign with this PEM private key (RSA, ECDSA or Ed25519) as a DSSE envelope instead of a PGP key [env BURROW_SIGN_KEY]" };
        var groupId = new Option<uint?>("--group-id", "-g") { Description = "Sign only the objects of this group" };
        var sifId = new Option<uint?>("--sif-id", "-i") { Description = "Sign only the object with this id" };
        var all = new Option<bool>("--all", "-a") { Description = "Sign all objects (the default; kept for Apptainer's scripts)", Hidden = true };
        var passphraseFile = KeyCommand.PassphraseFileOption();
        var command = new Command("sign", "Add digital signature(s) to an image") { image, keyIndex, key, groupId, sifId, all, passphraseFile };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            string path = result.GetValue(image)!;
            if (result.GetValue(key) is not null && result.GetValue(keyIndex) is not null)
            {
                throw new BurrowException("--key and --keyidx choose two different keys: give one", null, ExitCodes.Usage);
            }
            var selection = new SignSelection { GroupId = result.GetValue(groupId), ObjectId = result.GetValue(sifId) };
            var passphrase = new Passphrase(result.GetValue(passphraseFile));
            SignatureEncoder encoder;
            // BURROW_SIGN_KEY stands for --key (Apptainer's APPTAINER_SIGN_KEY), unless a PGP key was chosen explicitly.
            string? pemPath = result.GetValue(key)
                ?? (result.GetValue(keyIndex) is null && Environment.GetEnvironmentVariable("BURROW_SIGN_KEY") is { Length: > 0 } env ? env : null);
            try
            {
                if (pemPath is not null)
                {
                    Log.Info($"Signing image with key material from '{pemPath}'");
                    encoder = SignatureEncoder.Dsse(LoadPem(pemPath, passphrase));
                }
                else
                {
                    Log.Info("Signing image with PGP key material");
                    encoder = SignatureEncoder.Pgp(Unlock(result.GetValue(keyIndex), passphrase));
                }
                using SifImage sif = OpenForSigning(path);
                IReadOnlyList<SignatureAdded> added = SifSigner.Sign(sif, encoder, selection);
                foreach (SignatureAdded a in added)
                {
                    Log.Info($"Added signature object {a.Signature.Id} over object group {a.Group} (object{(a.Objects.Count > 1 ? "s" : "")} {string.Join(", ", a.Objects.Select(o => o.Id))})");
                    if (a.EarlierBySameKey.Count > 0)
                    {
                        Log.Info($"object group {a.Group} already had signature object{(a.EarlierBySameKey.Count > 1 ? "s" : "")} {string.Join(", ", a.EarlierBySameKey.Select(o => o.Id))} by this key: kept, so the image now has {a.EarlierBySameKey.Count + 1} by it");
                    }
                }
            }
            catch (SifVerifyException e)
            {
                throw new BurrowException($"Failed to sign container: integrity: {e.Message}", HintFor(e, path));
            }
            catch (KeyChoiceException e)
            {
                throw new BurrowException($"Failed to sign container: {e.Message}", e.Hint);
            }
            Log.Info($"Signature created and applied to image '{path}'");
            return 0;
        }));
        return command;
    }

    private static string? HintFor(SifVerifyException e, string path) => e.Message switch
    {
        "object not found" or "group not found" => "list the objects and their groups with: burrow sif list " + path,
        "no groups found" => "the image has no object in a group, so there is nothing to sign",
        _ => null,
    };

    private sealed class KeyChoiceException(string message, string? hint) : Exception(message)
    {
        public string? Hint { get; } = hint;
    }

    private static PgpClearSigner Unlock(int? index, Passphrase passphrase)
    {
        var store = new KeyStore(TrustPaths.ForProcess(), global: false);
        PgpKeyring secret = store.LoadSecret();
        PgpEntity entity;
        if (index is { } i)
        {
            entity = i >= 0 && i < secret.Entities.Count ? secret.Entities[i]
                : throw new KeyChoiceException("index out of range", $"{secret.Path} holds {secret.Entities.Count} secret key(s): see burrow key list --secret");
        }
        else
        {
            entity = secret.Entities.Count == 0
                ? throw new KeyChoiceException("keyring is empty", "make a key with: burrow key newpair, or import one with: burrow key import FILE")
                : KeyCommand.Choose(secret.Entities, null, "secret", "Enter # of private key to use : ");
        }
        try
        {
            return PgpClearSigner.Unlock(entity, () => passphrase.Read($"unlock the secret key {entity.FingerprintHex}"));
        }
        catch (WrongPassphraseException e)
        {
            throw new KeyChoiceException(e.Message, "check the passphrase (BURROW_PASSPHRASE, --passphrase-file or the prompt)");
        }
        catch (NotSupportedException e)
        {
            throw new KeyChoiceException(e.Message, "sign with an RSA, DSA, ECDSA or EdDSA key");
        }
    }

    private static IDsseSigner LoadPem(string path, Passphrase passphrase)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > PemKeys.MaxLength)
            {
                throw new BurrowException($"Failed to load key material: {path} is {info.Length} bytes, too large for a key");
            }
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"Failed to load key material: cannot read {path}: {ErrorText.Of(e)}");
        }
        try
        {
            return PemKeys.LoadPrivate(text, () => passphrase.Read($"decrypt the private key {path}"));
        }
        catch (Exception e) when (e is CryptographicException or FormatException or System.Formats.Asn1.AsnContentException
            or Org.BouncyCastle.Security.SecurityUtilityException or ArgumentException or InvalidOperationException)
        {
            throw new BurrowException($"Failed to load key material: {path}: {ErrorText.Of(e, "it is not a PEM key")}", "give a PEM private key (PKCS#8, PKCS#1 or SEC 1): RSA, ECDSA or Ed25519");
        }
    }

    /// <summary>Opens the image read-write without following a symlink at its name (a link there is refused, not written through).</summary>
    private static SifImage OpenForSigning(string path)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = FileDescriptors.OpenNoFollow(path, writable: true);
        }
        catch (LinuxException e) when (e.Errno == Errno.ELOOP)
        {
            throw new BurrowException($"Failed to sign container: {path} is a symbolic link (to {new FileInfo(path).LinkTarget})",
                "sign the image itself; Burrow never writes through a link");
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"Failed to sign container: cannot open {path}: {e.Reason}",
                e.Errno == Errno.EACCES ? "signing changes the image: you need write permission on it" : null);
        }
        if (FileStatus.Of(handle, path).Kind != FileKind.Regular)
        {
            handle.Dispose();
            throw new BurrowException($"Failed to sign container: {path} is not a regular file");
        }
        return SifImage.Open(handle, writable: true, path);
    }
}
