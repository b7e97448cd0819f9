using System.Runtime.InteropServices;
using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>Modes that must be exact whatever the umask (directories Burrow creates for itself).</summary>
public static partial class FileSystem
{
    [LibraryImport(Sys.Libc, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chmod(string path, int mode);

    [LibraryImport(Sys.Libc, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mkdir(string path, int mode);

    /// <summary>Creates a directory with exactly <paramref name="mode"/> (0700 is created as such, then chmod'ed
    /// to undo any umask); false when it already existed.</summary>
    public static bool MakeDirectory(string path, int mode)
    {
        if (Mkdir(path, mode & 0x1c0) < 0)
        {
            if (Errno.Last == Errno.EEXIST)
            {
                return false;
            }
            throw new LinuxException(Errno.Last, "mkdir", path);
        }
        SetMode(path, mode);
        return true;
    }

    public static void SetMode(string path, int mode) => Errno.Check(Chmod(path, mode), "chmod", path);

    /// <summary>Sets the process's umask; returns the previous one.</summary>
    public static int SetUmask(int mask) => Sys.Umask(mask);

    public static void ChangeDirectory(string path) => Errno.Check(Sys.Chdir(path), "chdir", path);
}
