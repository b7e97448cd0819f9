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

// sendmsg/recvmsg, for passing a descriptor with a packet (SCM_RIGHTS).
internal static partial class Sys
{
    internal const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CTRUNC = 8, MSG_CMSG_CLOEXEC = 0x40000000;

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct cmsghdr; the data follows at CmsgDataOffset (16 on 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    internal static unsafe int CmsgDataOffset => sizeof(CmsgHdr);

    /// <summary>CMSG_SPACE(sizeof(int)): header plus one descriptor, padded to the word size.</summary>
    internal static unsafe int CmsgSpaceOneFd => (sizeof(CmsgHdr) + sizeof(int) + 7) & ~7;

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint Sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint Recvmsg(int fd, MsgHdr* message, int flags);
}
