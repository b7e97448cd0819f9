using Burrow.Core.Images;
using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>Gathers <see cref="ImageFacts"/> through an <see cref="IImageRootReader"/>, so symlinks in the image stay in the image.</summary>
public static class ImageFactsReader
{
    /// <summary>passwd and group files larger than this are refused rather than copied into the plan.</summary>
    public const int MaxAccountFileBytes = 4 << 20;

    public static ImageFacts Read(OpenedImage image, ActionRequest request, HostFacts host, IdentityDecision identity)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(host);
        IImageRootReader reader = image.Reader;
        var paths = new Dictionary<string, PathKind>(StringComparer.Ordinal);
        foreach (string path in FactQueries.ImagePaths(request, host.Cwd, identity, host.Environment, host.Config))
        {
            paths[path] = reader.KindOf(path);
        }
        var resolved = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (string path in FactQueries.ResolvedImagePaths)
        {
            resolved[path] = reader.Resolve(path);
        }
        string envDir = FactQueries.EnvScriptDir;
        return new ImageFacts
        {
            RootPath = image.HostPath,
            Kind = image.Kind,
            Squashfs = image.Squashfs,
            Format = image.Format,
            RootWritableByCaller = image.WritableByCaller,
            Verified = image.Verified,
            Passwd = reader.ReadText("/etc/passwd", MaxAccountFileBytes),
            Group = reader.ReadText("/etc/group", MaxAccountFileBytes),
            EnvScripts = reader.ListFiles(envDir).Where(n => n.EndsWith(".sh", StringComparison.Ordinal)).Select(n => envDir + "/" + n).ToArray(),
            Paths = paths,
            Resolved = resolved,
        };
    }
}
