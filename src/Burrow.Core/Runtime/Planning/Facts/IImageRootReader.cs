namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>
/// Reads paths inside an image root with every symlink resolved inside that root, as the stage will
/// (openat2 RESOLVE_IN_ROOT): an image's "/etc/passwd -> /etc/shadow-of-the-host" link must not make
/// the engine read or describe a host file. Paths are absolute container paths.
/// </summary>
public interface IImageRootReader
{
    PathKind KindOf(string containerPath);

    /// <summary>The file's text, or null if it is missing or not a regular file. Larger than <paramref name="maxBytes"/> is an error.</summary>
    string? ReadText(string containerPath, int maxBytes);

    /// <summary>Names of the regular files directly in a directory (empty if it is missing).</summary>
    IReadOnlyList<string> ListFiles(string containerDirectory);

    /// <summary>Names of the directories directly in a directory, links to directories included (empty if it is missing).</summary>
    IReadOnlyList<string> ListDirectories(string containerDirectory);

    /// <summary>Where the path leads with every symlink followed inside the image (/var/tmp → /tmp), or null if it does not exist.</summary>
    string? Resolve(string containerPath);
}
