using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>
/// The system calls of a FUSE server: opening <c>/dev/fuse</c>, cloning a session descriptor, and reading requests
/// and writing replies without exceptions on the hot path (results are lengths or negative errno values).
/// </summary>
/// <remarks>
/// The kernel accepts a <c>fd=N</c> mount option only for a descriptor opened by a process of the user namespace
/// that owns the new mount (it compares the opener's credentials with the mount's namespace), so the descriptor a
/// container's file system is served on must be opened inside the container's user namespace (by the stage), and
/// only then handed out.
/// </remarks>
public static class FuseDevice
{
    public const string Path = "/dev/fuse";

    /// <summary>Opens /dev/fuse read-write, close-on-exec: a descriptor for a new FUSE connection (mount it with fd=N).</summary>
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

    /// <summary>
    /// A second descriptor on the connection of <paramref name="session"/> (FUSE_DEV_IOC_CLONE): requests read from
    /// it must be answered on it, and each clone has its own queue of requests being processed.
    /// </summary>
    public static unsafe SafeFileHandle Clone(SafeFileHandle session)
    {
        SafeFileHandle clone = Open();
        uint fd = (uint)session.DangerousGetHandle();
        if (Sys.Ioctl((int)clone.DangerousGetHandle(), Sys.FUSE_DEV_IOC_CLONE, &fd) < 0)
        {
            int errno = Errno.Last;
            clone.Dispose();
            throw new LinuxException(errno, "ioctl FUSE_DEV_IOC_CLONE", Path);
        }
        return clone;
    }

    /// <summary>The exception for a negative result of <see cref="Read"/> or <see cref="Write"/>.</summary>
    public static LinuxException Error(int errno, string operation) => new(errno, operation, Path);

    /// <summary>Puts a descriptor in non-blocking mode, so that a worker waits in poll (which a wake-up event can end).</summary>
    public static void SetNonBlocking(SafeFileHandle fd)
    {
        int h = (int)fd.DangerousGetHandle();
        int flags = Errno.Check(Sys.Fcntl(h, Sys.F_GETFL, 0), "fcntl(F_GETFL)", Path);
        Errno.Check(Sys.Fcntl(h, Sys.F_SETFL, flags | Sys.O_NONBLOCK), "fcntl(F_SETFL)", Path);
    }

    /// <summary>Reads one request: its length, or a negative errno (EINTR is retried here).</summary>
    public static unsafe int Read(SafeFileHandle fd, Span<byte> buffer)
    {
        int h = (int)fd.DangerousGetHandle();
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Sys.Read(h, p, buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }
                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>Writes one reply with one system call: 0, or a negative errno (EINTR is retried here).</summary>
    public static unsafe int Write(SafeFileHandle fd, ReadOnlySpan<byte> reply)
    {
        int h = (int)fd.DangerousGetHandle();
        fixed (byte* p = reply)
        {
            while (true)
            {
                nint n = Sys.Write(h, p, reply.Length);
                if (n >= 0)
                {
                    return 0;
                }
                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="device"/> has a request (or is dead) or <paramref name="wake"/> is signalled.
    /// Returns false when woken: the caller should stop.
    /// </summary>
    public static unsafe bool WaitForRequest(SafeFileHandle device, WakeEvent wake)
    {
        Sys.PollFd* fds = stackalloc Sys.PollFd[2];
        fds[0] = new Sys.PollFd { Fd = (int)device.DangerousGetHandle(), Events = Sys.POLLIN };
        fds[1] = new Sys.PollFd { Fd = wake.Descriptor, Events = Sys.POLLIN };
        while (true)
        {
            int r = Sys.Poll(fds, 2, -1);
            if (r < 0 && Errno.Last == Errno.EINTR)
            {
                continue;
            }
            Errno.Check(r, "poll", Path);
            // A request, an unmount (POLLERR) or a closed descriptor all make the next read say what happened.
            return fds[1].Revents == 0;
        }
    }
}

/// <summary>An eventfd that, once signalled, stays readable: every thread polling it wakes, now and later.</summary>
public sealed class WakeEvent : IDisposable
{
    private readonly SafeFileHandle _fd =
        FileDescriptors.Own(Errno.Check(Sys.Eventfd(0, Sys.EFD_CLOEXEC | Sys.EFD_NONBLOCK), "eventfd"));

    internal int Descriptor => (int)_fd.DangerousGetHandle();

    public unsafe void Signal()
    {
        ulong one = 1;
        // EAGAIN would mean the counter is already at its maximum: signalled all the same.
        _ = Sys.Write(Descriptor, (byte*)&one, sizeof(ulong));
    }

    public void Dispose() => _fd.Dispose();
}
