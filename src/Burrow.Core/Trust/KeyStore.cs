using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Trust.Pgp;

namespace Burrow.Core.Trust;

/// <summary>
/// The keyrings a command works on: the user's (public and secret, in a directory of mode 0700 created on first
/// write) or the administrator's global public keyring beside the installation (<c>--global</c>).
/// </summary>
public sealed class KeyStore(TrustPaths paths, bool global)
{
    public TrustPaths Paths => paths;

    public bool IsGlobal => global;

    public string PublicPath => global ? paths.GlobalPublicKeyring : paths.UserPublicKeyring;

    public string SecretPath => global
        ? throw new BurrowException("the global keyring holds public keys only", "drop --global to work on your own secret keys")
        : paths.UserSecretKeyring;

    public PgpKeyring LoadPublic() => PgpKeyring.Load(PublicPath, secret: false);

    public PgpKeyring LoadSecret() => PgpKeyring.Load(SecretPath, secret: true);

    /// <summary>The keyrings verify searches, the global one first (as Apptainer's multi-keyring does).</summary>
    public static IReadOnlyList<NamedKeyring> ForVerifying(TrustPaths paths) =>
    [
        new("GLOBAL", PgpKeyring.Load(paths.GlobalPublicKeyring, secret: false)),
        new("LOCAL", PgpKeyring.Load(paths.UserPublicKeyring, secret: false)),
    ];

    /// <summary>Makes sure the directory a keyring is saved in exists (0700 for the user's keys) before a save.</summary>
    public void PrepareToWrite()
    {
        string dir = global ? paths.ConfigDirectory : paths.UserKeyDirectory;
        try
        {
            if (new DirectoryInfo(dir).LinkTarget is { } target)
            {
                throw new BurrowException($"the key directory {dir} is a symbolic link (to {target})", "Burrow keeps keys only in a real directory; replace the link by one");
            }
            if (global)
            {
                if (!Directory.Exists(dir))
                {
                    Directory.CreateDirectory(dir);
                }
            }
            else
            {
                PrivateFiles.EnsureDirectory(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(dir, e);
        }
    }

    public void Save(PgpKeyring keyring)
    {
        PrepareToWrite();
        try
        {
            keyring.Save();
        }
        catch (BurrowException e) when (global && e.InnerException is null && e.Message.Contains("ermission denied", StringComparison.Ordinal))
        {
            throw Unwritable(paths.ConfigDirectory, e);
        }
    }

    private BurrowException Unwritable(string dir, Exception e) => global
        ? new BurrowException($"cannot change the global keyring in {dir}: {ErrorText.Of(e)}", "only the administrator of this installation may change the global keyring (run as its owner)")
        : new BurrowException($"cannot create the key directory {dir}: {ErrorText.Of(e)}", "set XDG_DATA_HOME to a directory you own");
}
