using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Oci.Registry;

/// <summary>
/// Talks the OCI distribution protocol to one registry for one repository: the <c>/v2/</c> ping, anonymous,
/// Basic and Bearer-token authentication from the <c>WWW-Authenticate</c> challenge, manifests (size-capped and
/// digest-checked) and blobs (digest- and size-checked while streaming), with retries on 5xx, 429 and dropped
/// connections and a time-out on stalls.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const int MaxManifestBytes = 4 << 20;

    private readonly ImageReference _ref;
    private readonly RegistryOptions _options;
    private readonly RegistryCredentials? _credentials;
    private readonly HttpClient _http;
    private readonly TokenCache _tokens = new();
    private string? _baseUrl;
    private AuthChallenge? _challenge;
    private bool _loginCheck;

    public RegistryClient(ImageReference reference, RegistryOptions options, CredentialStore? credentials = null, RegistryCredentials? explicitCredentials = null)
    {
        _ref = reference;
        _options = options;
        _credentials = explicitCredentials ?? (credentials ?? new CredentialStore()).Find(reference.Registry);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.Timeout,
            AutomaticDecompression = DecompressionMethods.None,
            // Redirects (blob storage behind a CDN) are followed; .NET drops the Authorization header on them.
            AllowAutoRedirect = true,
            MaxConnectionsPerServer = 8,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Add("Docker-Distribution-API-Version", "registry/2.0");
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("burrow", "0.1"));
    }

    private string Registry => _ref.Registry;

    /// <summary>True for registries that may be reached over plain HTTP: loopback, listed as insecure, or --insecure.</summary>
    public bool AllowsPlainHttp
    {
        get
        {
            string host = HostOf(_ref.ApiHost);
            bool loopback = host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip));
            return loopback || _options.Insecure || _options.InsecureRegistries.Contains(_ref.Registry);
        }
    }

    /// <summary>GET /v2/: picks the scheme and learns the auth challenge reused for every later request.</summary>
    public async Task PingAsync(CancellationToken ct)
    {
        if (_baseUrl is not null)
        {
            return;
        }
        string https = "https://" + _ref.ApiHost;
        try
        {
            await PingAtAsync(https, ct).ConfigureAwait(false);
            _baseUrl = https;
            return;
        }
        catch (HttpRequestException e) when (AllowsPlainHttp && IsTlsOrConnectFailure(e))
        {
            Log.Debug($"{Registry}: HTTPS failed ({e.Message}); trying plain HTTP, allowed for this registry");
        }
        string http = "http://" + _ref.ApiHost;
        await PingAtAsync(http, ct).ConfigureAwait(false);
        _baseUrl = http;
    }

    private async Task PingAtAsync(string baseUrl, CancellationToken ct)
    {
        using HttpResponseMessage r = await SendRawAsync(() => new HttpRequestMessage(HttpMethod.Get, baseUrl + "/v2/"), "ping", ct).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.Unauthorized)
        {
            _challenge = PickChallenge(r);
        }
        else if (!r.IsSuccessStatusCode)
        {
            throw new RegistryException($"{Registry} is not an OCI registry: GET /v2/ answered {(int)r.StatusCode} {r.ReasonPhrase}");
        }
    }

    /// <summary>
    /// Checks credentials as <c>podman login</c> does: <c>/v2/</c> with Basic auth, or a token from the Bearer realm
    /// (no scope). Throws the usual authentication error when they are refused.
    /// </summary>
    public async Task CheckLoginAsync(CancellationToken ct)
    {
        _loginCheck = true;
        await PingAsync(ct).ConfigureAwait(false);
        if (_challenge is null)
        {
            Log.Warning($"{Registry} does not ask for authentication; the credentials were not checked");
            return;
        }
        if (_challenge.IsBearer)
        {
            await AuthorizeAsync(_challenge with { Parameters = new Dictionary<string, string>(_challenge.Parameters) { ["scope"] = "" } }, ct).ConfigureAwait(false);
            return;
        }
        using HttpResponseMessage r = await SendRawAsync(() =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, _baseUrl + "/v2/");
            m.Headers.Authorization = AuthorizationFor(_challenge, cached: true);
            return m;
        }, "login", ct).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw AuthFailed();
        }
        EnsureSuccess(r, "login");
    }

    /// <summary>Fetches a manifest or index by tag or digest; the bytes are checked against the digest when one is known.</summary>
    public async Task<(byte[] Bytes, string MediaType, Digest Digest)> GetManifestAsync(string reference, CancellationToken ct)
    {
        await PingAsync(ct).ConfigureAwait(false);
        string url = $"{_baseUrl}/v2/{_ref.Repository}/manifests/{reference}";
        using HttpResponseMessage r = await SendAsync(() =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, url);
            m.Headers.TryAddWithoutValidation("Accept", MediaTypes.Accept);
            return m;
        }, "manifest " + reference, ct).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException($"not found: {Display(reference)}", "check the name and the tag, e.g. with \"skopeo list-tags docker://" + _ref.Registry + "/" + _ref.Repository + "\"");
        }
        EnsureSuccess(r, "manifest " + reference);
        if (r.Content.Headers.ContentLength > MaxManifestBytes)
        {
            throw new RegistryException($"{Display(reference)}: the manifest is larger than {MaxManifestBytes >> 20} MiB");
        }
        byte[] bytes = await ReadCappedAsync(r, MaxManifestBytes, ct).ConfigureAwait(false);
        Digest actual = Digest.Sha256(bytes);
        if (Digest.TryParse(reference, out Digest wanted) && !wanted.Matches(bytes))
        {
            throw new ImageFormatException($"{Display(reference)}: the manifest's digest is {actual}, not the one asked for");
        }
        if (r.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? values)
            && Digest.TryParse(values.FirstOrDefault(), out Digest announced) && announced.Algorithm == "sha256" && announced != actual)
        {
            throw new ImageFormatException($"{Display(reference)}: the registry announced digest {announced} but sent a manifest with digest {actual}");
        }
        string mediaType = r.Content.Headers.ContentType?.MediaType ?? "";
        return (bytes, mediaType, actual);
    }

    /// <summary>
    /// Streams a blob into <paramref name="destination"/>, checking size and digest as it goes. A failed attempt
    /// (5xx, dropped connection, stall) truncates the destination and starts again, up to the retry budget.
    /// </summary>
    public async Task DownloadBlobAsync(OciDescriptor descriptor, Stream destination, Action<long>? progress, CancellationToken ct)
    {
        await PingAsync(ct).ConfigureAwait(false);
        Digest digest = Digest.Parse(descriptor.Digest, "blob digest");
        string url = $"{_baseUrl}/v2/{_ref.Repository}/blobs/{digest}";
        Exception? last = null;
        TimeSpan delay = _options.Backoff;
        for (int attempt = 1; attempt <= _options.Attempts; attempt++)
        {
            destination.SetLength(0);
            destination.Position = 0;
            long received = 0;
            try
            {
                using HttpResponseMessage r = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), "blob " + digest, ct).ConfigureAwait(false);
                if (r.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new RegistryException($"{Display(_ref.ManifestReference)}: blob {digest} not found in the registry");
                }
                EnsureSuccess(r, "blob " + digest);
                using var body = new StallGuardStream(await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), _options.Timeout, $"{Registry}: blob {digest}");
                using System.Security.Cryptography.IncrementalHash hash = digest.CreateHash();
                byte[] buffer = new byte[1 << 17];
                int n;
                while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    received += n;
                    if (received > descriptor.Size)
                    {
                        throw new ImageFormatException($"{Registry}: blob {digest} is larger than the {descriptor.Size} bytes its descriptor says");
                    }
                    hash.AppendData(buffer, 0, n);
                    await destination.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    progress?.Invoke(n);
                }
                if (received != descriptor.Size)
                {
                    throw new IOException($"blob {digest} ended after {received} of {descriptor.Size} bytes");
                }
                string hex = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (hex != digest.Hex)
                {
                    throw new ImageFormatException($"{Registry}: blob {digest} failed verification: its content has digest {digest.Algorithm}:{hex}",
                        "the registry or something between it and you changed the data; nothing was stored");
                }
                return;
            }
            catch (Exception e) when (IsTransient(e) && attempt < _options.Attempts && !ct.IsCancellationRequested)
            {
                last = e;
                progress?.Invoke(-received);
                Log.Verbose($"{Registry}: blob {digest}: {e.Message}; retrying in {delay.TotalMilliseconds:0} ms");
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay *= 2;
            }
            catch (Exception e) when (IsTransient(e))
            {
                throw Transient(e, "blob " + digest);
            }
        }
        throw Transient(last!, "blob " + digest);
    }

    private RegistryException Transient(Exception e, string what) => e is TimeoutException
        ? new RegistryException($"{Registry}: {what}: timed out: the registry stopped answering ({e.Message})",
            "check the network and the registry; BURROW_REGISTRY_TIMEOUT sets the time-out in seconds", e)
        : new RegistryException($"{Registry}: {what}: failed after {_options.Attempts} attempts: {e.Message}", "check the network and the registry", e);

    private static bool IsTransient(Exception e) => e is HttpRequestException or IOException or TimeoutException or TransientStatusException;

    /// <summary>Sends with auth and the retry budget; 401 after auth becomes a clear error, 5xx and 429 are retried.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, string what, CancellationToken ct)
    {
        bool reauthorised = false;
        while (true)
        {
            HttpResponseMessage r = await SendRawAsync(() =>
            {
                HttpRequestMessage m = make();
                m.Headers.Authorization = AuthorizationFor(_challenge, cached: true);
                return m;
            }, what, ct, authorize: true).ConfigureAwait(false);
            if (r.StatusCode != HttpStatusCode.Unauthorized)
            {
                return r;
            }
            AuthChallenge? challenge = PickChallenge(r);
            r.Dispose();
            if (reauthorised || challenge is null)
            {
                throw AuthFailed();
            }
            // First 401 (or a token whose scope was too small): get credentials for exactly what the registry asked.
            _challenge = challenge;
            await AuthorizeAsync(challenge, ct).ConfigureAwait(false);
            reauthorised = true;
        }
    }

    private RegistryException AuthFailed() => _credentials is null
        ? new RegistryException($"{Registry}: authentication required to pull {_ref.Repository}",
            $"log in with \"burrow registry login {Registry}\" (podman and docker logins are read too)")
        : new RegistryException($"{Registry}: authentication failed for user \"{_credentials.User}\": wrong user name or password" + (_loginCheck ? "" : $", or no access to {_ref.Repository}"),
            $"log in again with \"burrow registry login {Registry}\"");

    private async Task AuthorizeAsync(AuthChallenge challenge, CancellationToken ct)
    {
        if (challenge.IsBasic)
        {
            if (_credentials is null)
            {
                throw AuthFailed();
            }
            return;
        }
        if (!challenge.IsBearer || challenge.Realm is not { Length: > 0 } realm)
        {
            throw new RegistryException($"{Registry}: unsupported authentication scheme \"{challenge.Scheme}\"");
        }
        string scope = challenge.Scope ?? $"repository:{_ref.Repository}:pull";
        if (_tokens.Get(realm, challenge.Service, scope) is not null)
        {
            return;
        }
        var query = new StringBuilder();
        if (challenge.Service is { } service)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }
        foreach (string s in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(s));
        }
        if (_credentials is not null)
        {
            query.Append("&account=").Append(Uri.EscapeDataString(_credentials.User));
        }
        string url = realm + (realm.Contains('?') ? "&" : "?") + query;
        if (!url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !(url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && RealmMayBePlain(url)))
        {
            throw new RegistryException($"{Registry}: refusing to send credentials to the token service {realm} over plain HTTP",
                "use an HTTPS token realm, or --insecure for a registry you trust");
        }
        using HttpResponseMessage r = await SendRawAsync(() =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, url);
            if (_credentials is not null)
            {
                m.Headers.Authorization = Basic(_credentials);
            }
            return m;
        }, "token", ct).ConfigureAwait(false);
        if (r.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw AuthFailed();
        }
        EnsureSuccess(r, "token from " + realm);
        byte[] body = await ReadCappedAsync(r, 1 << 20, ct).ConfigureAwait(false);
        TokenResponse? tr;
        try
        {
            tr = JsonSerializer.Deserialize(body, OciJsonContext.Default.TokenResponse);
        }
        catch (JsonException e)
        {
            throw new RegistryException($"{Registry}: the token service {realm} sent invalid JSON: {e.Message}");
        }
        string? token = tr?.Token is { Length: > 0 } t ? t : tr?.AccessToken;
        if (string.IsNullOrEmpty(token))
        {
            throw new RegistryException($"{Registry}: the token service {realm} sent no token");
        }
        // As containers/image does: at least 60 s, counted from issued_at when given.
        TimeSpan lifetime = TimeSpan.FromSeconds(Math.Max(60, tr!.ExpiresIn ?? 60));
        DateTimeOffset issued = tr.IssuedAt ?? DateTimeOffset.UtcNow;
        _tokens.Put(realm, challenge.Service, scope, token, issued + lifetime);
    }

    private bool RealmMayBePlain(string url)
    {
        string host = new Uri(url).Host;
        return host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip)) || _options.Insecure;
    }

    private AuthenticationHeaderValue? AuthorizationFor(AuthChallenge? challenge, bool cached)
    {
        if (challenge is null)
        {
            return null;
        }
        if (challenge.IsBasic)
        {
            return _credentials is null ? null : Basic(_credentials);
        }
        if (challenge.IsBearer && challenge.Realm is { } realm && cached)
        {
            string scope = challenge.Scope ?? $"repository:{_ref.Repository}:pull";
            // The ping's challenge has no scope; requests for this repository need the pull scope.
            string? token = _tokens.Get(realm, challenge.Service, scope) ?? _tokens.Get(realm, challenge.Service, $"repository:{_ref.Repository}:pull");
            return token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        }
        return null;
    }

    private static AuthenticationHeaderValue Basic(RegistryCredentials c) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(c.User + ":" + c.Password)));

    private static AuthChallenge? PickChallenge(HttpResponseMessage r)
    {
        var all = r.Headers.WwwAuthenticate.SelectMany(h => AuthChallenge.Parse(h.ToString())).ToList();
        return all.FirstOrDefault(c => c.IsBearer) ?? all.FirstOrDefault(c => c.IsBasic) ?? all.FirstOrDefault();
    }

    /// <summary>Sends until a non-transient answer: 5xx and 429 and connection failures are retried with back-off.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(Func<HttpRequestMessage> make, string what, CancellationToken ct, bool authorize = false)
    {
        TimeSpan delay = _options.Backoff;
        for (int attempt = 1; ; attempt++)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_options.Timeout);
            using HttpRequestMessage request = make();
            HttpResponseMessage? response = null;
            Exception? failure = null;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                failure = new TimeoutException($"no answer within {_options.Timeout.TotalSeconds:0.#} s");
            }
            catch (HttpRequestException e) when (IsTlsOrConnectFailure(e) && what == "ping" && AllowsPlainHttp && request.RequestUri!.Scheme == "https")
            {
                throw; // Let the ping fall back to plain HTTP at once.
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.NameResolutionError)
            {
                throw new RegistryException($"{Registry}: cannot resolve the host name {request.RequestUri!.Host}", "check the registry name and the network (DNS)", e);
            }
            catch (HttpRequestException e)
            {
                failure = e;
            }
            if (response is not null)
            {
                int code = (int)response.StatusCode;
                if (code < 500 && code != 429)
                {
                    return response;
                }
                failure = new TransientStatusException($"{code} {response.ReasonPhrase}");
                response.Dispose();
            }
            if (attempt >= _options.Attempts || (failure is TimeoutException && attempt >= 2))
            {
                throw Transient(failure!, what);
            }
            Log.Verbose($"{Registry}: {what}: {failure!.Message}; retrying in {delay.TotalMilliseconds:0} ms");
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private static bool IsTlsOrConnectFailure(HttpRequestException e) =>
        e.InnerException is AuthenticationException || e.HttpRequestError is HttpRequestError.SecureConnectionError or HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded;

    private void EnsureSuccess(HttpResponseMessage r, string what)
    {
        if (!r.IsSuccessStatusCode)
        {
            throw new RegistryException($"{Registry}: {what}: the registry answered {(int)r.StatusCode} {r.ReasonPhrase}");
        }
    }

    private static async Task<byte[]> ReadCappedAsync(HttpResponseMessage r, int cap, CancellationToken ct)
    {
        await using Stream s = await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var ms = new MemoryStream();
        byte[] buffer = new byte[65536];
        int n;
        while ((n = await s.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > cap)
            {
                throw new ImageFormatException($"a response from {r.RequestMessage?.RequestUri?.Host} is larger than {cap} bytes");
            }
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    private string Display(string reference) => $"docker://{_ref.Registry}/{_ref.Repository}{(reference.Contains(':') ? "@" : ":")}{reference}";

    private static string HostOf(string hostPort)
    {
        if (hostPort.StartsWith('['))
        {
            return hostPort[..(hostPort.IndexOf(']') + 1)];
        }
        int colon = hostPort.LastIndexOf(':');
        return colon >= 0 ? hostPort[..colon] : hostPort;
    }

    public void Dispose() => _http.Dispose();

    private sealed class TransientStatusException(string message) : Exception(message);
}

/// <summary>Bearer tokens per (realm, service, scope), kept until they expire.</summary>
internal sealed class TokenCache
{
    private readonly Dictionary<string, (string Token, DateTimeOffset Expires)> _tokens = [];

    public string? Get(string realm, string? service, string scope)
    {
        lock (_tokens)
        {
            return _tokens.TryGetValue(Key(realm, service, scope), out var t) && t.Expires > DateTimeOffset.UtcNow.AddSeconds(5) ? t.Token : null;
        }
    }

    public void Put(string realm, string? service, string scope, string token, DateTimeOffset expires)
    {
        lock (_tokens)
        {
            _tokens[Key(realm, service, scope)] = (token, expires);
        }
    }

    private static string Key(string realm, string? service, string scope) => realm + "\n" + service + "\n" + scope;
}
