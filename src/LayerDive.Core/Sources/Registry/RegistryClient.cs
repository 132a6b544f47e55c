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
internal sealed partial class RegistryClient : IDisposable
{
    private const int MaxTries = 5;
    private const int MaxRedirects = 5;
    /// <summary>A token answer is a JWT of a few KB; a larger one is refused, never held.</summary>
    internal const int MaxTokenAnswer = 64 << 10;
    /// <summary>What a blob must bring in each <see cref="Timeout"/> of waiting (about 1 KiB/s at the default).</summary>
    internal const int LeastBlobBytesPerSpan = 32 << 10;
    /// <summary>The variable that sets <see cref="Timeout"/>.</summary>
    public const string TimeoutVariable = "LAYERDIVE_REGISTRY_TIMEOUT";

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
        Timeout = options.Env(TimeoutVariable) is { } t && double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
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
        // a path from the root (/v2/_catalog) is the registry's, not the repository's
        var uri = new Uri(_base, path.StartsWith('/') ? path[1..] : $"v2/{Reference.Repository}/{path}");
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

    /// <summary>
    /// ": CODE message" from a registry's JSON error body, or its text in one line: read from the first
    /// few KiB that come within the time limit, with every known secret hidden, cut to one short line.
    /// </summary>
    internal string ErrorText(HttpResponseMessage response)
    {
        var text = Secrets.Scrub(HttpBodies.ReadErrorText(response, Timeout));
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.Get("errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
                // scrubbed again once decoded: an escape (\u003c from Go's encoder) may have hidden a secret from the first pass
                return ": " + HttpBodies.OneLine(Secrets.Scrub($"{errors[0].String("code")} {errors[0].String("message")}"));
        }
        catch (JsonException) { }
        var line = HttpBodies.OneLine(text);
        return line.Length == 0 ? "" : ": " + line;
    }

    public void Dispose() => _http.Dispose();
}
