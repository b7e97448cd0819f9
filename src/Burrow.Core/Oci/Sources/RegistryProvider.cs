using Burrow.Core.Images;
using Burrow.Core.Oci.Registry;

namespace Burrow.Core.Oci.Sources;

/// <summary><c>docker://</c>: a registry through <see cref="RegistryClient"/>; blobs land verified in the blob store.</summary>
public sealed class RegistryProvider(ImageReference reference, RegistryOptions options) : IImageProvider
{
    private readonly RegistryClient _client = new(reference, options);

    public async Task<OciImage> ResolveAsync(string arch, CancellationToken ct)
    {
        string what = "docker://" + reference;
        (byte[] bytes, string type, Digest digest) = await _client.GetManifestAsync(reference.ManifestReference, ct).ConfigureAwait(false);
        OciManifest manifest = ManifestReader.Parse(bytes, type, what);
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            OciDescriptor chosen = ManifestReader.SelectPlatform(manifest, arch, what);
            (bytes, type, digest) = await _client.GetManifestAsync(chosen.Digest, ct).ConfigureAwait(false);
            manifest = ManifestReader.Parse(bytes, type, what);
            if (MediaTypes.IsIndex(manifest.MediaType))
            {
                throw new ImageFormatException($"{what}: the index for linux/{arch} points at another index");
            }
        }
        OciDescriptor configDescriptor = manifest.Config ?? throw new ImageFormatException($"{what}: the manifest has no config");
        if (configDescriptor.Size > RegistryClient.MaxManifestBytes)
        {
            throw new ImageFormatException($"{what}: the config is larger than {RegistryClient.MaxManifestBytes >> 20} MiB");
        }
        using var configStream = new MemoryStream();
        await _client.DownloadBlobAsync(configDescriptor, configStream, null, ct).ConfigureAwait(false);
        byte[] configBytes = configStream.ToArray();
        (OciImageConfig config, IReadOnlyList<OciDescriptor> layers) = ManifestReader.ReadConfig(manifest, configBytes, what);
        return new OciImage(digest, bytes, configBytes, config, layers);
    }

    public async Task<string> FetchBlobAsync(OciDescriptor blob, BlobStore store, Action<long>? progress, CancellationToken ct)
    {
        Digest digest = Digest.Parse(blob.Digest, "layer digest");
        if (store.TryGet(digest, blob.Size) is { } cached)
        {
            progress?.Invoke(blob.Size);
            return cached;
        }
        return await store.PutAsync(digest, async file => await _client.DownloadBlobAsync(blob, file, progress, ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();
}
