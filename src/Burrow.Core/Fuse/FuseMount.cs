using System.Globalization;
using Burrow.Linux;

namespace Burrow.Core.Fuse;

/// <summary>
/// What the stage needs to mount a file system that a <see cref="FuseServer"/> will serve: the type, the options for
/// fsconfig (<see cref="Mounts.CreateFileSystem"/>) or mount(2), and the mount attributes.
/// </summary>
/// <remarks>
/// The stage must open /dev/fuse (<see cref="FuseDevice.Open"/>) after it has entered the container's user namespace
/// and from a process of it: the kernel refuses fd=N unless the descriptor's opener belongs to the user namespace
/// that owns the mount being made (and the mount namespace must be owned by it too). It then mounts, passes the
/// descriptor to the engine (SCM_RIGHTS, <see cref="FileDescriptors.SendPacket"/>), closes its own copy, and the engine calls
/// <see cref="FuseServer.Start"/>. Until the server answers INIT, anything touching the mount waits, so the stage must
/// not look inside before the engine has started serving.
/// </remarks>
public static class FuseMount
{
    public const string FileSystemType = "fuse";

    /// <summary>
    /// Read-only superblock and mount, no setuid, no devices: no write ever reaches the server (the kernel refuses
    /// it first) and nothing in the image can gain privilege.
    /// </summary>
    public const MountAttributes Attributes = MountAttributes.ReadOnly | MountAttributes.NoSuid | MountAttributes.NoDev;

    /// <summary>
    /// The fsconfig options, in order. <paramref name="ownerUid"/>/<paramref name="ownerGid"/> are the mounting process's
    /// ids in its own (the container's) user namespace: the kernel requires them to be mapped there.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string?>> Options(int deviceDescriptor, uint ownerUid, uint ownerGid, string source = "burrow") =>
    [
        new("source", source),
        // mountinfo then says fuse.burrow: whoever looks at the container's mounts sees who serves this one.
        new("subtype", "burrow"),
        new("fd", deviceDescriptor.ToString(CultureInfo.InvariantCulture)),
        // The root's type; its permissions come from GETATTR like every other node's.
        new("rootmode", Convert.ToString(FuseConstants.RootMode, 8)),
        new("user_id", ownerUid.ToString(CultureInfo.InvariantCulture)),
        new("group_id", ownerGid.ToString(CultureInfo.InvariantCulture)),
        // The kernel checks mode bits and owners itself: the server never sees ACCESS and never has to decide.
        new("default_permissions", null),
        // Every process of the container's user namespace may use the mount (under --fakeroot they have several
        // uids); processes outside it never may, whatever this says (the kernel confines FUSE mounts to the
        // namespace of their mounter).
        new("allow_other", null),
        // A read-only superblock: open for writing, truncate, chmod… fail with EROFS before reaching the server.
        new("ro", null),
    ];

    /// <summary>The same options as mount(2)'s data string (type "fuse", flags MS_RDONLY|MS_NOSUID|MS_NODEV).</summary>
    public static string DataString(int deviceDescriptor, uint ownerUid, uint ownerGid) =>
        string.Join(',', Options(deviceDescriptor, ownerUid, ownerGid)
            .Where(o => o.Key is not ("source" or "subtype" or "ro"))
            .Select(o => o.Value is null ? o.Key : o.Key + "=" + o.Value));
}
