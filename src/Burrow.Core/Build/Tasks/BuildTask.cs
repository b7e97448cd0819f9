using System.Text.Json.Serialization;

namespace Burrow.Core.Build.Tasks;

/// <summary>What a build task does (see <see cref="BuildTask"/>).</summary>
public enum BuildTaskKind
{
    /// <summary>execve a host program (%setup, debootstrap) with the given argv, environment and directory.</summary>
    Exec,

    /// <summary>unsquashfs a SIF's or squashfs file's tree into <see cref="BuildTask.Root"/>.</summary>
    Unpack,

    /// <summary>Copy a sandbox directory into <see cref="BuildTask.Root"/> (cp -a).</summary>
    CopyTree,

    /// <summary>Copy %files entries into <see cref="BuildTask.Root"/>, destinations resolved inside it.</summary>
    Copy,

    /// <summary>Write generated files (metadata, scripts) into <see cref="BuildTask.Root"/>, paths resolved inside it.</summary>
    Write,

    /// <summary>Stream <see cref="BuildTask.Root"/> as a tar into tar2sqfs, writing the squashfs <see cref="BuildTask.Output"/>.</summary>
    Pack,

    /// <summary>Remove <see cref="BuildTask.Paths"/> and everything under them.</summary>
    Remove,
}

/// <summary>
/// One piece of a build's file work, carried out by <c>burrow __build-task</c> as root of a user namespace that has
/// the build's maps (<see cref="Runtime.Launch.ContainerLauncher.RunInUserNamespace"/>): there the root file system's
/// owners are the container's ids (0 for root, 1… for the subordinate range), so unpacking keeps the image's owners,
/// packing records them, and files of every owner can be read and removed. Plain data, passed as JSON.
/// </summary>
public sealed record BuildTask
{
    public required BuildTaskKind Kind { get; init; }

    /// <summary>The root file system (host path) the task reads or writes.</summary>
    public string? Root { get; init; }

    public IReadOnlyList<string> Argv { get; init; } = [];

    /// <summary>NAME=VALUE for Exec, and for the tools the other tasks run (PATH).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    public string? Cwd { get; init; }

    /// <summary>Unpack: the file holding the squashfs and where in it; CopyTree: the sandbox.</summary>
    public string? Source { get; init; }

    public long Offset { get; init; }

    /// <summary>Unpack: the squashfs's length in <see cref="Source"/> (0: to the end).</summary>
    public long Length { get; init; }

    /// <summary>Pack: the squashfs to write; also where Unpack/CopyTree report what they could not make (JSON).</summary>
    public string? Output { get; init; }

    public string Compression { get; init; } = "zstd";

    /// <summary>Pack: device nodes (and other entries) to add that the tree on disk cannot hold.</summary>
    public IReadOnlyList<TreeEntry> Extra { get; init; } = [];

    public IReadOnlyList<FileCopy> Copies { get; init; } = [];

    public IReadOnlyList<GeneratedFile> Files { get; init; } = [];

    public IReadOnlyList<string> Paths { get; init; } = [];

    /// <summary>Unpack/CopyTree with only root mapped: owners are not kept (they could not be).</summary>
    public bool RootOnly { get; init; }
}

/// <summary>An entry the packed tree gets although it is not on disk: a device node an unprivileged unpack could not make.</summary>
public sealed record TreeEntry(string Path, char Type, uint Mode, uint Uid, uint Gid, uint Major, uint Minor);

/// <summary>
/// One %files line, resolved: <see cref="Source"/> is a host path (glob already expanded), or with
/// <see cref="SourceRoot"/> a path inside that root file system (%files from STAGE); <see cref="Destination"/> is a
/// path inside the task's root. A trailing / on it means "into this directory".
/// </summary>
public sealed record FileCopy(string Source, string Destination, string? SourceRoot, int Line);

/// <summary>A file (or directory, or symlink) to create in the root: content, mode, and whether an existing one is kept.</summary>
public sealed record GeneratedFile(string Path, string Content, int Mode)
{
    /// <summary>'f' file, 'd' directory, 'l' symlink (Content is the target), 'r' remove whatever is there.</summary>
    public char Type { get; init; } = 'f';

    /// <summary>Append to an existing file instead of replacing it.</summary>
    public bool Append { get; init; }

    /// <summary>Leave an existing entry alone.</summary>
    public bool KeepExisting { get; init; }
}

/// <summary>What an unpack or copy could not make (device nodes), for the pack to add.</summary>
public sealed record UnpackReport
{
    public IReadOnlyList<TreeEntry> Devices { get; init; } = [];

    /// <summary>Files whose owner could not be kept (only root mapped).</summary>
    public int OwnersLost { get; init; }

    /// <summary>Paths of a copied sandbox the caller may not read (copied empty).</summary>
    public IReadOnlyList<string> Unreadable { get; init; } = [];
}

[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(BuildTask))]
[JsonSerializable(typeof(UnpackReport))]
public sealed partial class BuildTaskJsonContext : JsonSerializerContext
{
}
