using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

// What serving FUSE needs beyond read/write: the device's clone ioctl, non-blocking mode, poll and an eventfd to wake
// blocked workers. Values are checked against the C headers by FuseHeaderTests.
internal static partial class Sys
{
    // O_NONBLOCK, F_GETFL and F_SETFL are with the other file constants in Sys.Files.
    internal const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    internal const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    /// <summary>_IOR(229, 0, uint32_t): attaches a freshly opened /dev/fuse to the session of another descriptor.</summary>
    internal const ulong FUSE_DEV_IOC_CLONE = 0x8004E500;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int Eventfd(uint initialValue, int flags);
}
