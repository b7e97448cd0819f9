using System.Runtime.InteropServices;
using System.Text.Json;

namespace Burrow.Core.Oci.Sources;

/// <summary>Parses manifests and indexes, refuses schema 1, and picks a platform from an index or manifest list.</summary>
public static class ManifestReader
{
    /// <summary>The host's architecture in OCI/Go naming (amd64, arm64, …), the default for <c>--arch</c>.</summary>
    public static string HostArchitecture => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.X86 => "386",
        Architecture.Ppc64le => "ppc64le",
        Architecture.S390x => "s390x",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loong64",
        _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
    };

    public static OciManifest Parse(byte[] bytes, string? contentType, string what)
    {
        OciManifest? m;
        try
        {
            m = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.OciManifest);
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"{what}: the manifest is not valid JSON: {e.Message}");
        }
        if (m is null)
        {
            throw new ImageFormatException($"{what}: the manifest is empty");
        }
        m.MediaType ??= contentType is { Length: > 0 } && contentType != "application/json" ? contentType
            : m.Manifests is not null ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        if (m.SchemaVersion == 1 || MediaTypes.IsSchema1(m.MediaType))
        {
            throw new ImageFormatException($"{what} uses the Docker image manifest schema 1, which is deprecated and not supported",
                "push the image again with a current docker, podman or skopeo, which write schema 2 or OCI manifests");
        }
        if (!MediaTypes.IsIndex(m.MediaType) && !MediaTypes.IsManifest(m.MediaType))
        {
            throw new ImageFormatException($"{what}: unsupported manifest type \"{m.MediaType}\" (not an image)");
        }
        return m;
    }

    /// <summary>Picks linux/arch from an index (an entry with a matching variant or none), as the first exact match.</summary>
    public static OciDescriptor SelectPlatform(OciManifest index, string arch, string what)
    {
        List<OciDescriptor> entries = index.Manifests ?? [];
        string? wantedVariant = null;
        string wantedArch = arch;
        int slash = arch.IndexOf('/');
        if (slash > 0)
        {
            wantedArch = arch[..slash];
            wantedVariant = arch[(slash + 1)..];
        }
        OciDescriptor? best = entries.FirstOrDefault(d => d.Platform is { } p && p.Os == "linux" && p.Architecture == wantedArch
                && (wantedVariant is null || p.Variant == wantedVariant) && MediaTypes.IsManifest(d.MediaType ?? MediaTypes.OciManifest))
            ?? entries.FirstOrDefault(d => d.Platform is { } p && p.Os == "linux" && p.Architecture == wantedArch && string.IsNullOrEmpty(p.Variant));
        if (best is null)
        {
            string available = string.Join(", ", entries.Where(d => d.Platform is not null).Select(d => d.Platform!.ToString()).Distinct());
            throw new ImageFormatException($"{what} has no image for linux/{arch} (it has: {(available.Length > 0 ? available : "none")})",
                "choose one with --arch");
        }
        return best;
    }

    public static (OciImageConfig Config, IReadOnlyList<OciDescriptor> Layers) ReadConfig(OciManifest manifest, byte[] configBytes, string what)
    {
        OciImageConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(configBytes, OciJsonContext.Default.OciImageConfig);
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"{what}: the image config is not valid JSON: {e.Message}");
        }
        if (config is null)
        {
            throw new ImageFormatException($"{what}: the image config is empty");
        }
        IReadOnlyList<OciDescriptor> layers = manifest.Layers ?? [];
        int diffIds = config.RootFs?.DiffIds?.Count ?? 0;
        if (diffIds != layers.Count)
        {
            throw new ImageFormatException($"{what}: the manifest lists {layers.Count} layers but the config has {diffIds} diff_ids");
        }
        foreach (OciDescriptor layer in layers)
        {
            Digest.Parse(layer.Digest, "layer digest");
            if (layer.Size < 0)
            {
                throw new ImageFormatException($"{what}: layer {layer.Digest} has a negative size");
            }
        }
        return (config, layers);
    }
}
