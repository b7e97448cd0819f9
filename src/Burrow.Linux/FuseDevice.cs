using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>
/// /dev/fuse. The kernel ties a FUSE connection to the user namespace of the process that opened the device,
/// and refuses to mount it from another one: the stage opens it inside the container's namespaces.
/// </summary>
public static class FuseDevice
{
    public const string Path = "/dev/fuse";

    public static SafeFileHandle Open() =>
        FileDescriptors.Own(Errno.Check(Sys.OpenAt(Sys.AT_FDCWD, Path, Sys.O_RDWR | Sys.O_CLOEXEC, 0), "open", Path));

    /// <summary>Why this process cannot use /dev/fuse (missing, or not readable and writable), or null if it can.</summary>
    public static string? Unusable()
    {
        int fd = Sys.OpenAt(Sys.AT_FDCWD, Path, Sys.O_RDWR | Sys.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(Errno.Last);
        }
        Sys.Close(fd);
        return null;
    }
}
