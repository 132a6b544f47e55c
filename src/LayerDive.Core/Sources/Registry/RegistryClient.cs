using LayerDive.Core;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// A small client of the OCI distribution API (Docker Registry HTTP API v2) for one repository:
/// Basic and Bearer-token challenges (tokens cached per scope until they expire), redirects followed
/// by hand (the Authorization header goes to the registry's own host only), 429 and 5xx retried with
/// backoff honouring Retry-After, a bounded number of tries, and a time limit on every wait.
/// HTTPS first; plain HTTP only to loopback hosts or with <c>--insecure</c>, and only when the host does
/// not speak TLS at all (as Docker treats an insecure registry), never after a certificate was refused.
/// </summary>
internal sealed class RegistryClient : IDisposable
{
    private const int MaxTries = 5;
    private const int MaxRedirects = 5;
    private readonly HttpClient _http;
    private Uri _base;
    private readonly bool _plainAllowed;
    private readonly SourceOptions _options;
    private readonly Dictionary<string, (string Token, DateTime Until)> _tokens = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private string? _authorization;
    private bool _credentialLooked;
    private Credential? _credential;

    public RegistryClient(RegistryReference reference, SourceOptions options)
    {
        Reference = reference;
        _options = options;
        Timeout = options.Env("LAYERDIVE_REGISTRY_TIMEOUT") is { } t && double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : TimeSpan.FromSeconds(30);
        _plainAllowed = reference.IsLoopback || options.Insecure;
        _base = new Uri($"https://{reference.ApiHost}/");
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = Timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    public RegistryReference Reference { get; }

    /// <summary>How long any one wait may take: connecting, the answer's headers, each read of a body.</summary>
    public TimeSpan Timeout { get; }

    public string Describe => $"the registry {Reference.Host}";

    /// <summary>
    /// GETs a path of the repository (<c>manifests/REF</c>, <c>blobs/DIGEST</c>) with the headers a
    /// registry needs; the caller disposes the answer. 404 comes back as it is; other failures throw.
    /// </summary>
    public HttpResponseMessage Get(string path, IReadOnlyList<string> accept, long rangeFrom = 0, CancellationToken ct = default)
    {
        var uri = new Uri(_base, $"v2/{Reference.Repository}/{path}");
        bool authorized = false;
        for (int attempt = 1, redirects = 0; ; )
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            foreach (var a in accept) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
            if (rangeFrom > 0) request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            bool ownHost = uri.Authority == _base.Authority;
            if (ownHost && Volatile.Read(ref _authorization) is { } auth)
                request.Headers.TryAddWithoutValidation("Authorization", auth);
            HttpResponseMessage response;
            try
            {
                response = SendWithin(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.SecureConnectionError && _plainAllowed
                && _base.Scheme == "https" && uri.Authority == _base.Authority && !CertificateRefused(ex))
            {
                // the host does not speak TLS: plain HTTP, as it is loopback or --insecure says so
                var plain = new Uri($"http://{Reference.ApiHost}/");
                Volatile.Write(ref _base, plain);
                uri = new Uri(plain, uri.PathAndQuery);
                continue;
            }
            catch (Exception ex) when (IsNetworkFault(ex, ct))
            {
                if (attempt++ < MaxTries && ex is not HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError })
                {
                    Backoff(attempt, null, ct);
                    continue;
                }
                string why = ex is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s"
                    : ex is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } ? $"the name {uri.Host} does not resolve"
                    : (ex.InnerException ?? ex).Message;
                throw new SourceMissException($"{Describe} cannot be reached at {uri.GetLeftPart(UriPartial.Authority)}: {why}");
            }
            var status = (int)response.StatusCode;
            if (status == 401 && ownHost && !authorized)
            {
                var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
                response.Dispose();
                Authorize(challenge, ct);
                authorized = true;
                continue;
            }
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (++redirects > MaxRedirects) throw new ImageException(Text.Format("Error.RedirectedMoreThanTimes", Describe, path, MaxRedirects));
                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (uri.Scheme == "http" && _base.Scheme == "https")
                    throw new ImageException(Text.Format("Error.RedirectedFromHTTPSToPlainHTTP", Describe, path, uri.Host));
                continue;
            }
            if ((status == 429 || status >= 500) && attempt++ < MaxTries)
            {
                var retryAfter = response.Headers.RetryAfter;
                response.Dispose();
                Backoff(attempt, retryAfter, ct);
                continue;
            }
            if (status == 401 || status == 403)
            {
                var text = ErrorText(response, ct);
                response.Dispose();
                var who = Credential() is { } c ? c.ToString() : "no credentials (docker login, or REGISTRY_AUTH_FILE)";
                throw new ImageException(Text.Format("Error.RefusedWith", Describe, Reference.Repository, status, text, who));
            }
            return response;
        }
    }

    /// <summary>Sends, giving up after <see cref="Timeout"/> (an OperationCanceledException then, while <paramref name="ct"/> is not cancelled).</summary>
    private HttpResponseMessage SendWithin(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Timeout);
        return _http.Send(request, completion, cts.Token);
    }

    /// <summary>A TLS failure because the certificate was not trusted (not a host that speaks no TLS).</summary>
    private static bool CertificateRefused(HttpRequestException ex) =>
        ex.InnerException is System.Security.Authentication.AuthenticationException auth
        && auth.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase);

    private static bool IsNetworkFault(Exception ex, CancellationToken ct) =>
        (ex is HttpRequestException || ex is OperationCanceledException) && !ct.IsCancellationRequested;

    /// <summary>Waits before another try: what Retry-After asks (up to a minute), else 0.5, 1, 2 s...</summary>
    private static void Backoff(int attempt, RetryConditionHeaderValue? retryAfter, CancellationToken ct)
    {
        var wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : (TimeSpan?)null) ?? TimeSpan.FromMilliseconds(250 << Math.Min(attempt, 6));
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        if (wait > TimeSpan.FromMinutes(1)) wait = TimeSpan.FromMinutes(1);
        ct.WaitHandle.WaitOne(wait);
        ct.ThrowIfCancellationRequested();
    }

    private Credential? Credential()
    {
        lock (_gate)
        {
            if (!_credentialLooked)
            {
                _credential = CredentialStore.Find(Reference.Host, _options);
                _credentialLooked = true;
            }
            return _credential;
        }
    }

    /// <summary>Answers a challenge: Basic with the stored credential, or a Bearer token for the scope asked.</summary>
    private void Authorize(AuthenticationHeaderValue? challenge, CancellationToken ct)
    {
        if (challenge is null) throw new ImageException(Text.Format("Error.AnsweredWithoutSayingHowToAuthenticate", Describe));
        var credential = Credential();
        if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (credential?.BasicHeader is not { } basic)
                throw new ImageException(Text.Format("Error.AsksForAUserNameAnd", Describe, Reference.Host));
            if (_base.Scheme == "http" && !Reference.IsLoopback)
                throw new ImageException(Text.Format("Error.AsksForCredentialsOverPlainHTTP", Describe));
            Volatile.Write(ref _authorization, "Basic " + basic);
            return;
        }
        if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
            throw new ImageException(Text.Format("Error.AsksForAuthenticationWhichIsNot", Describe, challenge.Scheme));
        var parameters = ChallengeParameters(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
            throw new ImageException(Text.Format("Error.AsksForATokenWithoutA", Describe));
        var scope = parameters.GetValueOrDefault("scope") ?? $"repository:{Reference.Repository}:pull";
        lock (_gate)
        {
            if (_tokens.TryGetValue(scope, out var cached) && cached.Until > DateTime.UtcNow && $"Bearer {cached.Token}" != _authorization)
            {
                _authorization = "Bearer " + cached.Token;
                return;
            }
        }
        var token = FetchToken(realmUri, parameters.GetValueOrDefault("service"), scope, credential, ct);
        lock (_gate)
        {
            _tokens[scope] = token;
            _authorization = "Bearer " + token.Token;
        }
    }

    /// <summary>Gets a token from the realm: GET with Basic credentials (or none), or POST with an identity token.</summary>
    private (string Token, DateTime Until) FetchToken(Uri realm, string? service, string scope, Credential? credential, CancellationToken ct)
    {
        if (realm.Scheme == "http" && credential is not null && !IsLoopbackHost(realm.Host) && !_options.Insecure)
            throw new ImageException(Text.Format("Error.SendsForItsTokenToOver", Describe, realm.Host));
        var query = new List<string>();
        if (service is not null) query.Add("service=" + Uri.EscapeDataString(service));
        query.Add("scope=" + Uri.EscapeDataString(scope));
        HttpRequestMessage request;
        if (credential?.IdentityToken is { } identity)
        {
            request = new HttpRequestMessage(HttpMethod.Post, realm)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token", ["refresh_token"] = identity, ["service"] = service ?? "", ["scope"] = scope, ["client_id"] = "layerdive",
                }),
            };
        }
        else
        {
            request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realm) { Query = string.Join('&', query) }.Uri);
            if (credential?.BasicHeader is { } basic) request.Headers.TryAddWithoutValidation("Authorization", "Basic " + basic);
        }
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = SendWithin(request, HttpCompletionOption.ResponseContentRead, ct);
            }
            catch (Exception ex) when (IsNetworkFault(ex, ct))
            {
                throw new ImageException(Text.Format("Error.STokenServiceCannotBeReached", Describe, realm.GetLeftPart(UriPartial.Authority), (ex is OperationCanceledException ? "no answer in time" : (ex.InnerException ?? ex).Message)));
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                    throw new ImageException(Text.Format("Error.STokenServiceRefusedWith", Describe, scope, (int)response.StatusCode, ErrorText(response, ct), (credential?.ToString() ?? "no credentials")));
                try
                {
                    using var doc = JsonDocument.Parse(response.Content.ReadAsStream(ct));
                    var token = doc.RootElement.String("token") ?? doc.RootElement.String("access_token")
                        ?? throw new ImageException(Text.Format("Error.STokenServiceAnsweredWithoutA", Describe));
                    // RFC 6750 / the distribution spec: 60 s when the answer does not say
                    var seconds = doc.RootElement.Long("expires_in") is long e && e > 0 ? e : 60;
                    return (token, DateTime.UtcNow.AddSeconds(Math.Max(1, seconds - 5)));
                }
                catch (JsonException)
                {
                    throw new ImageException(Text.Format("Error.STokenServiceAnsweredSomethingThat", Describe));
                }
            }
        }
    }

    private static bool IsLoopbackHost(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>key="value" pairs of a challenge (realm, service, scope), quoted values with commas kept whole.</summary>
    internal static Dictionary<string, string> ChallengeParameters(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i]))) i++;
            int eq = text.IndexOf('=', i);
            if (eq < 0) break;
            string key = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                int end = text.IndexOf('"', i + 1);
                if (end < 0) end = text.Length;
                value = text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                int end = text.IndexOf(',', i);
                if (end < 0) end = text.Length;
                value = text[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }

    /// <summary>": CODE message" from a registry's JSON error body, or the start of a text one; never more than a line.</summary>
    internal static string ErrorText(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var s = response.Content.ReadAsStream(ct);
            var buffer = new byte[4096];
            int n = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, n);
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.Get("errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
                    return $": {errors[0].String("code")} {errors[0].String("message")}";
            }
            catch (JsonException) { }
            var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
            return line.Length == 0 ? "" : ": " + (line.Length > 120 ? line[..120] + "..." : line);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
    }

    public void Dispose() => _http.Dispose();
}
