namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// What the planner needs to know about the image, read inside the image root beforehand by
/// <see cref="Facts.ImageFactsReader"/> (symlinks resolved inside the root, never on the host).
/// </summary>
public sealed record ImageFacts
{
    /// <summary>Host path of the root file system.</summary>
    public required string RootPath { get; init; }

    public RootFsKind Kind { get; init; } = RootFsKind.Directory;

    /// <summary>Where the squashfs lies in <see cref="RootPath"/>, for <see cref="RootFsKind.Squashfs"/>.</summary>
    public SquashfsLocation? Squashfs { get; init; }

    /// <summary>The format the image came in: a SIF is never changed in place, even when it runs unpacked.</summary>
    public Images.ImageFormat Format { get; init; } = Images.ImageFormat.Sandbox;

    /// <summary>True when the caller may write the root directory (needed for --writable).</summary>
    public bool RootWritableByCaller { get; init; }

    /// <summary>A SIF the execution control list verified: only the burrow that verified it serves it (never a shared server).</summary>
    public bool Verified { get; init; }

    /// <summary>The image's /etc/passwd and /etc/group, null when missing.</summary>
    public string? Passwd { get; init; }
    public string? Group { get; init; }

    /// <summary>/.singularity.d/env/*.sh in the image, as container paths in lexical order.</summary>
    public IReadOnlyList<string> EnvScripts { get; init; } = [];

    /// <summary>Where each of <see cref="FactQueries.ResolvedImagePaths"/> leads with symlinks followed inside the image; null when it does not exist.</summary>
    public IReadOnlyDictionary<string, string?> Resolved { get; init; } = new Dictionary<string, string?>();

    /// <summary>The kind of every image path listed by <see cref="FactQueries.ImagePaths"/>.</summary>
    public required IReadOnlyDictionary<string, PathKind> Paths { get; init; }

    public PathKind KindOf(string containerPath) => Paths.TryGetValue(containerPath, out PathKind kind)
        ? kind
        : throw new InvalidOperationException($"image fact for {containerPath} was not gathered (FactQueries.ImagePaths misses it)");

    /// <summary>Where <paramref name="containerPath"/> leads inside the image (itself when not gathered or missing).</summary>
    public string ResolvedPath(string containerPath) => Resolved.TryGetValue(containerPath, out string? r) && r is not null ? r : containerPath;
}
