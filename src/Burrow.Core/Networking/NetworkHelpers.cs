using System.Net;
using System.Net.Sockets;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Core.Networking;

/// <summary>A network helper attached to a container's network namespace; disposing it stops it.</summary>
public interface INetworkHelper : IDisposable
{
}

/// <summary>
/// Starts the plan's helper on the host, attached to the network namespace of <c>PID</c> (the starter, which waits
/// meanwhile: docs/ARCHITECTURE.md, "Networking"), and returns once the namespace is configured.
/// </summary>
public static class NetworkHelpers
{
    public static INetworkHelper Start(NetworkPlan plan, int pid, string sessionDirectory)
    {
        foreach (PortMapping p in plan.Ports)
        {
            EnsureFree(p);
        }
        return plan.Helper switch
        {
            NetworkHelperKind.Pasta => PastaHelper.Start(plan, pid, sessionDirectory),
            NetworkHelperKind.Slirp4netns => Slirp4netnsHelper.Start(plan, pid, sessionDirectory),
            _ => throw new ArgumentOutOfRangeException(nameof(plan), plan.Helper, "unknown network helper"),
        };
    }

    /// <summary>The helper program, found as every helper is, or an error naming its Debian package.</summary>
    internal static string Find(string program, string package) => ExecutableSearch.OnPath(program)
        ?? throw new BurrowException($"the network helper {program} is not installed",
            $"install it (apt install {package}), or use --network none for a namespace with only lo");

    /// <summary>A port another program holds would make the helper fail with a message of its own; say it plainly first.</summary>
    private static void EnsureFree(PortMapping p)
    {
        IPAddress address = p.HostAddress is null ? IPAddress.Any : IPAddress.Parse(p.HostAddress);
        try
        {
            using var socket = new Socket(address.AddressFamily, p.Protocol == "udp" ? SocketType.Dgram : SocketType.Stream,
                p.Protocol == "udp" ? ProtocolType.Udp : ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, p.HostPort));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new BurrowException($"--publish {p.HostPort}:{p.ContainerPort}: host port {p.HostPort}/{p.Protocol} is already in use",
                $"choose another host port, or find the program holding it (ss -lntup 'sport = :{p.HostPort}')");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable)
        {
            throw new BurrowException($"--publish: {p.HostAddress} is not an address of this machine", "give one of this machine's addresses, or leave it out");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new BurrowException($"--publish {p.HostPort}:{p.ContainerPort}: host port {p.HostPort} is reserved for root here",
                "use a port of 1024 or more, or ask the administrator to lower sysctl net.ipv4.ip_unprivileged_port_start");
        }
    }

    /// <summary>The first lines of a helper's log, for an error message.</summary>
    internal static string LogExcerpt(string path)
    {
        try
        {
            string[] lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0 && !l.Contains("syslog", StringComparison.Ordinal)).Take(3).ToArray();
            return lines.Length == 0 ? "no message" : TerminalText.Escape(string.Join("; ", lines));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "no message";
        }
    }
}
