using System.Text.Json.Serialization;

namespace Burrow.Core.Runtime.Sharing;

/// <summary>What the first container's engine tells the shared server it starts (on a memfd): where, what, as whom.</summary>
/// <param name="Directory">The server's 0700 directory: its socket, lock, log and the image's mount point.</param>
/// <param name="Fingerprint">The image file as the engine checked it (<see cref="SharedImageKey.Fingerprint"/>); the server refuses another file.</param>
public sealed record SharedServerJob(string Directory, string Image, long Offset, long Length, string Fingerprint, IdentityPlan Identity, int LogLevel);

/// <summary>What the holder stage (<c>__hold</c>) mounts: the image's FUSE file system on <paramref name="MountPoint"/>.</summary>
public sealed record HolderJob(string Image, string MountPoint);

[JsonSerializable(typeof(SharedServerJob))]
[JsonSerializable(typeof(HolderJob))]
public sealed partial class SharingJsonContext : JsonSerializerContext;
