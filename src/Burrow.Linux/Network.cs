using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>The one piece of network set-up a new network namespace needs: bring the loopback up.</summary>
public static class Network
{
    public static unsafe void BringUpLoopback()
    {
        int sock = Errno.Check(Sys.Socket(Sys.AF_INET, Sys.SOCK_DGRAM | Sys.SOCK_CLOEXEC, 0), "socket");
        try
        {
            // struct ifreq: 16 bytes of name, then the flags (a short) in the union.
            byte* ifr = stackalloc byte[40];
            new Span<byte>(ifr, 40).Clear();
            ifr[0] = (byte)'l';
            ifr[1] = (byte)'o';
            Errno.Check(Sys.Ioctl(sock, Sys.SIOCGIFFLAGS, ifr), "ioctl(SIOCGIFFLAGS)", "lo");
            *(short*)(ifr + 16) |= Sys.IFF_UP;
            Errno.Check(Sys.Ioctl(sock, Sys.SIOCSIFFLAGS, ifr), "ioctl(SIOCSIFFLAGS)", "lo");
        }
        finally
        {
            Sys.Close(sock);
        }
    }
}
