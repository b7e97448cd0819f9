using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

public enum FileKind { Regular, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket, Unknown }

/// <summary>Plain words for file kinds, for messages such as "/tmp/x is a FIFO (named pipe), not a SIF file".</summary>
public static class FileKindText
{
    public static string Describe(this FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Symlink => "a symbolic link",
        FileKind.CharDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.Socket => "a socket",
        _ => "a special file",
    };
}

/// <summary>What statx says about a file (the fields Burrow uses).</summary>
public sealed record FileStatus(FileKind Kind, uint Mode, uint Uid, uint Gid, long Size, uint DeviceMajor, uint DeviceMinor, ulong Inode)
{
    /// <summary>Last modification, seconds since the epoch.</summary>
    public long ModifiedSeconds { get; init; }

    /// <summary>Permission bits including setuid/setgid/sticky.</summary>
    public uint Permissions => Mode & 0xfff;

    public static unsafe FileStatus Of(SafeFileHandle fd, string what)
    {
        byte* buf = stackalloc byte[256];
        Errno.Check(Sys.Statx((int)fd.DangerousGetHandle(), "", Sys.AT_EMPTY_PATH | Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_BASIC_STATS, buf), "statx", what);
        return FromBuffer(buf);
    }

    /// <summary>The id of the mount the descriptor's file is on (statx STATX_MNT_ID; a detached mount has one too).</summary>
    public static unsafe ulong MountId(SafeFileHandle fd, string what)
    {
        byte* buf = stackalloc byte[256];
        Errno.Check(Sys.Statx((int)fd.DangerousGetHandle(), "", Sys.AT_EMPTY_PATH | Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_MNT_ID, buf), "statx", what);
        if ((*(uint*)buf & Sys.STATX_MNT_ID) == 0)
        {
            throw new LinuxException(Errno.ENOSYS, "statx (no mount id; Linux 5.8 or later is needed)", what);
        }
        return *(ulong*)(buf + 144);
    }

    /// <summary>stat of a host path (follows symlinks), or null if it does not exist.</summary>
    public static unsafe FileStatus? OfPath(string path, bool followSymlinks = true)
    {
        byte* buf = stackalloc byte[256];
        if (Sys.Statx(Sys.AT_FDCWD, path, followSymlinks ? 0 : Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_BASIC_STATS, buf) < 0)
        {
            int e = Errno.Last;
            if (e is Errno.ENOENT or Errno.ENOTDIR)
            {
                return null;
            }
            throw new LinuxException(e, "statx", path);
        }
        return FromBuffer(buf);
    }

    /// <summary>stat of a host path; a missing path is a <see cref="LinuxException"/> (ENOENT) like every other failure.</summary>
    public static unsafe FileStatus OfPathOrError(string path, bool followSymlinks = true)
    {
        byte* buf = stackalloc byte[256];
        Errno.Check(Sys.Statx(Sys.AT_FDCWD, path, followSymlinks ? 0 : Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_BASIC_STATS, buf), "statx", path);
        return FromBuffer(buf);
    }

    // struct statx (include/uapi/linux/stat.h) is the same on every architecture.
    internal static unsafe FileStatus FromBuffer(byte* b)
    {
        uint mode = *(ushort*)(b + 28);
        FileKind kind = (mode & 0xf000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xa000 => FileKind.Symlink,
            0x2000 => FileKind.CharDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xc000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
        return new FileStatus(kind, mode, *(uint*)(b + 20), *(uint*)(b + 24), *(long*)(b + 40),
            *(uint*)(b + 136), *(uint*)(b + 140), *(ulong*)(b + 32))
        {
            ModifiedSeconds = *(long*)(b + 112),
        };
    }
}
