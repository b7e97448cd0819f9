using System.Formats.Tar;
using System.Text.Json;
using System.Text.RegularExpressions;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Oci.Layers;
using Burrow.Linux;

namespace Burrow.Core.Oci.Sources;

/// <summary>
/// Copies chosen regular-file members of an image archive into a private work directory. Only names that
/// match the archive format's own layout are taken (validated, never used raw as paths), so a hostile
/// archive cannot write anywhere else.
/// </summary>
internal static class ArchiveMembers
{
    public static Dictionary<string, string> Extract(string archive, string workDir, Func<string, bool> wanted, string display)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        FileStream file;
        try
        {
            // A regular file only: a FIFO would block here for ever, /dev/zero would never end.
            file = RegularFile.OpenRead(archive, 1 << 20);
        }
        catch (IOException e)
        {
            throw new BurrowException($"{display}: cannot read {archive}: {FailureText.Reason(e)}",
                e is LinuxException { Errno: Errno.ENOENT } ? "check the path of the archive" : "give a tar file made by docker save, podman save or an OCI tool", ExitCodes.Failure, e);
        }
        PrivateFiles.EnsureDirectory(workDir);
        try
        {
            using (file)
            using (var reader = new TarReader(file))
            {
                int n = 0;
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    Interruption.ThrowIfRequested();
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                    {
                        continue;
                    }
                    if (!EntryName.TrySplit(entry.Name, out List<string> parts, out _) || parts.Count == 0)
                    {
                        continue;
                    }
                    string name = string.Join('/', parts);
                    if (!wanted(name))
                    {
                        continue;
                    }
                    string target = Path.Combine(workDir, "m" + n++);
                    try
                    {
                        using FileStream output = PrivateFiles.CreateFile(target);
                        entry.DataStream.CopyTo(output);
                    }
                    catch (ArgumentException e)
                    {
                        // .NET reports EFBIG (a file over ulimit -f) as an argument error of the write.
                        throw new BurrowException($"{display}: cannot copy {name} out of the archive: the file is larger than the file size limit allows",
                            "raise the limit (ulimit -f unlimited)", ExitCodes.Failure, e);
                    }
                    result[name] = target;
                }
            }
            return result;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            RemoveQuietly(workDir);
            throw new ImageFormatException($"{display}: {archive} is not a valid tar archive: {(e is EndOfStreamException ? "it ends in the middle of an entry (truncated?)" : e.Message)}",
                "check that the archive was copied whole");
        }
        catch
        {
            RemoveQuietly(workDir);
            throw;
        }
    }

    /// <summary>Removes a work directory on a failure path; a failure to remove it is not the error to report.</summary>
    public static void RemoveQuietly(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Debug($"cannot remove {dir}: {e.Message}");
        }
    }
}

/// <summary><c>oci-archive:FILE[:tag]</c>: an OCI layout in a tar file, unpacked to a work directory and read as a layout.</summary>
public sealed partial class OciArchiveProvider : IImageProvider
{
    private readonly string _workDir;
    private readonly OciLayoutProvider _layout;

    public OciArchiveProvider(string archive, string? tag, string display, string workDir)
    {
        _workDir = workDir;
        Dictionary<string, string> members = ArchiveMembers.Extract(archive, workDir + ".x",
            n => n is "index.json" or "oci-layout" || BlobName().IsMatch(n), display);
        try
        {
            foreach ((string name, string path) in members)
            {
                string dest = Path.Combine(workDir, name);
                PrivateFiles.EnsureDirectory(Path.GetDirectoryName(dest)!);
                File.Move(path, dest);
            }
            _layout = new OciLayoutProvider(workDir, tag, display);
        }
        catch
        {
            // The constructor failed, so nobody will Dispose this provider: its work directory goes now.
            ArchiveMembers.RemoveQuietly(workDir);
            throw;
        }
        finally
        {
            ArchiveMembers.RemoveQuietly(workDir + ".x");
        }
    }

    public Task<OciImage> ResolveAsync(string arch, CancellationToken ct) => _layout.ResolveAsync(arch, ct);

    public Task<string> FetchBlobAsync(OciDescriptor blob, BlobStore store, Action<long>? progress, CancellationToken ct) =>
        _layout.FetchBlobAsync(blob, store, progress, ct);

    public void Dispose()
    {
        if (Directory.Exists(_workDir))
        {
            Directory.Delete(_workDir, recursive: true);
        }
    }

    [GeneratedRegex("^blobs/(sha256/[0-9a-f]{64}|sha512/[0-9a-f]{128})$")]
    private static partial Regex BlobName();
}

/// <summary>
/// <c>docker-archive:FILE[:name:tag]</c>: what <c>docker save</c> and <c>podman save</c> write: a manifest.json
/// naming a config file and layer tars. There are no compressed digests; the config's sha256 identifies the image
/// and its diff_ids verify every layer.
/// </summary>
public sealed class DockerArchiveProvider : IImageProvider
{
    private readonly string _workDir;
    private readonly string? _reference;
    private readonly string _display;
    private readonly Dictionary<string, string> _members;
    private readonly Dictionary<string, string> _layerFiles = new(StringComparer.Ordinal);

    public DockerArchiveProvider(string archive, string? reference, string display, string workDir)
    {
        _workDir = workDir;
        _reference = reference;
        _display = display;
        _members = ArchiveMembers.Extract(archive, workDir, _ => true, display);
    }

    public Task<OciImage> ResolveAsync(string arch, CancellationToken ct)
    {
        if (!_members.TryGetValue("manifest.json", out string? manifestPath))
        {
            throw new ImageFormatException($"{_display}: not a docker-archive (no manifest.json)");
        }
        List<DockerArchiveImage> images;
        try
        {
            images = JsonSerializer.Deserialize(File.ReadAllBytes(manifestPath), OciJsonContext.Default.ListDockerArchiveImage) ?? [];
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"{_display}: manifest.json is not valid: {e.Message}");
        }
        DockerArchiveImage image = Select(images);
        if (!_members.TryGetValue(Normalise(image.Config), out string? configPath))
        {
            throw new ImageFormatException($"{_display}: the config {image.Config} is missing from the archive");
        }
        byte[] configBytes = File.ReadAllBytes(configPath);
        Digest configDigest = Digest.Sha256(configBytes);
        var layers = new List<OciDescriptor>();
        foreach (string layerName in image.Layers)
        {
            if (!_members.TryGetValue(Normalise(layerName), out string? layerPath))
            {
                throw new ImageFormatException($"{_display}: the layer {layerName} is missing from the archive");
            }
            Digest digest = DigestOfFile(layerPath);
            _layerFiles[digest.ToString()] = layerPath;
            layers.Add(new OciDescriptor { MediaType = MediaTypes.OciLayer, Digest = digest.ToString(), Size = new FileInfo(layerPath).Length });
        }
        var manifest = new OciManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new OciDescriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest.ToString(), Size = configBytes.Length },
            Layers = layers,
        };
        (OciImageConfig config, IReadOnlyList<OciDescriptor> checkedLayers) = ManifestReader.ReadConfig(manifest, configBytes, _display);
        if (config.Architecture is { Length: > 0 } a && a != arch.Split('/')[0])
        {
            Log.Warning($"{_display}: the image is for {a}, not {arch}");
        }
        byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.OciManifest);
        // The image ID (config digest) is what docker calls this image; use it as the cache key.
        return Task.FromResult(new OciImage(configDigest, manifestBytes, configBytes, config, checkedLayers));
    }

    private DockerArchiveImage Select(List<DockerArchiveImage> images)
    {
        if (_reference is null)
        {
            return images.Count == 1 ? images[0]
                : throw new BurrowException($"{_display}: the archive holds {images.Count} images", "name one as docker-archive:FILE:NAME:TAG");
        }
        string wanted = _reference.Contains(':') ? _reference : _reference + ":latest";
        foreach (DockerArchiveImage image in images)
        {
            foreach (string tag in image.RepoTags ?? [])
            {
                if (tag == wanted || tag.EndsWith("/" + wanted, StringComparison.Ordinal))
                {
                    return image;
                }
            }
        }
        throw new BurrowException($"not found: {_display}", "tags in this archive: " + string.Join(", ", images.SelectMany(i => i.RepoTags ?? [])));
    }

    public Task<string> FetchBlobAsync(OciDescriptor blob, BlobStore store, Action<long>? progress, CancellationToken ct)
    {
        progress?.Invoke(blob.Size);
        return Task.FromResult(_layerFiles[blob.Digest]);
    }

    private static string Normalise(string name) =>
        EntryName.TrySplit(name, out List<string> parts, out _) ? string.Join('/', parts) : "";

    private static Digest DigestOfFile(string path)
    {
        using FileStream fs = LayerCompression.OpenFile(path);
        return new Digest("sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(fs)));
    }

    public void Dispose()
    {
        if (Directory.Exists(_workDir))
        {
            Directory.Delete(_workDir, recursive: true);
        }
    }
}
