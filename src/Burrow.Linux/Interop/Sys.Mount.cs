using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

internal static partial class Sys
{
    internal const uint OPEN_TREE_CLONE = 1;
    internal const uint MOVE_MOUNT_F_EMPTY_PATH = 4, MOVE_MOUNT_T_EMPTY_PATH = 0x40;
    internal const ulong MOUNT_ATTR_RDONLY = 1, MOUNT_ATTR_NOSUID = 2, MOUNT_ATTR_NODEV = 4, MOUNT_ATTR_NOEXEC = 8;
    internal const uint FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1;
    internal const uint FSCONFIG_SET_FLAG = 0, FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6;
    internal const ulong MS_REC = 0x4000, MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18;
    internal const int MNT_DETACH = 2;

    [StructLayout(LayoutKind.Sequential)]
    internal struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    [LibraryImport(Libc, EntryPoint = "open_tree", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OpenTree(int dirfd, string path, uint flags);

    [LibraryImport(Libc, EntryPoint = "move_mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MoveMount(int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags);

    [LibraryImport(Libc, EntryPoint = "mount_setattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int MountSetattr(int dirfd, string path, uint flags, MountAttr* attr, nuint size);

    [LibraryImport(Libc, EntryPoint = "fsopen", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Fsopen(string fsName, uint flags);

    [LibraryImport(Libc, EntryPoint = "fsconfig", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Fsconfig(int fd, uint cmd, string? key, string? value, int aux);

    [LibraryImport(Libc, EntryPoint = "fsmount", SetLastError = true)]
    internal static partial int Fsmount(int fd, uint flags, uint attrFlags);

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string? source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport(Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);
}
