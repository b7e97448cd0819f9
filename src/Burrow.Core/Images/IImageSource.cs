namespace Burrow.Core.Images;

/// <summary>
/// One kind of image reference (a sandbox directory; later docker://, archives, SIF files). The resolver
/// asks each source in turn; the first that claims a reference must resolve it or say clearly why not.
/// </summary>
public interface IImageSource
{
    /// <summary>True when this source handles the reference (by its transport prefix, or what the path is).</summary>
    bool Claims(string reference, string cwd);

    ResolvedImage Resolve(string reference, string cwd);
}
