using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;

namespace Burrow.Core.Oci.Sources;

/// <summary>
/// <c>oci:DIR[:tag]</c>: an OCI image layout (image-spec image-layout.md). The tag is matched against the
/// <c>org.opencontainers.image.ref.name</c> annotation of <c>index.json</c>; without one the layout must hold one image.
/// Blobs are read in place: manifest and config are verified here, layers when they are flattened.
/// </summary>
public sealed class OciLayoutProvider(string directory, string? tag, string display) : IImageProvider
{
    private const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    public Task<OciImage> ResolveAsync(string arch, CancellationToken ct)
    {
        string indexPath = Path.Combine(directory, "index.json");
        if (!File.Exists(indexPath))
        {
            throw new BurrowException($"{display}: {directory} is not an OCI image layout (no index.json)");
        }
        OciManifest index = ManifestReader.Parse(ReadCapped(indexPath), MediaTypes.OciIndex, display);
        List<OciDescriptor> entries = index.Manifests ?? [];
        OciDescriptor? chosen;
        if (tag is not null)
        {
            chosen = entries.FirstOrDefault(d => d.Annotations?.GetValueOrDefault(RefNameAnnotation) == tag)
                ?? throw new BurrowException($"not found: {display}",
                    "tags in this layout: " + string.Join(", ", entries.Select(d => d.Annotations?.GetValueOrDefault(RefNameAnnotation)).Where(t => t is not null)));
        }
        else if (entries.Count == 1)
        {
            chosen = entries[0];
        }
        else
        {
            // A multi-platform layout written as one index per platform: pick by platform, as from a registry index.
            chosen = entries.Count > 1 && entries.All(e => e.Platform is not null) ? ManifestReader.SelectPlatform(index, arch, display)
                : throw new BurrowException($"{display}: the layout holds {entries.Count} images", "name one as oci:DIR:TAG");
        }
        (OciManifest manifest, Digest digest, byte[] bytes) = ReadManifest(chosen);
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            (manifest, digest, bytes) = ReadManifest(ManifestReader.SelectPlatform(manifest, arch, display));
        }
        OciDescriptor configDescriptor = manifest.Config ?? throw new ImageFormatException($"{display}: the manifest has no config");
        byte[] configBytes = ReadVerified(configDescriptor);
        (OciImageConfig config, IReadOnlyList<OciDescriptor> layers) = ManifestReader.ReadConfig(manifest, configBytes, display);
        return Task.FromResult(new OciImage(digest, bytes, configBytes, config, layers));
    }

    public Task<string> FetchBlobAsync(OciDescriptor blob, BlobStore store, Action<long>? progress, CancellationToken ct)
    {
        string path = BlobPath(blob);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ImageFormatException($"{display}: blob {blob.Digest} is missing from the layout");
        }
        if (info.Length != blob.Size)
        {
            throw new ImageFormatException($"{display}: blob {blob.Digest} has {info.Length} bytes, not the {blob.Size} its descriptor says");
        }
        progress?.Invoke(blob.Size);
        return Task.FromResult(path);
    }

    private (OciManifest, Digest, byte[]) ReadManifest(OciDescriptor d)
    {
        byte[] bytes = ReadVerified(d);
        return (ManifestReader.Parse(bytes, d.MediaType, display), Digest.Parse(d.Digest), bytes);
    }

    private byte[] ReadVerified(OciDescriptor d)
    {
        string path = BlobPath(d);
        if (!File.Exists(path))
        {
            throw new ImageFormatException($"{display}: blob {d.Digest} is missing from the layout");
        }
        byte[] bytes = ReadCapped(path);
        Digest digest = Digest.Parse(d.Digest);
        if (!digest.Matches(bytes) || bytes.LongLength != d.Size)
        {
            throw new ImageFormatException($"{display}: blob {d.Digest} does not match its digest or size: the layout is damaged");
        }
        return bytes;
    }

    private string BlobPath(OciDescriptor d)
    {
        Digest digest = Digest.Parse(d.Digest, "blob digest");
        return Path.Combine(directory, "blobs", digest.Algorithm, digest.Hex);
    }

    private byte[] ReadCapped(string path)
    {
        if (new FileInfo(path).Length > Registry.RegistryClient.MaxManifestBytes)
        {
            throw new ImageFormatException($"{display}: {Path.GetFileName(path)} is larger than {Registry.RegistryClient.MaxManifestBytes >> 20} MiB");
        }
        return File.ReadAllBytes(path);
    }

    public void Dispose()
    {
    }
}
