using LayerDive.Core;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// A small client of the OCI distribution API (Docker Registry HTTP API v2) for one repository:
/// Basic and Bearer-token challenges (tokens cached per scope until they expire), redirects followed
/// by hand (the Authorization header goes to the registry's own host only), 429 and 5xx retried with
/// backoff honouring Retry-After, a bounded number of tries, and limits on every wait.
/// HTTPS first; plain HTTP only to loopback hosts or with <c>--insecure</c>, and only when the host does
/// not speak TLS at all (as Docker treats an insecure registry), never after a certificate was refused.
/// Credentials never go over plain HTTP to a host that is not loopback, <c>--insecure</c> or not.
/// </summary>
/// <remarks>
/// The limits, all from <c>LAYERDIVE_REGISTRY_TIMEOUT</c> (<see cref="Timeout"/>, 30 s by default):
/// connecting, an answer's headers and each read of a body wait at most that long; one request, with
/// its tries, waits, redirects and token, ends within twice that; a document (token, manifest, error
/// text) comes whole within that after its headers; a blob brings at least
/// <see cref="LeastBlobBytesPerSpan"/> in each span of that spent waiting. A request that got no answer
/// in time is not tried again.
/// </remarks>
internal sealed class RegistryClient : IDisposable
{
    private const int MaxTries = 5;
    private const int MaxRedirects = 5;
    /// <summary>A token answer is a JWT of a few KB; a larger one is refused, never held.</summary>
    internal const int MaxTokenAnswer = 64 << 10;
    /// <summary>The part of an error answer read; its first line is shown, cut to <see cref="ShownErrorText"/> characters.</summary>
    private const int MaxErrorText = 4 << 10;
    private const int ShownErrorText = 200;
    /// <summary>What a blob must bring in each <see cref="Timeout"/> of waiting (about 1 KiB/s at the default).</summary>
    internal const int LeastBlobBytesPerSpan = 32 << 10;

    private readonly HttpClient _http;
    private Uri _base;
    private readonly bool _plainAllowed;
    private readonly SourceOptions _options;
    private readonly Dictionary<string, (string Token, DateTime Until)> _tokens = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private string? _authorization;
    private bool _credentialLooked;
    private Credential? _credential;
    /// <summary>The credential sent, for messages (its origin only).</summary>
    private Credential? _sent;
    /// <summary>Why no credentials were sent though a realm asked (it is plain HTTP on another host).</summary>
    private string? _withheld;

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

    /// <summary>How long one request may take, with its tries, waits, redirects and token.</summary>
    public TimeSpan Deadline => Timeout * 2;

    /// <summary>The secrets this client holds, to be hidden in anything a server sent before it is shown.</summary>
    public SecretScrubber Secrets { get; } = new();

    public string Describe => Text.Fill(Strings.Registry_Named, Reference.Host);

    /// <summary>
    /// GETs a path of the repository (<c>manifests/REF</c>, <c>blobs/DIGEST</c>) with the headers a
    /// registry needs; the caller disposes the answer. 404 comes back as it is, and so does a 429 or 5xx
    /// that outlasted the tries; other failures throw.
    /// </summary>
    public HttpResponseMessage Get(string path, IReadOnlyList<string> accept, long rangeFrom = 0, CancellationToken ct = default)
    {
        var uri = new Uri(_base, $"v2/{Reference.Repository}/{path}");
        bool authorized = false;
        var clock = Stopwatch.StartNew();
        for (int attempt = 1, redirects = 0; ; )
        {
            var left = Deadline - clock.Elapsed;
            if (left <= TimeSpan.Zero)
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_Unreachable, Describe, uri.GetLeftPart(UriPartial.Authority), Text.Fill(Strings.Registry_NoAnswer, TimedReadStream.Seconds(Deadline))));
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            foreach (var a in accept) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
            if (rangeFrom > 0) request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            bool ownHost = uri.Authority == _base.Authority;
            if (ownHost && Volatile.Read(ref _authorization) is { } auth)
                request.Headers.TryAddWithoutValidation("Authorization", auth);
            var limit = left < Timeout ? left : Timeout;
            HttpResponseMessage response;
            try
            {
                response = SendWithin(request, limit, ct);
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
                // a refused or broken connection is tried again; one that got no answer in time is not (it would only wait as long again)
                if (ex is HttpRequestException { HttpRequestError: not HttpRequestError.NameResolutionError } && attempt < MaxTries && Wait(attempt, null, null, clock, ct))
                {
                    attempt++;
                    continue;
                }
                string why = ex is OperationCanceledException ? Text.Fill(Strings.Registry_NoAnswer, TimedReadStream.Seconds(limit))
                    : ex is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } ? Text.Fill(Strings.Registry_NameDoesNotResolve, uri.Host)
                    : (ex.InnerException ?? ex).Message;
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_Unreachable, Describe, uri.GetLeftPart(UriPartial.Authority), why));
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
                if (++redirects > MaxRedirects) throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_TooManyRedirects, Describe, path, MaxRedirects));
                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                CheckRedirect(uri, path);
                continue;
            }
            if ((status == 429 || status >= 500) && attempt < MaxTries && Wait(attempt, response.Headers.RetryAfter, status, clock, ct))
            {
                response.Dispose();
                attempt++;
                continue;
            }
            if (status == 401 || status == 403)
            {
                var text = ErrorText(response);
                response.Dispose();
                throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_Refused, Describe, Reference.Repository, status, text, Who(_sent)));
            }
            return response;
        }
    }

    /// <summary>What was sent, for a refusal: where the credential came from, why none was sent, or that none is stored.</summary>
    private string Who(Credential? sent) =>
        sent?.ToString() ?? _withheld ?? Strings.Registry_NoCredentialsStored;

    /// <summary>A redirect is followed only to HTTP(S), never from HTTPS to HTTP, and to plain HTTP elsewhere than loopback only with --insecure.</summary>
    private void CheckRedirect(Uri uri, string path)
    {
        if (uri.Scheme is not ("http" or "https"))
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RedirectSchemeRefused, Describe, path, uri.Scheme));
        if (uri.Scheme == "http" && _base.Scheme == "https")
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RedirectToHttp, Describe, path, uri.Host));
        if (uri.Scheme == "http" && !IsLoopbackHost(uri.Host) && !_options.Insecure)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RedirectPlainHttpRefused, Describe, path, uri.Host));
    }

    /// <summary>Sends, giving up after <paramref name="limit"/> (an OperationCanceledException then, while <paramref name="ct"/> is not cancelled).</summary>
    private HttpResponseMessage SendWithin(HttpRequestMessage request, TimeSpan limit, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        return _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
    }

    /// <summary>A TLS failure because the certificate was not trusted (not a host that speaks no TLS).</summary>
    private static bool CertificateRefused(HttpRequestException ex) =>
        ex.InnerException is System.Security.Authentication.AuthenticationException auth
        && auth.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase);

    private static bool IsNetworkFault(Exception ex, CancellationToken ct) =>
        (ex is HttpRequestException || ex is OperationCanceledException) && !ct.IsCancellationRequested;

    /// <summary>
    /// Waits before another try, when the wait ends within the request's deadline (else false: no wait,
    /// no try): what Retry-After asks, else 0.5, 1, 2 s..., never more than <see cref="Timeout"/>. A wait of
    /// a second or more, or one cut short of what the registry asked, is said on stderr.
    /// </summary>
    private bool Wait(int attempt, RetryConditionHeaderValue? retryAfter, int? status, Stopwatch clock, CancellationToken ct)
    {
        var asked = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : (TimeSpan?)null);
        var wait = asked ?? TimeSpan.FromMilliseconds(250 << Math.Min(attempt, 6));
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        if (wait > Timeout) wait = Timeout;
        if (clock.Elapsed + wait >= Deadline) return false;
        if (status is { } s && _options.Notice is { } notice)
        {
            if (asked is { } a && a > wait)
                notice(Text.Fill(Strings.Registry_RetryAfterCapped, Describe, s, TimedReadStream.Seconds(a), TimedReadStream.Seconds(wait)));
            else if (wait >= TimeSpan.FromSeconds(1))
                notice(Text.Fill(Strings.Registry_RetryWait, Describe, s, TimedReadStream.Seconds(wait)));
        }
        ct.WaitHandle.WaitOne(wait);
        ct.ThrowIfCancellationRequested();
        return true;
    }

    /// <summary>The stored credential for the registry's host, looked up once; its secrets join those hidden.</summary>
    private Credential? Credential()
    {
        lock (_gate)
        {
            if (!_credentialLooked)
            {
                _credential = CredentialStore.Find(Reference.Host, _options, Timeout);
                _credentialLooked = true;
                if (_credential is { } c)
                {
                    Secrets.Add(c.Secret);
                    if (c.User is not null && c.Secret is not null) Secrets.Add($"{c.User}:{c.Secret}");
                    Secrets.Add(c.IdentityToken);
                }
            }
            return _credential;
        }
    }

    /// <summary>
    /// Answers a challenge: Basic with the stored credential, or a Bearer token for the scope asked. Where
    /// the credential could go is settled before it is looked up (a hostile challenge must not even start
    /// a credential helper).
    /// </summary>
    private void Authorize(AuthenticationHeaderValue? challenge, CancellationToken ct)
    {
        if (challenge is null) throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_ChallengeMissing, Describe));
        if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (_base.Scheme == "http" && !Reference.IsLoopback)
                throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_CredentialsOverHttp, Describe));
            if (Credential() is not { BasicHeader: { } basic } stored)
                throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_NoCredentials, Describe, Reference.Host));
            _sent = stored;
            Volatile.Write(ref _authorization, "Basic " + basic);
            return;
        }
        if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_AuthSchemeUnsupported, Describe, Secrets.Scrub(challenge.Scheme)));
        var parameters = ChallengeParameters(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenRealmInvalid, Describe));
        CheckRealm(realmUri);
        var scope = parameters.GetValueOrDefault("scope") ?? $"repository:{Reference.Repository}:pull";
        lock (_gate)
        {
            if (_tokens.TryGetValue(scope, out var cached) && cached.Until > DateTime.UtcNow && $"Bearer {cached.Token}" != _authorization)
            {
                _authorization = "Bearer " + cached.Token;
                return;
            }
        }
        // plain HTTP to another host is asked with no credentials at all: --insecure relaxes the registry's own transport, never where credentials go
        Credential? credential = null;
        if (realmUri.Scheme == "https" || IsLoopbackHost(realmUri.Host))
            credential = Credential();
        else
            _withheld = Text.Fill(Strings.Registry_CredentialsWithheld, HostOf(realmUri));
        var token = FetchToken(realmUri, parameters.GetValueOrDefault("service"), scope, credential, ct);
        lock (_gate)
        {
            _tokens[scope] = token;
            _authorization = "Bearer " + token.Token;
        }
    }

    /// <summary>
    /// A realm is HTTPS or HTTP; on this machine's loopback only for a registry that is on it too; never
    /// on a link-local or unspecified address that is not the registry's own (as dotnet/sdk's
    /// ValidateRealmUri has it).
    /// </summary>
    private void CheckRealm(Uri realm)
    {
        if (realm.Scheme is not ("https" or "http"))
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RealmSchemeRefused, Describe, realm.Scheme));
        var host = HostOf(realm);
        bool refused = IsLoopbackHost(host) ? !Reference.IsLoopback
            : IPAddress.TryParse(host, out var ip) && IsLinkLocalOrUnspecified(ip) && !string.Equals(host, Reference.HostWithoutPort.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
        if (refused)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Registry_RealmHostRefused, Describe, host));
    }

    /// <summary>A URI's host as DNS and the runtime see it: no brackets, no trailing dot.</summary>
    private static string HostOf(Uri uri)
    {
        var host = uri.IdnHost.Trim('[', ']');
        return host.Length > 1 && host[^1] == '.' ? host[..^1] : host;
    }

    private static bool IsLinkLocalOrUnspecified(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return ip.IsIPv6LinkLocal || ip.Equals(IPAddress.IPv6Any);
        var b = ip.GetAddressBytes();
        return b[0] == 0 || (b[0] == 169 && b[1] == 254);
    }

    /// <summary>Gets a token from the realm: GET with Basic credentials (or none), or POST with an identity token.</summary>
    private (string Token, DateTime Until) FetchToken(Uri realm, string? service, string scope, Credential? credential, CancellationToken ct)
    {
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
        if (credential is not null) _sent = credential;
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = SendWithin(request, Timeout, ct);
            }
            catch (Exception ex) when (IsNetworkFault(ex, ct))
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_TokenServiceUnreachable, Describe, realm.GetLeftPart(UriPartial.Authority), (ex is OperationCanceledException ? "no answer in time" : (ex.InnerException ?? ex).Message)));
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                    throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Registry_TokenRefused, Describe, Secrets.Scrub(scope), (int)response.StatusCode, ErrorText(response), Who(credential)));
                var tooLarge = () => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenTooLarge, Describe, MaxTokenAnswer));
                if (response.Content.Headers.ContentLength > MaxTokenAnswer) throw tooLarge();
                byte[] bytes;
                try
                {
                    using var body = new TimedReadStream(response.Content.ReadAsStream(ct), Timeout, whole: Timeout, variable: "LAYERDIVE_REGISTRY_TIMEOUT");
                    bytes = CappedRead.All(body, MaxTokenAnswer, tooLarge);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_TokenServiceUnreachable, Describe, realm.GetLeftPart(UriPartial.Authority), ex.Message));
                }
                try
                {
                    using var doc = JsonDocument.Parse(bytes);
                    var token = (doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.String("token") ?? doc.RootElement.String("access_token") : null)
                        ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenMissing, Describe));
                    Secrets.Add(token);
                    // RFC 6750 / the distribution spec: 60 s when the answer does not say
                    var seconds = doc.RootElement.Long("expires_in") is long e && e > 0 ? e : 60;
                    return (token, DateTime.UtcNow.AddSeconds(Math.Max(1, Math.Min(seconds, 86_400) - 5)));
                }
                catch (JsonException)
                {
                    throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_TokenAnswerNotJson, Describe));
                }
            }
        }
    }

    /// <summary>localhost, a name under .localhost (RFC 6761), or a loopback address.</summary>
    internal static bool IsLoopbackHost(string host)
    {
        host = host.Trim('[', ']');
        if (host.Length > 1 && host[^1] == '.') host = host[..^1];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip));
    }

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

    /// <summary>
    /// ": CODE message" from a registry's JSON error body, or the first line of a text one: read from the
    /// first few KiB that come within the time limit, with every known secret hidden, cut to one short line.
    /// </summary>
    internal string ErrorText(HttpResponseMessage response)
    {
        byte[] start;
        try
        {
            using var body = new TimedReadStream(response.Content.ReadAsStream(), Timeout, whole: Timeout);
            start = CappedRead.Start(body, MaxErrorText);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
        var text = Secrets.Scrub(System.Text.Encoding.UTF8.GetString(start));
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.Get("errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
                return ": " + CappedRead.FirstLine($"{errors[0].String("code")} {errors[0].String("message")}", ShownErrorText);
        }
        catch (JsonException) { }
        var line = CappedRead.FirstLine(text, ShownErrorText);
        return line.Length == 0 ? "" : ": " + line;
    }

    public void Dispose() => _http.Dispose();
}
