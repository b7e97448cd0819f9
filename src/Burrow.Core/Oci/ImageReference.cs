using System.Text.RegularExpressions;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Oci;

/// <summary>
/// A registry image reference normalised the way Docker does it: no registry means <c>docker.io</c>, a
/// one-component Docker Hub name gets <c>library/</c>, and no tag or digest means <c>latest</c>.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, Digest? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The host to talk to: Docker Hub's API is not served at docker.io itself.</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>Tag or digest as used in a manifest URL; a digest wins when both are given, as in Docker.</summary>
    public string ManifestReference => Digest?.ToString() ?? Tag ?? "latest";

    public override string ToString() => Registry + "/" + Repository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    /// <summary>A file name for <c>burrow pull</c> without OUT.sif: <c>name_tag.sif</c>, as Apptainer names it.</summary>
    public string DefaultFileName()
    {
        string name = Repository[(Repository.LastIndexOf('/') + 1)..];
        return name + "_" + (Tag ?? (Digest is { } d ? d.Hex[..12] : "latest")) + ".sif";
    }

    /// <summary>Parses <c>[registry/]name[:tag][@digest]</c> (without the <c>docker://</c> prefix).</summary>
    public static ImageReference Parse(string text)
    {
        string original = text;
        if (text.Length == 0 || text.Length > 4096)
        {
            throw Invalid(original, "it is empty or too long");
        }
        Digest? digest = null;
        int at = text.IndexOf('@');
        if (at >= 0)
        {
            if (!Oci.Digest.TryParse(text[(at + 1)..], out Digest d))
            {
                throw Invalid(original, "the digest after @ is not sha256:<64 lowercase hex digits>");
            }
            digest = d;
            text = text[..at];
        }
        string? tag = null;
        int lastSlash = text.LastIndexOf('/');
        int colon = text.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = text[(colon + 1)..];
            text = text[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                throw Invalid(original, $"the tag \"{tag}\" is not valid");
            }
        }
        string registry = DockerHub;
        string path = text;
        int slash = text.IndexOf('/');
        if (slash > 0)
        {
            string first = text[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost")
            {
                registry = first;
                path = text[(slash + 1)..];
            }
        }
        if (registry is "index.docker.io" or "registry-1.docker.io")
        {
            registry = DockerHub;
        }
        if (!IsValidHost(registry))
        {
            throw Invalid(original, $"the registry \"{registry}\" is not a host name with an optional port (1 to 65535)");
        }
        if (path != path.ToLowerInvariant())
        {
            throw Invalid(original, "repository names must be lowercase");
        }
        if (!PathPattern().IsMatch(path))
        {
            throw Invalid(original, $"the repository name \"{path}\" is not valid");
        }
        if (registry == DockerHub && !path.Contains('/'))
        {
            path = "library/" + path;
        }
        if (tag is null && digest is null)
        {
            tag = "latest";
        }
        return new ImageReference(registry, path, tag, digest);
    }

    /// <summary>host[:port] as a registry is written: a DNS name, an IPv4 address or [IPv6], and a port from 1 to 65535.</summary>
    public static bool IsValidHost(string registry)
    {
        if (!HostPattern().IsMatch(registry))
        {
            return false;
        }
        int colon = registry.LastIndexOf(':');
        return colon < 0 || registry.EndsWith(']') || (int.TryParse(registry[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535);
    }

    private static BurrowException Invalid(string text, string why) =>
        new($"invalid image reference \"{text}\": {why}", "use docker://[registry/]name[:tag|@sha256:digest], e.g. docker://alpine:3.20");

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex PathPattern();
}
