using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Burrow.E2E.Networking;

/// <summary>A one-page HTTP server on the host's 127.0.0.1, for traffic out of the container.</summary>
public sealed class HostHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public HostHttpServer(string body)
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                using TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                NetworkStream stream = client.GetStream();
                var buffer = new byte[4096];
                _ = await stream.ReadAsync(buffer, _stop.Token);
                byte[] answer = Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
                await stream.WriteAsync(answer, _stop.Token);
            }
        });
    }

    public int Port { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>
/// A DNS resolver on the host's 127.0.0.1:53 that answers A queries for NAME.burrow.test with <see cref="Answer"/>
/// and everything else with NXDOMAIN: the container must reach it through the helper, not the host's resolver.
/// </summary>
public sealed class TestResolver : IDisposable
{
    public const string Answer = "192.0.2.123";
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 53));
    private readonly CancellationTokenSource _stop = new();

    public TestResolver()
    {
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                UdpReceiveResult query = await _socket.ReceiveAsync(_stop.Token);
                if (Reply(query.Buffer) is { } reply)
                {
                    await _socket.SendAsync(reply, query.RemoteEndPoint, _stop.Token);
                }
            }
        });
    }

    private static byte[]? Reply(byte[] q)
    {
        if (q.Length < 17)
        {
            return null;
        }
        int end = 12;
        var labels = new List<string>();
        while (end < q.Length && q[end] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(q, end + 1, q[end]));
            end += q[end] + 1;
        }
        int questionEnd = end + 5; // the root label, QTYPE, QCLASS
        if (questionEnd > q.Length)
        {
            return null;
        }
        bool a = q[end + 1] == 0 && q[end + 2] == 1;
        bool ours = string.Join('.', labels).EndsWith(".burrow.test", StringComparison.OrdinalIgnoreCase);
        var r = new List<byte>(q[..questionEnd]);
        r[2] = 0x81; // response, recursion desired
        r[3] = (byte)(ours ? 0x80 : 0x83); // recursion available; NXDOMAIN unless ours
        r[6] = 0; r[7] = (byte)(ours && a ? 1 : 0); // answers
        r[8] = r[9] = r[10] = r[11] = 0;
        if (ours && a)
        {
            r.AddRange([0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            r.AddRange(IPAddress.Parse(Answer).GetAddressBytes());
        }
        return [.. r];
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }
}

public static class Ports
{
    /// <summary>A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick).</summary>
    public static int Free()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>GET / from 127.0.0.1:port, retried (bounded) while the container's server starts.</summary>
    public static string? Fetch(int port, TimeSpan timeout, string path = "/")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            try
            {
                return http.GetStringAsync($"http://127.0.0.1:{port}{path}").GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Thread.Sleep(100);
            }
        }
        return null;
    }

    /// <summary>Network helpers (pasta, slirp4netns) running as the given uid.</summary>
    public static IReadOnlyList<int> HelpersOf(uint uid)
    {
        var pids = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }
            try
            {
                string comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                if (comm is not ("pasta" or "passt" or "slirp4netns" or "pasta.avx2" or "passt.avx2"))
                {
                    continue;
                }
                string? uidLine = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                if (uidLine is not null && uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }

    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout)
            {
                return false;
            }
            Thread.Sleep(50);
        }
        return true;
    }
}
