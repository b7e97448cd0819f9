using Burrow.Core.Diagnostics;

namespace Burrow.Core.Images;

/// <summary>
/// Turns what the user wrote for IMAGE into a root file system Burrow can run. Sources are asked in
/// order; sandbox directories come last and take every plain path. Registry references, archives and
/// SIF files are sources added in front of it.
/// </summary>
public sealed class ImageResolver
{
    private readonly IReadOnlyList<IImageSource> _sources;

    public ImageResolver(IEnumerable<IImageSource> sources)
    {
        _sources = sources.ToArray();
    }

    /// <summary>The sources this build knows, most specific first.</summary>
    public static ImageResolver Default { get; } = new([new SifImageSource(), new SandboxDirectorySource()]);

    public ResolvedImage Resolve(string reference, string cwd)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            throw new BurrowException("no image given", "give the path of a root file system directory");
        }
        IImageSource? source = _sources.FirstOrDefault(s => s.Claims(reference, cwd));
        if (source is null || (source is SandboxDirectorySource && LooksLikeTransport(reference)))
        {
            throw new BurrowException($"image {reference}: this kind of image reference is not supported by this build",
                "give the path of a root file system directory");
        }
        return source.Resolve(reference, cwd);
    }

    /// <summary>"docker://x", "oras://x": a transport no source claimed must not be taken for a relative path.</summary>
    private static bool LooksLikeTransport(string reference) =>
        reference.IndexOf("://", StringComparison.Ordinal) is > 0 and int i && reference[..i].All(char.IsAsciiLetterOrDigit);
}
