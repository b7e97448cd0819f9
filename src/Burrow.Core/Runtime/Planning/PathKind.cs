namespace Burrow.Core.Runtime.Planning;

/// <summary>What a path is after following symlinks (inside the image root for image paths).</summary>
public enum PathKind
{
    Missing,
    Directory,
    File,

    /// <summary>A device, socket or fifo: it exists but is neither a file nor a directory.</summary>
    Other,
}
