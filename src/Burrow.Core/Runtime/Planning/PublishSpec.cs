using System.Globalization;
using System.Net;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// One <c>--publish [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]</c> (Podman's syntax): a host port forwarded into the
/// container's network namespace by the network helper. An IPv6 address goes in brackets (<c>[::1]:8080:80</c>).
/// </summary>
public static class PublishSpec
{
    public static IReadOnlyList<PortMapping> ParseAll(IEnumerable<string> values) => values.Select(Parse).ToArray();

    public static PortMapping Parse(string given)
    {
        string rest = given;
        string protocol = "tcp";
        int slash = rest.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = rest[(slash + 1)..].ToLowerInvariant();
            rest = rest[..slash];
            if (protocol is not ("tcp" or "udp"))
            {
                throw Bad(given, $"unknown protocol '{protocol}'", "use /tcp or /udp");
            }
        }
        string? address = null;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']');
            if (close < 0 || close + 1 >= rest.Length || rest[close + 1] != ':')
            {
                throw Bad(given, "an IPv6 address must be written in brackets followed by ':'", "for example --publish [::1]:8080:80");
            }
            address = rest[1..close];
            rest = rest[(close + 2)..];
        }
        string[] parts = rest.Split(':');
        if (address is null && parts.Length == 3)
        {
            address = parts[0];
            parts = parts[1..];
        }
        if (parts.Length != 2)
        {
            throw Bad(given, "expected [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]", "for example --publish 8080:80 or --publish 127.0.0.1:8080:80/tcp");
        }
        if (address is not null && !IPAddress.TryParse(address, out _))
        {
            throw Bad(given, $"'{address}' is not an IP address", "give an address such as 127.0.0.1, or leave it out for every address");
        }
        return new PortMapping(address, Port(given, parts[0], "host"), Port(given, parts[1], "container"), protocol);
    }

    private static int Port(string given, string text, string which) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535
            ? port
            : throw Bad(given, $"the {which} port '{text}' is not a number from 1 to 65535", "for example --publish 8080:80");

    private static BurrowException Bad(string given, string what, string hint) => new($"--publish {given}: {what}", hint, ExitCodes.Usage);
}
