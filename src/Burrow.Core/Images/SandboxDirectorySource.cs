using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Core.Images;

/// <summary>A directory holding a root file system (Apptainer's "sandbox"), run as is.</summary>
public sealed class SandboxDirectorySource : IImageSource
{
    /// <summary>A root file system has at least one of these; an empty or unrelated directory has none.</summary>
    public static readonly IReadOnlyList<string> RootMarkers = ["bin", "usr", "etc", ".singularity.d"];

    /// <summary>The fallback: every reference that no other source claimed is a local path.</summary>
    public bool Claims(string reference, string cwd) => true;

    public ResolvedImage Resolve(string reference, string cwd)
    {
        string path = Path.GetFullPath(reference, cwd);
        // A dangling link, a loop, a FIFO or an unreadable directory is said as what it is (Files.UserPath).
        if (Files.UserPath.Stat(path, $"image {reference}", allowMissing: true) is { Kind: not (Linux.FileKind.Directory or Linux.FileKind.Regular) } st)
        {
            throw new BurrowException($"image {reference}: {path} is {Linux.FileKindText.Describe(st.Kind)}, not an image",
                "give a root file system directory, a SIF file or an OCI reference such as docker://alpine");
        }
        if (Directory.Exists(path))
        {
            Files.UserPath.RequireReadableDirectory(path, $"image {reference}");
            path = new DirectoryInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
            if (path == "/")
            {
                throw new BurrowException($"image {reference}: the host's / cannot be a container image", "give a directory holding a root file system");
            }
            if (!RootMarkers.Any(m => Directory.Exists(Path.Combine(path, m))))
            {
                string bundleRoot = Path.Combine(path, "rootfs");
                string hint = RootMarkers.Any(m => Directory.Exists(Path.Combine(bundleRoot, m)))
                    ? $"this looks like an OCI bundle: did you mean {bundleRoot}?"
                    : "give the directory that holds the container's /bin, /usr and /etc";
                throw new BurrowException($"image {reference}: {path} is not a root file system (it has none of /{string.Join(", /", RootMarkers)})", hint);
            }
            return new ResolvedImage(reference, path, RootFsKind.Directory);
        }
        if (File.Exists(path))
        {
            throw new BurrowException($"image {reference}: {path} is a file, not a root file system directory",
                "give a root file system directory, a SIF file or an OCI reference such as docker://alpine");
        }
        throw new BurrowException($"image {reference}: {path} does not exist", "give the path of a directory holding a root file system");
    }
}
