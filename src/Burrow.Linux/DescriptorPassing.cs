using System.Runtime.InteropServices;
using Burrow.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Linux;

/// <summary>Passing one descriptor over a unix socket (SCM_RIGHTS) with a short message beside it.</summary>
public static class DescriptorPassing
{
    /// <summary>Sends <paramref name="message"/> (at least one byte) with a copy of <paramref name="descriptor"/>.</summary>
    public static unsafe void Send(SafeHandle socket, ReadOnlySpan<byte> message, SafeHandle descriptor)
    {
        if (message.IsEmpty)
        {
            throw new ArgumentException("a message carrying a descriptor needs at least one byte", nameof(message));
        }
        fixed (byte* p = message)
        {
            var iov = new Sys.IoVec { Base = p, Length = (nuint)message.Length };
            var control = new Sys.CmsgWithFd
            {
                Length = (nuint)(sizeof(nuint) + 2 * sizeof(int) + sizeof(int)),
                Level = Sys.SOL_SOCKET,
                Type = Sys.SCM_RIGHTS,
                Fd = (int)descriptor.DangerousGetHandle(),
            };
            var header = new Sys.MsgHdr { Iov = &iov, IovLength = 1, Control = &control, ControlLength = (nuint)sizeof(Sys.CmsgWithFd) };
            while (true)
            {
                nint n = Sys.Sendmsg((int)socket.DangerousGetHandle(), &header, Sys.MSG_NOSIGNAL);
                if (n < 0 && Errno.Last == Errno.EINTR)
                {
                    continue;
                }
                Errno.Check((long)n, "sendmsg");
                return;
            }
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/>; returns its length (0 at end of stream) and the descriptor
    /// that came with it (close-on-exec), or null if none did.
    /// </summary>
    public static unsafe int Receive(SafeHandle socket, Span<byte> buffer, out SafeFileHandle? descriptor)
    {
        descriptor = null;
        fixed (byte* p = buffer)
        {
            var iov = new Sys.IoVec { Base = p, Length = (nuint)buffer.Length };
            Sys.CmsgWithFd control = default;
            var header = new Sys.MsgHdr { Iov = &iov, IovLength = 1, Control = &control, ControlLength = (nuint)sizeof(Sys.CmsgWithFd) };
            nint n;
            while (true)
            {
                n = Sys.Recvmsg((int)socket.DangerousGetHandle(), &header, Sys.MSG_CMSG_CLOEXEC);
                if (n < 0 && Errno.Last == Errno.EINTR)
                {
                    continue;
                }
                Errno.Check((long)n, "recvmsg");
                break;
            }
            if (header.ControlLength >= (nuint)(sizeof(nuint) + 3 * sizeof(int))
                && control.Level == Sys.SOL_SOCKET && control.Type == Sys.SCM_RIGHTS)
            {
                descriptor = FileDescriptors.Own(control.Fd);
            }
            return (int)n;
        }
    }
}
