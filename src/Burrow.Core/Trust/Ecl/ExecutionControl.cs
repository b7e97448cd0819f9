using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;
using Burrow.Core.Trust.Pgp;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Trust.Ecl;

/// <summary>
/// Enforces the execution control list before a launch, on the image that will actually run, as Apptainer's syecl
/// does: the image's group is chosen by its real directory (the kernel's path of the descriptor Burrow opened, so no
/// relative path, symlink, rename or "/./" trick changes it: Singularity CVE-2020-13845), every signature is checked
/// against the global keyring only, then the group's mode judges the signers. Images that cannot carry a signature
/// (sandbox directories, unpacked or converted ones among them) are refused unless the group allows unsigned images.
/// Failures are Apptainer's messages wrapped as "while checking container image with ECL: …", exit 255.
/// </summary>
public sealed class ExecutionControl
{
    private const string Prefix = "while checking container image with ECL: ";

    private readonly TrustPaths _paths;

    private ExecutionControl(EclConfig config, TrustPaths paths)
    {
        Config = config;
        _paths = paths;
    }

    public EclConfig Config { get; }

    public bool Activated => Config.Activated;

    /// <summary>Reads the list; a missing file is a list that is not activated.</summary>
    public static ExecutionControl Load(TrustPaths paths) => new(EclConfig.Load(paths.EclFile), paths);

    public static ExecutionControl From(EclConfig config, TrustPaths paths) => new(config, paths);

    /// <summary>
    /// Checks a SIF opened from <paramref name="file"/>; returns the chunk digests of its primary partition recorded
    /// while verifying (to serve it from the verified bytes only), or null when it ran unsigned by the group's leave.
    /// </summary>
    /// <param name="given">How the user named the image (a path or an OCI reference), for messages.</param>
    /// <param name="convertedFrom">The OCI reference the SIF was made from, if it was.</param>
    public VerifiedExtent? CheckSif(SifImage sif, SafeFileHandle file, SifDescriptor partition, string given, string? convertedFrom = null)
    {
        if (!Activated)
        {
            return null;
        }
        string real = RealPathOf(file, given);
        string what = convertedFrom is null ? real : $"{real} (converted from {convertedFrom})";
        EclGroup group = Config.GroupFor(Path.GetDirectoryName(real) ?? "/")
            ?? throw Refused($"{what} not part of any execgroup", $"the execution control list {Config.Path} has no execgroup for {Path.GetDirectoryName(real)}");
        bool signed = sif.Descriptors.Any(d => d.Type == SifDataType.Signature);
        if (!signed && group.AllowUnsigned)
        {
            Log.Verbose($"ECL: {what} carries no signature; {group.Describe()} allows unsigned images");
            return null;
        }
        PgpKeyring global = PgpKeyring.Load(_paths.GlobalPublicKeyring, secret: false);
        var keys = VerifyKeys.FromKeyrings(new NamedKeyring("GLOBAL", global));
        VerifySelection selection = Config.LegacyInsecure ? new VerifySelection { Legacy = true, ObjectId = partition.Id } : new VerifySelection();
        var unvalidated = new HashSet<string>(StringComparer.Ordinal);
        SifVerification v = SifVerifier.Verify(sif, selection, keys, r =>
        {
            if (r.Error?.Failure != SifVerifyFailure.SignatureNotValid)
            {
                return false;
            }
            if (!r.Signature.Entity.IsEmpty)
            {
                unvalidated.Add(Convert.ToHexString(r.Signature.Entity));
            }
            return true;
        }, record: partition);
        if (v.Error is { } e)
        {
            string? hint = !signed
                ? (convertedFrom is not null
                    ? $"{convertedFrom} was converted into an unsigned SIF; {group.Describe()} runs only signed images"
                    : $"the image is not signed, and {group.Describe()} does not allow unsigned images (allowunsigned = true)")
                : null;
            throw Refused($"image signature not valid: integrity: {e.Message}", hint);
        }
        string[] required = group.KeyFingerprints.Select(Convert.ToHexString).ToArray();
        IReadOnlyList<string> all = SifVerifier.Signers(sif, selection, inEveryTask: true);
        IReadOnlyList<string> any = SifVerifier.Signers(sif, selection, inEveryTask: false);
        bool Valid(string fp) => all.Contains(fp) && !unvalidated.Contains(fp);
        switch (group.Mode)
        {
            case EclMode.Whitelist when !required.Any(Valid):
            case EclMode.Whitestrict when !required.All(Valid):
                throw Refused("image not signed by required entities", $"{group.Describe()} needs a valid signature by {(group.Mode == EclMode.Whitelist ? "one" : "each")} of: {string.Join(", ", required)}");
            case EclMode.Blacklist when required.Intersect(any).FirstOrDefault() is { } forbidden:
                throw Refused("image signed by a forbidden entity", $"{forbidden} is listed in {group.Describe()}");
        }
        Log.Verbose($"ECL: {what} allowed by {group.Describe()}");
        return v.Extent;
    }

    /// <summary>Checks an image that cannot carry a signature: a sandbox directory.</summary>
    public void CheckUnsignable(string directory, string given)
    {
        if (!Activated)
        {
            return;
        }
        string real = EclConfig.RealPath(directory) ?? directory;
        string parent = Path.GetDirectoryName(real) ?? "/";
        EclGroup group = Config.GroupFor(parent)
            ?? throw Refused($"{real} not part of any execgroup", $"the execution control list {Config.Path} has no execgroup for {parent}");
        if (!group.AllowUnsigned)
        {
            throw Refused($"{real} is a sandbox directory, which cannot carry a signature, and {group.Describe()} does not allow unsigned images",
                "run a signed SIF image instead, or ask the administrator for allowunsigned = true in that execgroup");
        }
        Log.Verbose($"ECL: the sandbox {real} is allowed by {group.Describe()} (allowunsigned)");
    }

    private static string RealPathOf(SafeFileHandle file, string given)
    {
        string real = FileDescriptors.PathOf(file);
        if (real.EndsWith(" (deleted)", StringComparison.Ordinal) || !real.StartsWith('/'))
        {
            throw Refused($"{given} was removed or replaced while it was opened", "run it again");
        }
        return real;
    }

    private static BurrowException Refused(string message, string? hint = null) => new(Prefix + message, hint, ExitCodes.Failure);
}
