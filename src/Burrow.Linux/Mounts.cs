using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>Per-mount attributes (mount_setattr's MOUNT_ATTR_*).</summary>
[Flags]
public enum MountAttributes : ulong
{
    None = 0,
    ReadOnly = 1,
    NoSuid = 2,
    NoDev = 4,
    NoExec = 8,
}

/// <summary>
/// The new mount API (open_tree, fsopen/fsconfig/fsmount, mount_setattr, move_mount): mounts are
/// built detached, given their flags, and attached to a target held by descriptor, so no mount
/// ever follows a path string that something else could change in between.
/// </summary>
public static class Mounts
{
    /// <summary>A detached copy of the mount tree at a host path (a bind), recursive or not.</summary>
    public static SafeFileHandle CloneTree(string hostPath, bool recursive)
    {
        uint flags = Sys.OPEN_TREE_CLONE | (uint)Sys.O_CLOEXEC | (recursive ? (uint)Sys.AT_RECURSIVE : 0);
        return FileDescriptors.Own(Errno.Check(Sys.OpenTree(Sys.AT_FDCWD, hostPath, flags), "open_tree", hostPath));
    }

    /// <summary>A detached copy of the mount tree at a descriptor (a bind of something already open).</summary>
    public static SafeFileHandle CloneTree(SafeFileHandle at, string what, bool recursive)
    {
        uint flags = Sys.OPEN_TREE_CLONE | (uint)Sys.O_CLOEXEC | (uint)Sys.AT_EMPTY_PATH | (recursive ? (uint)Sys.AT_RECURSIVE : 0);
        return FileDescriptors.Own(Errno.Check(Sys.OpenTree((int)at.DangerousGetHandle(), "", flags), "open_tree", what));
    }

    /// <summary>A new, detached file system instance (tmpfs, proc, overlay…) with the given options.</summary>
    public static SafeFileHandle CreateFileSystem(string type, IEnumerable<KeyValuePair<string, string?>> options, MountAttributes attributes, string what)
    {
        using SafeFileHandle fs = FileDescriptors.Own(Errno.Check(Sys.Fsopen(type, Sys.FSOPEN_CLOEXEC), "fsopen", type));
        int fd = (int)fs.DangerousGetHandle();
        foreach ((string key, string? value) in options)
        {
            int r = value is null
                ? Sys.Fsconfig(fd, Sys.FSCONFIG_SET_FLAG, key, null, 0)
                : Sys.Fsconfig(fd, Sys.FSCONFIG_SET_STRING, key, value, 0);
            Errno.Check(r, $"fsconfig {type} {key}{(value is null ? "" : "=" + value)}", what);
        }
        Errno.Check(Sys.Fsconfig(fd, Sys.FSCONFIG_CMD_CREATE, null, null, 0), "fsconfig create " + type, what);
        return FileDescriptors.Own(Errno.Check(Sys.Fsmount(fd, Sys.FSMOUNT_CLOEXEC, (uint)attributes), "fsmount " + type, what));
    }

    /// <summary>Sets attributes on a (detached or attached) mount, on its whole subtree when recursive.</summary>
    public static unsafe void SetAttributes(SafeFileHandle mount, MountAttributes set, bool recursive, string what)
    {
        var attr = new Sys.MountAttr { AttrSet = (ulong)set };
        uint flags = (uint)Sys.AT_EMPTY_PATH | (recursive ? (uint)Sys.AT_RECURSIVE : 0);
        Errno.Check(Sys.MountSetattr((int)mount.DangerousGetHandle(), "", flags, &attr, (nuint)sizeof(Sys.MountAttr)), "mount_setattr", what);
    }

    /// <summary>Attaches a detached mount on top of the file or directory held by <paramref name="target"/>.</summary>
    public static void Attach(SafeFileHandle mount, SafeFileHandle target, string what)
    {
        Errno.Check(Sys.MoveMount((int)mount.DangerousGetHandle(), "", (int)target.DangerousGetHandle(), "",
            Sys.MOVE_MOUNT_F_EMPTY_PATH | Sys.MOVE_MOUNT_T_EMPTY_PATH), "move_mount", what);
    }

    /// <summary>Attaches a detached mount at a host path (only for places Burrow itself created).</summary>
    public static void Attach(SafeFileHandle mount, string hostPath)
    {
        Errno.Check(Sys.MoveMount((int)mount.DangerousGetHandle(), "", Sys.AT_FDCWD, hostPath, Sys.MOVE_MOUNT_F_EMPTY_PATH), "move_mount", hostPath);
    }

    /// <summary>Makes every mount of this namespace private, so nothing done here propagates to the host.</summary>
    public static void MakeAllPrivate() =>
        Errno.Check(Sys.Mount(null, "/", null, Sys.MS_REC | Sys.MS_PRIVATE, null), "mount --make-rprivate", "/");

    /// <summary>Recursive binds (open_tree AT_RECURSIVE) skip an unbindable mount and everything under it.</summary>
    public static void MakeUnbindable(string hostPath) =>
        Errno.Check(Sys.Mount(null, hostPath, null, Sys.MS_UNBINDABLE, null), "mount --make-unbindable", hostPath);

    /// <summary>
    /// Makes the directory held by <paramref name="newRoot"/> (a mount point) the root of this mount
    /// namespace and detaches the old root (pivot_root(".", ".") as runc does).
    /// </summary>
    public static void PivotRoot(SafeFileHandle newRoot, string what)
    {
        Errno.Check(Sys.Fchdir((int)newRoot.DangerousGetHandle()), "fchdir", what);
        unsafe
        {
            byte* dot = stackalloc byte[2] { (byte)'.', 0 };
            Errno.Check(Sys.Syscall(Sys.SYS_pivot_root, (long)dot, (long)dot, 0, 0, 0), "pivot_root", what);
        }
        Errno.Check(Sys.Mount(null, ".", null, Sys.MS_REC | Sys.MS_PRIVATE, null), "mount --make-rprivate", "old root");
        Errno.Check(Sys.Umount2(".", Sys.MNT_DETACH), "umount2", "old root");
        Errno.Check(Sys.Chdir("/"), "chdir", "/");
    }
}
