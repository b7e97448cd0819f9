using Burrow.Core.Images;

namespace Burrow.Core.Oci.Sources;

/// <summary>An image whose manifest and config are read and verified; the layers are still to fetch.</summary>
public sealed record OciImage(Digest ManifestDigest, byte[] ManifestBytes, byte[] ConfigBytes, OciImageConfig Config, IReadOnlyList<OciDescriptor> Layers)
{
    public string Architecture => Config.Architecture ?? "";
}

/// <summary>One kind of OCI source (registry, layout, archive): resolve to one platform's image, then make its blobs local.</summary>
public interface IImageProvider : IDisposable
{
    /// <summary>Reads the manifest (choosing the platform from an index) and the config, checking both against their digests.</summary>
    Task<OciImage> ResolveAsync(string arch, CancellationToken ct);

    /// <summary>Returns a local file holding the blob; layers are re-verified against their digests when flattened.</summary>
    Task<string> FetchBlobAsync(OciDescriptor blob, BlobStore store, Action<long>? progress, CancellationToken ct);
}
