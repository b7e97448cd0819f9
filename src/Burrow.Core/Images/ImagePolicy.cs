using System.Globalization;
using Burrow.Core.Config;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Images;

/// <summary>
/// The configuration's rules for images, applied where an image is opened, before anything of it is read or mounted:
/// allow-image-kinds (by what the user named: an OCI source is "oci" even though it runs as a SIF; --unsquash does not
/// turn a SIF into a sandbox), and limit-container-paths and limit-container-owners for SIF files and sandbox
/// directories, judged on the file actually opened (its real path, its owner), so a symbolic link cannot dodge them.
/// </summary>
public static class ImagePolicy
{
    public static void RequireKind(ImageSpec spec, ImageKind kind, BurrowConfig config)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(config);
        if (config.Allows(kind))
        {
            return;
        }
        string allowed = string.Join(", ", Enum.GetValues<ImageKind>().Where(config.Allows).Select(ConfigKeys.NameOf));
        throw new BurrowException($"image {spec.Given}: {Describe(kind)} are not allowed on this installation ({config.Cite("allow-image-kinds")})",
            allowed.Length > 0 ? $"the kinds allowed here are: {allowed}" : "no kind of image is allowed here; ask the administrator");
    }

    /// <summary>limit-container-paths and limit-container-owners, on the opened file or directory.</summary>
    public static void RequireLocation(ImageSpec spec, SafeFileHandle opened, BurrowConfig config)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(opened);
        ArgumentNullException.ThrowIfNull(config);
        if (config.LimitContainerPaths.Count == 0 && config.LimitContainerOwners.Count == 0)
        {
            return;
        }
        // The kernel's name for what was opened: every symbolic link on the way already followed.
        string real = new FileInfo("/proc/self/fd/" + opened.DangerousGetHandle().ToString(CultureInfo.InvariantCulture)).LinkTarget
            ?? throw new BurrowException($"image {spec.Given}: cannot tell its real path to check limit-container-paths");
        if (config.LimitContainerPaths.Count > 0
            && !config.LimitContainerPaths.Any(dir => Runtime.Planning.ContainerPaths.IsAtOrUnder(real, dir)
                || (RealDirectory(dir) is { } realDir && Runtime.Planning.ContainerPaths.IsAtOrUnder(real, realDir))))
        {
            throw new BurrowException($"image {spec.Given}: {real} is not in an allowed path ({config.Cite("limit-container-paths")})",
                "run an image stored under one of those directories");
        }
        if (config.LimitContainerOwners.Count > 0)
        {
            uint owner = FileStatus.Of(opened, real).Uid;
            string uid = owner.ToString(CultureInfo.InvariantCulture);
            string? name = HostUserReader.NameOf(owner);
            if (!config.LimitContainerOwners.Any(o => o == uid || o == name))
            {
                throw new BurrowException($"image {spec.Given}: {real} is owned by {(name is null ? "uid " + uid : $"{name} (uid {uid})")}, not by an allowed owner ({config.Cite("limit-container-owners")})",
                    "run an image owned by one of those users");
            }
        }
    }

    /// <summary>
    /// The kernel's name for an allowed directory (an administrator may write /scratch where /scratch is a link to
    /// /lustre/scratch), or null when it cannot be opened: then only the name as written can match.
    /// </summary>
    private static string? RealDirectory(string dir)
    {
        try
        {
            using SafeFileHandle handle = FileDescriptors.OpenPath(dir.Length > 1 ? dir + "/" : dir); // the trailing slash follows a final link
            return new FileInfo("/proc/self/fd/" + handle.DangerousGetHandle().ToString(CultureInfo.InvariantCulture)).LinkTarget;
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Describe(ImageKind kind) => kind switch
    {
        ImageKind.Sif => "SIF images",
        ImageKind.Sandbox => "sandbox images (directories)",
        ImageKind.Oci => "OCI images (docker://, docker-archive:, oci:, oci-archive:)",
        ImageKind.Encrypted => "encrypted SIF images",
        _ => kind.ToString(),
    };
}
