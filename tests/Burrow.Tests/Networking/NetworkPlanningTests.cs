using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;
using Burrow.Tests.Planning;

namespace Burrow.Tests.Networking;

public class PublishSpecTests
{
    [Theory]
    [InlineData("8080:80", null, 8080, 80, "tcp")]
    [InlineData("127.0.0.1:8080:80", "127.0.0.1", 8080, 80, "tcp")]
    [InlineData("5353:53/udp", null, 5353, 53, "udp")]
    [InlineData("[::1]:8443:443/TCP", "::1", 8443, 443, "tcp")]
    public void ParsesPodmansSyntax(string given, string? address, int host, int container, string protocol) =>
        Assert.Equal(new PortMapping(address, host, container, protocol), PublishSpec.Parse(given));

    [Theory]
    [InlineData("80", "expected [IP:]HOSTPORT:CONTAINERPORT")]
    [InlineData("8080:80/sctp", "unknown protocol 'sctp'")]
    [InlineData("0:80", "host port '0'")]
    [InlineData("8080:65536", "container port '65536'")]
    [InlineData("web:80", "host port 'web'")]
    [InlineData("300.1.1.1:8080:80", "'300.1.1.1' is not an IP address")]
    [InlineData("[::1:8080:80", "brackets")]
    [InlineData("1:2:3:4", "expected [IP:]HOSTPORT:CONTAINERPORT")]
    [InlineData("+80:80", "host port '+80'")]
    public void BadValuesNameTheValueAndTheFix(string given, string what)
    {
        var e = Assert.Throws<BurrowException>(() => PublishSpec.Parse(given));
        Assert.StartsWith($"--publish {given}: ", e.Message);
        Assert.Contains(what, e.Message);
        Assert.False(string.IsNullOrWhiteSpace(e.Hint));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }
}

public class NetworkPlanTests
{
    private readonly PlanFixture _f = new();

    private LaunchPlan Plan(Func<ActionRequest, ActionRequest> with) =>
        _f.Plan(with(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"] }));

    [Fact]
    public void HostNetworkByDefaultKeepsTheHostsResolver()
    {
        LaunchPlan plan = Plan(r => r);
        Assert.Null(plan.Network);
        Assert.False(plan.Namespaces.Net);
        Assert.Contains(plan.Mounts, m => m.Target == "/etc/resolv.conf");
    }

    [Fact]
    public void PublishAloneMakesANamespaceWithPastaAndItsPorts()
    {
        LaunchPlan plan = Plan(r => r with { Publish = ["8080:80", "127.0.0.1:5353:53/udp"] });
        Assert.True(plan.Namespaces.Net);
        Assert.Equal(NetworkHelperKind.Pasta, plan.Network!.Helper);
        Assert.Equal([new PortMapping(null, 8080, 80, "tcp"), new PortMapping("127.0.0.1", 5353, 53, "udp")], plan.Network.Ports);
    }

    [Fact]
    public void Slirp4netnsHasItsOwnResolverInsteadOfTheHostsFile()
    {
        LaunchPlan plan = Plan(r => r with { Net = true, Network = "slirp4netns" });
        Assert.Equal(NetworkHelperKind.Slirp4netns, plan.Network!.Helper);
        Assert.DoesNotContain(plan.Mounts, m => m.Target == "/etc/resolv.conf");
        Assert.Equal("nameserver 10.0.2.3\n", plan.Files.Single(f => f.Target == "/etc/resolv.conf").Content);
    }

    [Fact]
    public void NoneGivesOnlyLoAndNoHelper()
    {
        LaunchPlan plan = Plan(r => r with { Net = true, Network = "none" });
        Assert.True(plan.Namespaces.Net);
        Assert.Null(plan.Network);
    }

    [Fact]
    public void PublishWithNoneIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Plan(r => r with { Network = "none", Publish = ["8080:80"] }));
        Assert.Contains("--network none", e.Message);
    }

    [Fact]
    public void AHostPortOnlyRootMayBindIsRefusedWithTheLimitAndAFreeAlternative()
    {
        var e = Assert.Throws<BurrowException>(() => Plan(r => r with { Publish = ["80:80"] }));
        Assert.Contains("below 1024", e.Message);
        Assert.Contains("--publish 8080:80", e.Hint);
        Assert.Contains("ip_unprivileged_port_start", e.Hint);
    }

    [Fact]
    public void ALoweredUnprivilegedPortStartAllowsLowPorts()
    {
        var f = new PlanFixture { UnprivilegedPortStart = 0 };
        LaunchPlan plan = f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Publish = ["80:80"] });
        Assert.Equal(80, plan.Network!.Ports.Single().HostPort);
    }

    [Fact]
    public void AHostPortGivenTwiceIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Plan(r => r with { Publish = ["8080:80", "8080:81"] }));
        Assert.Contains("8080/tcp is given 2 times", e.Message);
    }

    [Fact]
    public void TheSameHostPortForTcpAndUdpIsTwoMappings()
    {
        LaunchPlan plan = Plan(r => r with { Publish = ["8053:53/tcp", "8053:53/udp"] });
        Assert.Equal(2, plan.Network!.Ports.Count);
    }

    [Fact]
    public void DnsOnTheHostNetworkReplacesTheHostsResolverFile()
    {
        LaunchPlan plan = Plan(r => r with { Dns = ["192.0.2.53,198.51.100.53"] });
        Assert.DoesNotContain(plan.Mounts, m => m.Target == "/etc/resolv.conf");
        Assert.Equal("nameserver 192.0.2.53\nnameserver 198.51.100.53\n", plan.Files.Single(f => f.Target == "/etc/resolv.conf").Content);
    }

    [Fact]
    public void DnsWithPastaIsWherePastasResolverForwards()
    {
        LaunchPlan plan = Plan(r => r with { Net = true, Dns = ["192.0.2.53"] });
        Assert.Equal("192.0.2.53", plan.Network!.Upstream);
        Assert.Equal("nameserver 169.254.1.1\n", plan.Files.Single(f => f.Target == "/etc/resolv.conf").Content);
    }

    [Fact]
    public void DnsOnTheHostsLoopbackWithPastaIsRefusedWithTheWayOut()
    {
        var e = Assert.Throws<BurrowException>(() => Plan(r => r with { Net = true, Dns = ["127.0.0.1"] }));
        Assert.Contains("host's loopback", e.Message);
        Assert.Contains("slirp4netns", e.Hint);
    }

    [Fact]
    public void DnsOnTheHostsLoopbackIsReachedThroughSlirpsGateway()
    {
        LaunchPlan plan = Plan(r => r with { Network = "slirp4netns", Dns = ["127.0.0.1", "192.0.2.53"] });
        Assert.Equal("nameserver 10.0.2.2\nnameserver 192.0.2.53\n", plan.Files.Single(f => f.Target == "/etc/resolv.conf").Content);
        var e = Assert.Throws<BurrowException>(() => Plan(r => r with { Network = "slirp4netns", Dns = ["127.0.0.53"] }));
        Assert.Contains("only 127.0.0.1", e.Message);
    }

    [Fact]
    public void ADnsValueThatIsNoAddressIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Plan(r => r with { Dns = ["resolver.example"] }));
        Assert.Equal("--dns resolver.example: not an IP address", e.Message);
    }
}
