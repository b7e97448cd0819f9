using Burrow.Core.Runtime;

namespace Burrow.Core.Trust;

/// <summary>
/// Where keys and the execution control list live: the user's keyrings under <c>$XDG_DATA_HOME/burrow/keys</c>
/// (else <c>~/.local/share/burrow/keys</c>, mode 0700), and the administrator's files beside the installation,
/// <c>PREFIX/etc/burrow/global-pgp-public</c> and <c>PREFIX/etc/burrow/ecl.toml</c>. File names are Apptainer's
/// (<c>pgp-public</c>, <c>pgp-secret</c>, <c>global-pgp-public</c>), binary OpenPGP keyrings that gpg also reads.
/// </summary>
public sealed record TrustPaths(string UserKeyDirectory, string ConfigDirectory)
{
    public const string PublicFileName = "pgp-public";
    public const string SecretFileName = "pgp-secret";
    public const string GlobalPublicFileName = "global-pgp-public";
    public const string EclFileName = "ecl.toml";

    public string UserPublicKeyring => Path.Combine(UserKeyDirectory, PublicFileName);

    public string UserSecretKeyring => Path.Combine(UserKeyDirectory, SecretFileName);

    public string GlobalPublicKeyring => Path.Combine(ConfigDirectory, GlobalPublicFileName);

    /// <summary>burrow.conf's <c>ecl-file</c>, when the administrator moved the list; null: ecl.toml in <see cref="ConfigDirectory"/>.</summary>
    public string? EclFileOverride { get; init; }

    public string EclFile => EclFileOverride ?? Path.Combine(ConfigDirectory, EclFileName);

    public static TrustPaths ForProcess() => new(DefaultUserKeyDirectory(), RuntimePaths.FromProcess().ConfigDir);

    /// <summary><c>$XDG_DATA_HOME/burrow/keys</c>, else <c>~/.local/share/burrow/keys</c>.</summary>
    public static string DefaultUserKeyDirectory()
    {
        if (Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
        {
            return Path.Combine(Path.GetFullPath(xdg), "burrow", "keys");
        }
        string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "share", "burrow", "keys");
    }
}
