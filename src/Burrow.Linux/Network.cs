using Burrow.Linux.Interop;

namespace Burrow.Linux;

/// <summary>The network set-up a new network namespace needs from inside: bring the loopback up, open the low ports.</summary>
public static class Network
{
    /// <summary>
    /// Lets the unprivileged payload bind ports below 1024 in its own network namespace (the sysctl is per namespace,
    /// so the host's ports are untouched): a web server on port 80 works as it does under rootless Podman, where the
    /// container's root has CAP_NET_BIND_SERVICE. Needs CAP_NET_ADMIN in the namespace's owner, which the stage has.
    /// </summary>
    /// <returns>null on success, else why not.</returns>
    public static string? AllowLowPorts()
    {
        try
        {
            File.WriteAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

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
