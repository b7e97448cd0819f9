using Burrow.Core.Diagnostics;

namespace Burrow.Core.Oci;

/// <summary>Where an OCI image comes from: a registry, a <c>docker save</c> archive, an OCI layout or an OCI archive.</summary>
public abstract record ImageSource
{
    /// <summary>The text the user wrote, for messages.</summary>
    public required string Text { get; init; }

    /// <summary>
    /// Parses an OCI source; returns null for anything else (a SIF file or a sandbox directory). As in Apptainer,
    /// <c>transport:ref</c> counts as a source only for the transports we know, so a local path with a colon still works.
    /// </summary>
    public static ImageSource? TryParse(string text)
    {
        if (text.StartsWith("docker://", StringComparison.Ordinal))
        {
            return new RegistrySource(ImageReference.Parse(text["docker://".Length..])) { Text = text };
        }
        if (text.StartsWith("docker-archive:", StringComparison.Ordinal))
        {
            (string path, string? r) = SplitPathAndRef(text["docker-archive:".Length..]);
            return new DockerArchiveSource(NonEmpty(path, text), r) { Text = text };
        }
        if (text.StartsWith("oci-archive:", StringComparison.Ordinal))
        {
            (string path, string? tag) = SplitPathAndRef(text["oci-archive:".Length..]);
            return new OciArchiveSource(NonEmpty(path, text), tag) { Text = text };
        }
        if (text.StartsWith("oci:", StringComparison.Ordinal))
        {
            (string path, string? tag) = SplitPathAndRef(text["oci:".Length..]);
            return new OciLayoutSource(NonEmpty(path, text), tag) { Text = text };
        }
        foreach (string unsupported in new[] { "docker-daemon:", "library://", "shub://", "oras://", "http://", "https://" })
        {
            if (text.StartsWith(unsupported, StringComparison.Ordinal))
            {
                throw new BurrowException($"image source \"{text}\": the transport {unsupported.TrimEnd(':', '/')} is not supported",
                    "use docker://, docker-archive:, oci:, oci-archive:, a SIF file or a sandbox directory");
            }
        }
        return null;
    }

    /// <summary>
    /// <c>PATH[:REF]</c>: the reference is what follows the last colon, but only if what precedes it exists as a file
    /// or directory, so that paths containing colons keep working (skopeo does the same).
    /// </summary>
    private static (string Path, string? Ref) SplitPathAndRef(string rest)
    {
        if (File.Exists(rest) || Directory.Exists(rest))
        {
            return (rest, null);
        }
        // docker-archive refs may contain a colon themselves (name:tag), so try every colon from the left.
        for (int i = rest.IndexOf(':'); i >= 0; i = rest.IndexOf(':', i + 1))
        {
            string p = rest[..i];
            if (File.Exists(p) || Directory.Exists(p))
            {
                string r = rest[(i + 1)..];
                return (p, r.Length == 0 ? null : r);
            }
        }
        return (rest, null);
    }

    private static string NonEmpty(string path, string text) => path.Length > 0 ? path
        : throw new BurrowException($"image source \"{text}\" names no file", "write it as TRANSPORT:PATH[:REF]");
}

public sealed record RegistrySource(ImageReference Reference) : ImageSource;

public sealed record DockerArchiveSource(string Path, string? Reference) : ImageSource;

public sealed record OciLayoutSource(string Path, string? Tag) : ImageSource;

public sealed record OciArchiveSource(string Path, string? Tag) : ImageSource;
