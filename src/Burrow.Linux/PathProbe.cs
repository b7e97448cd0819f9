using System.Runtime.InteropServices;

namespace Burrow.Linux;

/// <summary>The type of a file as lstat reports it (the link itself, never its target).</summary>
public enum ProbedType { Missing, Regular, Directory, Symlink, Other }

/// <summary>
/// File type and access checks that .NET's file APIs cannot express: they report fifos and devices as
/// ordinary files (opening a fifo to read it would block) and have no access(2).
/// </summary>
public static partial class PathProbe
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int WOk = 2;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    /// <summary>lstat's file type of <paramref name="path"/>; Missing when it or a parent does not exist.</summary>
    public static unsafe ProbedType TypeOf(string path)
    {
        // struct statx is 256 bytes; stx_mode is the u16 at offset 28.
        byte* buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR)
            {
                return ProbedType.Missing;
            }
            throw new IOException($"statx {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        int mode = *(ushort*)(buffer + 28) & 0xF000;
        return mode switch
        {
            0x8000 => ProbedType.Regular,
            0x4000 => ProbedType.Directory,
            0xA000 => ProbedType.Symlink,
            _ => ProbedType.Other,
        };
    }

    /// <summary>access(path, W_OK) for the real uid: may the caller write here?</summary>
    public static bool CanWrite(string path) => Access(path, WOk) == 0;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
}
