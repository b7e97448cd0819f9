using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

internal static partial class Sys
{
    internal const int AF_UNIX = 1, AF_INET = 2, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const ulong SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    internal const short IFF_UP = 1;

    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int Socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint Send(int fd, byte* buf, nint len, int flags);

    [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint Recv(int fd, byte* buf, nint len, int flags);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(int fd, ulong request, void* arg);
}
