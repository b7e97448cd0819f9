using Burrow.E2E.Harness;
using Burrow.E2E.Runtime;

namespace Burrow.E2E.Networking;

/// <summary>
/// --net with pasta and slirp4netns, as the unprivileged users, traffic on 127.0.0.1 only: outbound to the host's own
/// services through the helper's gateway, DNS through the helper, published ports, and no helper left afterwards.
/// One class, so its tests (which count the users' helper processes) never overlap each other.
/// </summary>
public class NetworkTests
{
    public static IEnumerable<object[]> HelpersAndUsers() =>
        from helper in new[] { "pasta", "slirp4netns" }
        from user in new[] { E2EEnvironment.UserWithRange, E2EEnvironment.UserWithoutRange }
        select new object[] { helper, user };

    public static IEnumerable<object[]> Helpers() => [["pasta"], ["slirp4netns"]];

    private const string Gateway = "$(ip route | awk '/default/ {print $3}')";

    [Theory]
    [MemberData(nameof(HelpersAndUsers))]
    public void OutboundReachesAServiceOnTheHostsLoopbackThroughTheGateway(string helper, TestUser user)
    {
        using var server = new HostHttpServer("hello from the host");
        RunResult r = AsUser.Burrow(user, "exec", "--net", "--network", helper, E2EEnvironment.BusyboxImage,
            "sh", "-c", $"ip -o link show | grep -v ' lo:' | wc -l; wget -q -O - http://{Gateway}:{server.Port}/; echo");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["1", "hello from the host"], r.Stdout.Trim().Split('\n'));
        AssertNoHelperLeft(user);
    }

    [Fact]
    public void DnsResolvesANameServedByAResolverOnTheHostsLoopback()
    {
        using var resolver = new TestResolver();
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithRange, "exec", "--network", "slirp4netns", "--dns", "127.0.0.1", E2EEnvironment.BusyboxImage,
            "sh", "-c", "cat /etc/resolv.conf; nslookup web.burrow.test");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(TestResolver.Answer, r.Stdout);
        Assert.Contains("nameserver 10.0.2.2", r.Stdout); // slirp4netns's gateway is the host's 127.0.0.1
    }

    [Theory]
    [MemberData(nameof(Helpers))]
    public void ThePlainNetNamespaceGetsTheHelpersResolverNotTheHostsFile(string helper)
    {
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithoutRange, "exec", "--network", helper, E2EEnvironment.BusyboxImage, "cat", "/etc/resolv.conf");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(helper == "pasta" ? "nameserver 169.254.1.1" : "nameserver 10.0.2.3", r.Stdout.Trim());
    }

    [Theory]
    [MemberData(nameof(HelpersAndUsers))]
    public void APublishedPortServesTheHostAndNothingListensAfterTheContainerExits(string helper, TestUser user)
    {
        int port = Ports.Free();
        string mark = "page-" + Guid.NewGuid().ToString("N")[..8];
        // httpd on port 80: the payload is not root, and still binds it in its own network namespace.
        using BackgroundBurrow burrow = BackgroundBurrow.Start(user, "exec", "--network", helper, "-p", $"127.0.0.1:{port}:80", E2EEnvironment.BusyboxImage,
            "sh", "-c", $"d=$(mktemp -d) && echo {mark} > $d/index.html && (httpd -f -p 80 -h $d & sleep 30); rm -rf $d");
        string? page = Ports.Fetch(port, TimeSpan.FromSeconds(20), "/index.html");
        Assert.True(page == mark + "\n", $"fetched '{page}'\n--- stderr\n{burrow.Stderr}");
        burrow.Signal(15);
        burrow.WaitForExit();
        Assert.False(Ports.Listening(port), $"something still listens on {port}");
        AssertNoHelperLeft(user);
    }

    [Theory]
    [MemberData(nameof(Helpers))]
    public void SigkillOfBurrowLeavesNoHelperAndNoListeningPort(string helper)
    {
        TestUser user = E2EEnvironment.UserWithRange;
        int port = Ports.Free();
        using BackgroundBurrow burrow = BackgroundBurrow.Start(user, "exec", "--network", helper, "--publish", $"127.0.0.1:{port}:8080", E2EEnvironment.BusyboxImage,
            "httpd", "-f", "-p", "8080", "-h", "/");
        Assert.True(Ports.WaitUntil(() => Ports.Listening(port), TimeSpan.FromSeconds(20)), burrow.Stderr);
        burrow.Signal(9);
        burrow.WaitForExit();
        // The helper notices that the namespace is gone (pasta polls it; slirp4netns's exit pipe closes).
        Assert.True(Ports.WaitUntil(() => Ports.HelpersOf(user.Uid).Count == 0 && !Ports.Listening(port), TimeSpan.FromSeconds(15)),
            $"helpers left: {string.Join(',', Ports.HelpersOf(user.Uid))}, listening: {Ports.Listening(port)}");
    }

    [Fact]
    public void ExplainShowsTheHelperTheResolverAndThePorts()
    {
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithRange, "exec", "--explain", "-p", "127.0.0.1:18081:80", "-p", "5353:53/udp", E2EEnvironment.BusyboxImage, "true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("pasta", r.Stdout);
        Assert.Contains("127.0.0.1:18081 -> container port 80/tcp", r.Stdout);
        Assert.Contains("*:5353 -> container port 53/udp", r.Stdout);
        Assert.Contains("169.254.1.1", r.Stdout);
    }

    [Theory]
    [MemberData(nameof(Helpers))]
    public void APortAlreadyInUseIsAClearErrorBeforeTheContainerStarts(string helper)
    {
        using var taken = new HostHttpServer("taken");
        TestUser user = E2EEnvironment.UserWithoutRange;
        RunResult r = AsUser.Burrow(user, "exec", "--network", helper, "-p", $"127.0.0.1:{taken.Port}:80", E2EEnvironment.BusyboxImage, "echo", "ran");
        AssertOneError(r, $"{taken.Port}");
        Assert.Contains("in use", r.Stderr);
        Assert.DoesNotContain("ran", r.Stdout);
        AssertNoHelperLeft(user);
    }

    [Theory]
    [InlineData(new[] { "-p", "127.0.0.1:80:80" }, "below 1024")]
    [InlineData(new[] { "--publish", "8080" }, "--publish 8080: expected [IP:]HOSTPORT:CONTAINERPORT")]
    [InlineData(new[] { "-p", "8080:99999" }, "container port '99999'")]
    [InlineData(new[] { "--publish", "8080:80/sctp" }, "unknown protocol 'sctp'")]
    [InlineData(new[] { "--publish", "localhost:8080:80" }, "'localhost' is not an IP address")]
    [InlineData(new[] { "--network", "bridge" }, "--network bridge")]
    [InlineData(new[] { "--network", "none", "-p", "8080:80" }, "--network none")]
    [InlineData(new[] { "-p", "18082:80", "-p", "18082:81" }, "given 2 times")]
    [InlineData(new[] { "--dns", "one.one.one.one" }, "--dns one.one.one.one: not an IP address")]
    [InlineData(new[] { "--net", "--dns", "127.0.0.1" }, "pasta cannot reach a resolver on the host's loopback")]
    public void BadNetworkOptionsAreOneClearError(string[] options, string what)
    {
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithoutRange, ["exec", .. options, E2EEnvironment.BusyboxImage, "echo", "ran"]);
        AssertOneError(r, what);
        Assert.DoesNotContain("ran", r.Stdout);
    }

    private static void AssertOneError(RunResult r, string what)
    {
        Assert.NotEqual(0, r.ExitCode);
        string[] errors = r.Stderr.Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1 && errors[0].Contains(what, StringComparison.Ordinal), r.ToString());
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    private static void AssertNoHelperLeft(TestUser user) =>
        Assert.True(Ports.WaitUntil(() => Ports.HelpersOf(user.Uid).Count == 0, TimeSpan.FromSeconds(5)),
            $"network helpers of {user.Name} still running: {string.Join(',', Ports.HelpersOf(user.Uid))}");
}
