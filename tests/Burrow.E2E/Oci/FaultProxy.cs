using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Burrow.E2E.Oci;

public enum Fault { None, TamperBlob, TruncateBlob, Fail500Twice, StallBlob }

/// <summary>
/// A loopback HTTP/1.1 proxy in front of the anonymous test registry that injects one fault into blob requests:
/// a flipped byte, a body cut short, two 500s before success, or no answer at all. One request per connection
/// (Connection: close) keeps it small; anything that is not an HTTP request (a TLS hello) is dropped.
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly HttpClient _upstream = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Fault _fault;
    private readonly CancellationTokenSource _stop = new();
    private int _blobRequests;

    public FaultProxy(Fault fault)
    {
        _fault = fault;
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public string Address => "127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int BlobRequests => _blobRequests;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                (string? requestLine, string? accept) = await ReadHeadAsync(stream);
                if (requestLine is null)
                {
                    return;
                }
                string[] parts = requestLine.Split(' ');
                if (parts.Length < 3 || parts[0] is not ("GET" or "HEAD"))
                {
                    return;
                }
                bool blob = parts[1].Contains("/blobs/", StringComparison.Ordinal);
                int blobNumber = blob ? Interlocked.Increment(ref _blobRequests) : 0;
                if (blob && _fault == Fault.StallBlob)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }
                if (blob && _fault == Fault.Fail500Twice && blobNumber <= 2)
                {
                    await WriteAsync(stream, 500, "Internal Server Error", [], [], null);
                    return;
                }
                using var request = new HttpRequestMessage(new HttpMethod(parts[0]), "http://" + OciEnvironment.Anonymous + parts[1]);
                request.Headers.TryAddWithoutValidation("Accept", accept ?? "*/*");
                using HttpResponseMessage response = await _upstream.SendAsync(request);
                byte[] body = await response.Content.ReadAsByteArrayAsync();
                var headers = new List<string>();
                foreach (var h in response.Headers.Concat(response.Content.Headers))
                {
                    if (h.Key is "Content-Length" or "Connection" or "Transfer-Encoding")
                    {
                        continue;
                    }
                    headers.Add(h.Key + ": " + string.Join(", ", h.Value));
                }
                long declared = body.Length;
                if (blob && _fault == Fault.TamperBlob && body.Length > 0)
                {
                    body[body.Length / 2] ^= 0xff;
                }
                if (blob && _fault == Fault.TruncateBlob)
                {
                    body = body[..(body.Length / 2)];
                }
                await WriteAsync(stream, (int)response.StatusCode, response.ReasonPhrase ?? "", headers, body, parts[0] == "HEAD" ? 0 : null, declared);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<(string?, string?)> ReadHeadAsync(NetworkStream stream)
    {
        var sb = new StringBuilder();
        byte[] one = new byte[1];
        while (sb.Length < 16384)
        {
            int n = await stream.ReadAsync(one, _stop.Token);
            if (n == 0)
            {
                return (null, null);
            }
            if (one[0] > 127 || one[0] == 0x16)
            {
                return (null, null); // Not HTTP (a TLS ClientHello): drop it, so the client falls back to plain HTTP.
            }
            sb.Append((char)one[0]);
            if (sb.Length >= 4 && sb.ToString(sb.Length - 4, 4) == "\r\n\r\n")
            {
                break;
            }
        }
        string[] lines = sb.ToString().Split("\r\n");
        string? accept = lines.FirstOrDefault(l => l.StartsWith("Accept:", StringComparison.OrdinalIgnoreCase));
        return (lines[0], accept?["Accept:".Length..].Trim());
    }

    private static async Task WriteAsync(NetworkStream stream, int status, string reason, List<string> headers, byte[] body, int? forceLength, long? declaredLength = null)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} {reason}\r\n");
        foreach (string h in headers)
        {
            head.Append(h).Append("\r\n");
        }
        head.Append("Content-Length: ").Append(declaredLength ?? body.Length).Append("\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (forceLength != 0)
        {
            await stream.WriteAsync(body);
        }
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _upstream.Dispose();
    }
}
