using System.Net;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The container's network: the host's by default; with --net (or --network, or --publish) a namespace of its own,
/// given outbound access and published ports by an unprivileged helper (pasta unless --network says otherwise),
/// or only lo with --network none. And its resolvers: the host's file, the helper's resolver, or --dns.
/// </summary>
public static class NetworkPlanner
{
    /// <summary>
    /// pasta by default: in Podman's figures and in bench/network it moves data faster than slirp4netns (it splices
    /// sockets instead of running a TCP/IP stack), and it copies the host's addresses, so the container looks like the host.
    /// </summary>
    public const string DefaultHelper = "pasta";

    /// <summary>Where pasta answers DNS (--dns-forward) and slirp4netns has its resolver.</summary>
    public const string PastaDns = "169.254.1.1", SlirpDns = "10.0.2.3";

    /// <summary>slirp4netns's gateway, which is the host's 127.0.0.1 seen from the namespace.</summary>
    public const string SlirpHostLoopback = "10.0.2.2";

    public static readonly IReadOnlyList<string> Types = ["none", "pasta", "slirp4netns"];

    public static bool WantsNamespace(ActionRequest request) => request.Net || request.Network is not null || request.Publish.Count > 0;

    /// <summary>The helper plan, or null for the host's network and for --network none (and an unknown type, which a check refuses).</summary>
    public static NetworkPlan? Plan(ActionRequest request)
    {
        if (!WantsNamespace(request))
        {
            return null;
        }
        NetworkHelperKind? kind = (request.Network ?? DefaultHelper) switch
        {
            "pasta" => NetworkHelperKind.Pasta,
            "slirp4netns" => NetworkHelperKind.Slirp4netns,
            _ => null,
        };
        if (kind is not { } helper)
        {
            return null;
        }
        IReadOnlyList<IPAddress> dns = DnsServers(request);
        IReadOnlyList<PortMapping> ports = PublishSpec.ParseAll(request.Publish);
        if (helper == NetworkHelperKind.Pasta)
        {
            if (dns.FirstOrDefault(IPAddress.IsLoopback) is { } loopback)
            {
                // Debian 12's passt forwards the queries but relays no answers from the host's loopback.
                throw new BurrowException($"--dns {loopback}: pasta cannot reach a resolver on the host's loopback",
                    "use --network slirp4netns, which reaches the host's 127.0.0.1, or a resolver on another address", ExitCodes.Usage);
            }
            // The container asks pasta's address, and pasta forwards to the first --dns, or to the host's resolver.
            return new NetworkPlan(helper, ports, [PastaDns], dns.Count > 0 ? dns[0].ToString() : null);
        }
        return new NetworkPlan(helper, ports, dns.Count == 0 ? [SlirpDns] : dns.Select(SlirpReachable).ToArray());
    }

    /// <summary>The nameservers of a generated /etc/resolv.conf, or null when the host's file is bound as it is.</summary>
    public static IReadOnlyList<string>? Nameservers(ActionRequest request, NetworkPlan? network) =>
        network is not null ? network.Nameservers
        : request.Dns.Count > 0 ? DnsServers(request).Select(a => a.ToString()).ToArray()
        : null;

    /// <summary>--dns values, comma lists allowed, each an IP address.</summary>
    public static IReadOnlyList<IPAddress> DnsServers(ActionRequest request)
    {
        var servers = new List<IPAddress>();
        foreach (string given in request.Dns.SelectMany(d => d.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            servers.Add(IPAddress.TryParse(given, out IPAddress? address)
                ? address
                : throw new BurrowException($"--dns {given}: not an IP address", "give the resolver's address, such as --dns 192.0.2.53 (comma list for several)", ExitCodes.Usage));
        }
        return servers;
    }

    private static string SlirpReachable(IPAddress server)
    {
        if (server.Equals(IPAddress.Loopback))
        {
            return SlirpHostLoopback;
        }
        if (IPAddress.IsLoopback(server))
        {
            throw new BurrowException($"--dns {server}: slirp4netns reaches only 127.0.0.1 of the host's loopback",
                "run the resolver on 127.0.0.1, or use --network pasta, which forwards to any address", ExitCodes.Usage);
        }
        return server.ToString();
    }
}
