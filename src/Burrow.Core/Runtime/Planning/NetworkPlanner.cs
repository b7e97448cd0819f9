namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The container's network: the host's by default; with --net (or --network, or --publish) a namespace of its own,
/// given outbound access and published ports by an unprivileged helper (pasta unless --network says otherwise),
/// or only lo with --network none.
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
        return new NetworkPlan(helper, PublishSpec.ParseAll(request.Publish), helper == NetworkHelperKind.Pasta ? PastaDns : SlirpDns);
    }
}
