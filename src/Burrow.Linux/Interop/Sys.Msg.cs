using System.Runtime.InteropServices;

namespace Burrow.Linux.Interop;

// sendmsg/recvmsg with one SCM_RIGHTS descriptor (how a stage hands a /dev/fuse descriptor to the engine).
internal static partial class Sys
{
    internal const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000;

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

    /// <summary>struct cmsghdr followed by one int: CMSG_SPACE(sizeof(int)) is 24 on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgWithFd
    {
        public nuint Length;
        public int Level;
        public int Type;
        public int Fd;
        public int Padding;
    }

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint Sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint Recvmsg(int fd, MsgHdr* message, int flags);
}
