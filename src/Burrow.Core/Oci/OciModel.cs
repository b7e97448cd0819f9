using System.Text.Json.Serialization;

namespace Burrow.Core.Oci;

/// <summary>Media types of the OCI image spec and their Docker schema 2 twins.</summary>
public static class MediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestV1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerManifestV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    public static bool IsIndex(string? t) => t is OciIndex or DockerManifestList;

    public static bool IsManifest(string? t) => t is OciManifest or DockerManifest;

    public static bool IsSchema1(string? t) => t is DockerManifestV1 or DockerManifestV1Signed;

    /// <summary>What a registry is asked for: everything we can read, schema 1 last so that we can name it when refused.</summary>
    public const string Accept = OciIndex + ", " + DockerManifestList + ", " + OciManifest + ", " + DockerManifest + ", "
        + DockerManifestV1Signed + ";q=0.1, " + DockerManifestV1 + ";q=0.1";
}

public sealed class OciDescriptor
{
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("digest")] public string Digest { get; set; } = "";
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("urls")] public List<string>? Urls { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("platform")] public OciPlatform? Platform { get; set; }
}

public sealed class OciPlatform
{
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("os")] public string Os { get; set; } = "";
    [JsonPropertyName("variant")] public string? Variant { get; set; }
    [JsonPropertyName("os.version")] public string? OsVersion { get; set; }

    public override string ToString() => Os + "/" + Architecture + (string.IsNullOrEmpty(Variant) ? "" : "/" + Variant);
}

/// <summary>An OCI image manifest, a Docker schema 2 manifest, an OCI index or a Docker manifest list (the union of their fields).</summary>
public sealed class OciManifest
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; }
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("config")] public OciDescriptor? Config { get; set; }
    [JsonPropertyName("layers")] public List<OciDescriptor>? Layers { get; set; }
    [JsonPropertyName("manifests")] public List<OciDescriptor>? Manifests { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
}

public sealed class OciImageConfig
{
    [JsonPropertyName("created")] public string? Created { get; set; }
    [JsonPropertyName("author")] public string? Author { get; set; }
    [JsonPropertyName("architecture")] public string? Architecture { get; set; }
    [JsonPropertyName("variant")] public string? Variant { get; set; }
    [JsonPropertyName("os")] public string? Os { get; set; }
    [JsonPropertyName("config")] public OciRuntimeConfig? Config { get; set; }
    [JsonPropertyName("rootfs")] public OciRootFs? RootFs { get; set; }
}

public sealed class OciRuntimeConfig
{
    [JsonPropertyName("User")] public string? User { get; set; }
    [JsonPropertyName("Env")] public List<string>? Env { get; set; }
    [JsonPropertyName("Entrypoint")] public List<string>? Entrypoint { get; set; }
    [JsonPropertyName("Cmd")] public List<string>? Cmd { get; set; }
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; set; }
    [JsonPropertyName("Labels")] public Dictionary<string, string>? Labels { get; set; }
}

public sealed class OciRootFs
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("diff_ids")] public List<string>? DiffIds { get; set; }
}

/// <summary>One image of a <c>docker save</c> archive's manifest.json.</summary>
public sealed class DockerArchiveImage
{
    [JsonPropertyName("Config")] public string Config { get; set; } = "";
    [JsonPropertyName("RepoTags")] public List<string>? RepoTags { get; set; }
    [JsonPropertyName("Layers")] public List<string> Layers { get; set; } = [];
}

/// <summary>A token endpoint's answer (Docker token auth spec): the token is in <c>token</c> or <c>access_token</c>.</summary>
public sealed class TokenResponse
{
    [JsonPropertyName("token")] public string? Token { get; set; }
    [JsonPropertyName("access_token")] public string? AccessToken { get; set; }
    [JsonPropertyName("expires_in")] public int? ExpiresIn { get; set; }
    [JsonPropertyName("issued_at")] public DateTimeOffset? IssuedAt { get; set; }
}

/// <summary>Docker's config.json and containers' auth.json share this shape.</summary>
public sealed class AuthFile
{
    [JsonPropertyName("auths")] public Dictionary<string, AuthEntry> Auths { get; set; } = [];
}

public sealed class AuthEntry
{
    [JsonPropertyName("auth")] public string? Auth { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(OciImageConfig))]
[JsonSerializable(typeof(List<DockerArchiveImage>))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(AuthFile))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class OciJsonContext : JsonSerializerContext;
