using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Burrow.E2E.Oci;

/// <summary>
/// A small Docker token-auth issuer for the token registry on 127.0.0.1:15002: it checks Basic credentials and
/// answers with an RS256 JWT carrying the requested pull access, signed with the key whose certificate the
/// registry trusts (x5c header). Listens on 127.0.0.1:15003 only while the tests run.
/// </summary>
public sealed class TokenIssuer : IDisposable
{
    public const string Realm = "http://127.0.0.1:15003/token";
    private readonly HttpListener _listener = new();
    private readonly RSA _key = RSA.Create();
    private readonly string _certificate;
    private readonly CancellationTokenSource _stop = new();
    private int _issued;

    public TokenIssuer()
    {
        _key.ImportFromPem(File.ReadAllText(Path.Combine(OciEnvironment.ConfigDir, "token.key")));
        using X509Certificate2 cert = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(OciEnvironment.ConfigDir, "token.crt")));
        _certificate = Convert.ToBase64String(cert.RawData);
        _listener.Prefixes.Add("http://127.0.0.1:15003/token/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int TokensIssued => _issued;

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            try
            {
                Handle(ctx);
            }
            finally
            {
                ctx.Response.Close();
            }
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        string? auth = ctx.Request.Headers["Authorization"];
        string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(OciEnvironment.BasicUser + ":" + OciEnvironment.BasicPassword));
        if (auth != expected)
        {
            ctx.Response.StatusCode = 401;
            return;
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string header = Base64Url(Json(w =>
        {
            w.WriteString("alg", "RS256");
            w.WriteString("typ", "JWT");
            w.WriteStartArray("x5c");
            w.WriteStringValue(_certificate);
            w.WriteEndArray();
        }));
        string claims = Base64Url(Json(w =>
        {
            w.WriteString("iss", "burrow-test-issuer");
            w.WriteString("sub", OciEnvironment.BasicUser);
            w.WriteString("aud", ctx.Request.QueryString["service"] ?? "");
            w.WriteNumber("exp", now + 300);
            w.WriteNumber("nbf", now - 10);
            w.WriteNumber("iat", now);
            w.WriteString("jti", Guid.NewGuid().ToString("N"));
            w.WriteStartArray("access");
            foreach (string scope in ctx.Request.QueryString.GetValues("scope") ?? [])
            {
                string[] parts = scope.Split(':');
                if (parts.Length == 3 && parts[0] == "repository")
                {
                    w.WriteStartObject();
                    w.WriteString("type", "repository");
                    w.WriteString("name", parts[1]);
                    w.WriteStartArray("actions");
                    w.WriteStringValue("pull");
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
        }));
        byte[] signature = _key.SignData(Encoding.ASCII.GetBytes(header + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        string token = header + "." + claims + "." + Base64Url(signature);
        Interlocked.Increment(ref _issued);
        byte[] body = Json(w =>
        {
            w.WriteString("token", token);
            w.WriteNumber("expires_in", 300);
        });
        ctx.Response.ContentType = "application/json";
        ctx.Response.OutputStream.Write(body);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _key.Dispose();
    }
}
