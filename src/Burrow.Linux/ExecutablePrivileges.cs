using System.Runtime.InteropServices;

namespace Burrow.Linux;

/// <summary>Who owns a file, its mode bits, and the permitted set of its file capabilities (null when it has none).</summary>
public sealed record ExecutablePrivilegeInfo(bool IsRegularFile, uint OwnerUid, uint Mode, ulong? FileCapabilities)
{
    public bool SetUid => (Mode & 0x800) != 0;

    /// <summary>Anyone may execute it (the helpers run as the caller).</summary>
    public bool ExecutableByOthers => (Mode & 0x1) != 0;
}

/// <summary>
/// What makes a program privileged when executed: setuid and owner (statx), file capabilities
/// (the security.capability attribute, struct vfs_cap_data). .NET exposes neither the owner nor xattrs.
/// </summary>
public static partial class ExecutablePrivileges
{
    private const int AtFdCwd = -100;
    private const uint StatxMode = 0x2, StatxUid = 0x8;
    private const int ENOENT = 2, ENOTDIR = 20, ENODATA = 61, ENOTSUP = 95;

    /// <summary>Follows symlinks, as execve does. Null when the path does not exist.</summary>
    public static unsafe ExecutablePrivilegeInfo? Inspect(string path)
    {
        // struct statx (include/uapi/linux/stat.h), the same on every architecture: stx_uid at 20, stx_mode (u16) at 28.
        byte* buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxMode | StatxUid, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR)
            {
                return null;
            }
            throw new IOException($"statx {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        uint mode = *(ushort*)(buffer + 28);
        uint uid = *(uint*)(buffer + 20);
        return new ExecutablePrivilegeInfo((mode & 0xF000) == 0x8000, uid, mode & 0xFFF, PermittedFileCapabilities(path));
    }

    /// <summary>
    /// The permitted set of security.capability: struct vfs_cap_data is a le32 magic_etc, then
    /// {le32 permitted, le32 inheritable} for bits 0-31 and (revisions 2 and 3) again for bits 32-63.
    /// </summary>
    private static unsafe ulong? PermittedFileCapabilities(string path)
    {
        byte* value = stackalloc byte[24];
        nint n = GetXattr(path, "security.capability", value, 24);
        if (n < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENODATA or ENOTSUP)
            {
                return null;
            }
            throw new IOException($"getxattr {path} security.capability: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        if (n < 12)
        {
            return 0;
        }
        ulong permitted = *(uint*)(value + 4);
        if (n >= 20)
        {
            permitted |= (ulong)*(uint*)(value + 12) << 32;
        }
        return permitted;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint GetXattr(string path, string name, byte* value, nuint size);
}
