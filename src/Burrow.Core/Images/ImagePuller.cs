using Burrow.Core.Diagnostics;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Layers;
using Burrow.Core.Oci.Registry;
using Burrow.Core.Oci.Sources;

namespace Burrow.Core.Images;

public sealed record PullOptions
{
    /// <summary>Target architecture (<c>--arch</c>); the host's by default.</summary>
    public string Arch { get; init; } = ManifestReader.HostArchitecture;

    /// <summary>Squashfs compression of the converted image.</summary>
    public string Compression { get; init; } = "zstd";

    /// <summary>Convert again even if the cache has the image (<c>--force</c>).</summary>
    public bool Force { get; init; }

    /// <summary>Use no cache at all: blobs and the image go to a private temp directory (<c>--disable-cache</c>).</summary>
    public bool DisableCache { get; init; }

    public bool Insecure { get; init; }

    /// <summary>Parallel blob downloads.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>Receives (layer digest, total size, bytes just transferred) as blobs arrive; null for no progress display.</summary>
    public IPullProgress? Progress { get; init; }
}

/// <summary>Progress of one pull: each layer announced once, then advanced (negative when a retry starts again).</summary>
public interface IPullProgress
{
    void Layer(string digest, long size);
    void Advance(string digest, long bytes);
    void Done();
}

/// <summary>The result of a pull: the SIF (in the cache, or in a private temp directory the caller must delete).</summary>
public sealed record PulledImage(string SifPath, Digest ManifestDigest, bool FromCache, string? TempDirectory);

/// <summary>
/// OCI source → SIF in the cache: resolve, reuse the cached SIF for the manifest digest if there is one, otherwise
/// fetch the layers (bounded parallelism), flatten, build the squashfs and the SIF under a temp name, rename into place.
/// </summary>
public sealed class ImagePuller(ImageCache cache)
{
    public async Task<PulledImage> PullAsync(ImageSource source, PullOptions options, CancellationToken ct)
    {
        // SIGINT/SIGTERM/SIGHUP stop a pull wherever it is called from; every step below unwinds through its clean-up.
        using CancellationTokenSource interruptible = Interruption.Linked(ct);
        ct = interruptible.Token;
        string? privateTemp = null;
        Func<string, string> newTemp;
        string blobDir;
        if (options.DisableCache)
        {
            privateTemp = Files.TemporaryDirectories.Create("burrow-pull");
            newTemp = suffix => Path.Combine(privateTemp, Guid.NewGuid().ToString("N")[..12] + suffix);
            blobDir = Path.Combine(privateTemp, "blobs");
        }
        else
        {
            cache.Prepare();
            newTemp = cache.NewTempPath;
            blobDir = cache.BlobDirectory;
        }
        var blobs = new BlobStore(blobDir, () => newTemp(".blob"));
        string workDir = newTemp(".work");
        PrivateFiles.EnsureDirectory(workDir);
        try
        {
            using IImageProvider provider = CreateProvider(source, options, newTemp(".src"));
            OciImage image = await provider.ResolveAsync(options.Arch, ct).ConfigureAwait(false);
            string final = options.DisableCache ? Path.Combine(privateTemp!, "image.sif") : cache.SifPath(image.ManifestDigest, options.Compression);
            if (!options.DisableCache && !options.Force && File.Exists(final))
            {
                Log.Info("Using cached SIF image");
                return new PulledImage(final, image.ManifestDigest, true, null);
            }
            Log.Info($"Converting OCI blobs to SIF format ({image.Layers.Count} layers, {options.Compression} compression)");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            IReadOnlyList<LocalLayer> layers = await FetchLayersAsync(provider, image, blobs, options, ct).ConfigureAwait(false);
            Log.Verbose($"layers fetched and verified in {clock.Elapsed.TotalSeconds:0.00} s");
            string tempSif = newTemp(".sif");
            try
            {
                clock.Restart();
                OciSifConverter.Convert(image, layers, source.Text, options.Compression, workDir, tempSif, ct);
                Log.Verbose($"flattened and converted to SIF in {clock.Elapsed.TotalSeconds:0.00} s");
                ImageCache.Commit(tempSif, final);
            }
            finally
            {
                File.Delete(tempSif);
            }
            return new PulledImage(final, image.ManifestDigest, false, privateTemp);
        }
        catch
        {
            if (privateTemp is not null)
            {
                Files.TemporaryDirectories.Remove(privateTemp);
            }
            throw;
        }
        finally
        {
            if (Directory.Exists(workDir))
            {
                Directory.Delete(workDir, recursive: true);
            }
            if (!options.DisableCache)
            {
                cache.EndSession();
            }
        }
    }

    private static async Task<IReadOnlyList<LocalLayer>> FetchLayersAsync(IImageProvider provider, OciImage image, BlobStore blobs, PullOptions options, CancellationToken ct)
    {
        IPullProgress? progress = options.Progress;
        foreach (OciDescriptor layer in image.Layers)
        {
            progress?.Layer(layer.Digest, layer.Size);
        }
        using var gate = new SemaphoreSlim(Math.Max(1, options.Parallelism));
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task<string>[] tasks = image.Layers.Select(async layer =>
        {
            await gate.WaitAsync(failed.Token).ConfigureAwait(false);
            try
            {
                return await provider.FetchBlobAsync(layer, blobs, n => progress?.Advance(layer.Digest, n), failed.Token).ConfigureAwait(false);
            }
            catch
            {
                failed.Cancel(); // One bad layer fails the pull: stop the others instead of downloading for nothing.
                throw;
            }
            finally
            {
                gate.Release();
            }
        }).ToArray();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Report the layer that failed, not the ones cancelled because of it.
            Exception first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).First();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
        catch (Exception) when (tasks.Any(t => t.IsFaulted && t.Exception!.InnerException is BurrowException))
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(tasks.First(t => t.IsFaulted && t.Exception!.InnerException is BurrowException).Exception!.InnerException!);
        }
        finally
        {
            progress?.Done();
        }
        List<string> diffIds = image.Config.RootFs?.DiffIds ?? [];
        return image.Layers.Select((l, i) => new LocalLayer(tasks[i].Result, Digest.Parse(l.Digest), Digest.Parse(diffIds[i], "diff_id"))
        {
            DigestVerified = blobs.WasVerified(Digest.Parse(l.Digest)),
        }).ToList();
    }

    private static IImageProvider CreateProvider(ImageSource source, PullOptions options, string workDir) => source switch
    {
        RegistrySource r => new RegistryProvider(r.Reference, RegistryOptions.FromEnvironment(options.Insecure)),
        OciLayoutSource l => Directory.Exists(l.Path) ? new OciLayoutProvider(l.Path, l.Tag, source.Text)
            : throw new BurrowException($"{source.Text}: no such directory: {l.Path}"),
        OciArchiveSource a => new OciArchiveProvider(a.Path, a.Tag, source.Text, workDir),
        DockerArchiveSource d => new DockerArchiveProvider(d.Path, d.Reference, source.Text, workDir),
        _ => throw new ArgumentException("unknown source kind", nameof(source)),
    };
}
