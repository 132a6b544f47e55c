using LayerDive.Core;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using LayerDive.Core.Sources.Registry;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Engines;

/// <summary>
/// A small client of the Docker Engine API (which Podman serves too) over a unix socket or tcp, with
/// TLS where asked: the version negotiated through <c>/_ping</c>, JSON for the small calls, and
/// responses streamed as they come for the large ones (an image's export).
/// </summary>
internal sealed class EngineClient : IDisposable
{
    /// <summary>The newest API this client speaks; an older engine's own version is used below it.</summary>
    private static readonly Version Newest = new(1, 47);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;

    private EngineClient(EngineHost host, HttpClient http, Version version) => (Host, _http, ApiVersion) = (host, http, version);

    public EngineHost Host { get; }
    public Version ApiVersion { get; }

    /// <summary>Connects and negotiates the version; an engine that is not there is an <see cref="ImageException"/> of kind <see cref="FaultKind.NotFound"/> or <see cref="FaultKind.Unreachable"/>.</summary>
    public static EngineClient Connect(EngineHost host, CancellationToken ct = default)
    {
        var (handler, baseAddress) = Handler(host);
        var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(PingTimeout);
            using var ping = http.Send(new HttpRequestMessage(HttpMethod.Get, "_ping"), HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var server = ping.Headers.TryGetValues("API-Version", out var v) && Version.TryParse(v.FirstOrDefault(), out var parsed) ? parsed : null;
            if (!ping.IsSuccessStatusCode && server is null)
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Engine_PingRefused, host, (int)ping.StatusCode, ping.ReasonPhrase));
            var version = server is null || server > Newest ? Newest : server;
            return new EngineClient(host, http, version);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !ct.IsCancellationRequested)
        {
            http.Dispose();
            throw new ImageException(FaultKind.Unreachable, Unreachable(host, ex));
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    private static (HttpMessageHandler, Uri) Handler(EngineHost host)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = PingTimeout, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };
        if (host.SocketPath is { } socket)
        {
            handler.ConnectCallback = UnixSockets.Connect(socket);
            return (handler, new Uri("http://engine/"));
        }
        if (host.Address.StartsWith("tcp://", StringComparison.Ordinal) || host.Address.StartsWith("http://", StringComparison.Ordinal) || host.Address.StartsWith("https://", StringComparison.Ordinal))
        {
            var uri = new Uri(host.Address.StartsWith("tcp://", StringComparison.Ordinal) ? (host.Tls is null ? "http://" : "https://") + host.Address["tcp://".Length..] : host.Address);
            if (host.Tls is { } tls)
                handler.SslOptions = TlsOptions(tls);
            return (handler, new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"));
        }
        throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Engine_AddressUnsupported, host));
    }

    private static SslClientAuthenticationOptions TlsOptions(EngineTls tls)
    {
        var options = new SslClientAuthenticationOptions();
        if (tls.CertFile is not null && tls.KeyFile is not null)
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile)];
        if (!tls.Verify)
            options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        else if (tls.CaFile is not null)
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(tls.CaFile);
            options.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
            {
                if (cert is null) return false;
                if (errors == SslPolicyErrors.None) return true;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && chain.Build(new X509Certificate2(cert));
            };
        }
        return options;
    }

    /// <summary>Why the engine could not be reached, in one line that says what would change it.</summary>
    private static string Unreachable(EngineHost host, Exception ex)
    {
        var socketError = (ex as HttpRequestException)?.InnerException as SocketException ?? ex.InnerException?.InnerException as SocketException;
        if (host.SocketPath is { } path && !File.Exists(path) && !Directory.Exists(path))
            return Text.Fill(Strings.Engine_NotRunningNoSocket, host.EngineName, path, host.ChosenBy);
        return socketError?.SocketErrorCode switch
        {
            SocketError.AccessDenied => Text.Fill(Strings.Engine_SocketPermissionDenied, host.SocketPath ?? host.Address, host.ChosenBy, host.EngineName),
            SocketError.ConnectionRefused => Text.Fill(Strings.Engine_NotRunningRefused, host.EngineName, host.Address, host.ChosenBy),
            _ when ex is OperationCanceledException => Text.Fill(Strings.Engine_NoAnswer, host.EngineName, host.Address, (int)PingTimeout.TotalSeconds, host.ChosenBy),
            _ => Text.Fill(Strings.Engine_Unreachable, host.EngineName, host.Address, host.ChosenBy, (socketError ?? ex.InnerException ?? ex).Message),
        };
    }

    private string Versioned(string path) => $"v{ApiVersion.Major}.{ApiVersion.Minor}/{path.TrimStart('/')}";

    /// <summary>A JSON answer is held whole: past this it is refused (a config's cap; an image's inspect is a few KB).</summary>
    private const int MaxJsonAnswer = 64 << 20;

    /// <summary>A small JSON answer, whole within the host's time limit; null for 404.</summary>
    public JsonDocument? GetJson(string path, CancellationToken ct = default)
    {
        using var response = Send(path, Host.Timeout, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw new ImageException(FaultKind.Unreachable, ErrorText(response));
        var bytes = HttpBodies.ReadDocument(response, MaxJsonAnswer, Host.Timeout, TimeoutVariable,
            tooLarge: _ => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Engine_AnswerTooLarge, Host.EngineName, path, MaxJsonAnswer)),
            failed: why => new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Engine_AnswerTooSlow, Host.EngineName, path, why)), ct);
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Engine_AnswerNotJson, Host.EngineName, path, ex.Message.Split('.')[0]));
        }
    }

    /// <summary>
    /// A large answer as it streams (the caller disposes the response, and reads it through
    /// <see cref="Body"/>); null for 404. Its headers are awaited as long as the engine takes: Podman
    /// writes a whole export to a file of its own before it answers.
    /// </summary>
    public HttpResponseMessage? GetStream(string path, CancellationToken ct = default)
    {
        var response = Send(path, null, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response) throw new ImageException(FaultKind.Unreachable, ErrorText(response));
        }
        return response;
    }

    /// <summary>The body of a <see cref="GetStream"/> answer, each read of it limited to the host's time limit.</summary>
    public Stream Body(HttpResponseMessage response) =>
        new TimedReadStream(response.Content.ReadAsStream(), Host.Timeout, variable: TimeoutVariable);

    /// <summary>The variable that sets <see cref="EngineHost.Timeout"/>.</summary>
    public const string TimeoutVariable = "LAYERDIVE_ENGINE_TIMEOUT";

    private HttpResponseMessage Send(string path, TimeSpan? limit, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (limit is { } l) cts.CancelAfter(l);
        try
        {
            return _http.Send(new HttpRequestMessage(HttpMethod.Get, Versioned(path)), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        }
        catch (HttpRequestException ex)
        {
            throw new ImageException(FaultKind.Unreachable, Unreachable(Host, ex), inner: ex); // it names the engine, its address and what chose it
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // the time limit of a JSON answer (the variable sets it), or the fixed connect limit of any
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Engine_AnswerTooSlow, Host.EngineName, path, Text.Fill(Strings.Network_NoData, TimedReadStream.Seconds(limit ?? PingTimeout)) + (limit is null ? "" : $" ({TimeoutVariable})")));
        }
    }

    /// <summary>The engine's own message ({"message": ...}) with the status, in one line: from the first few KiB that come in time, cut.</summary>
    private string ErrorText(HttpResponseMessage response)
    {
        var body = HttpBodies.ReadErrorText(response, Host.Timeout);
        string? message = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            message = doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.String("message") : null;
        }
        catch (JsonException) { }
        return Text.Fill(Strings.Engine_Answered, Host.EngineName, (int)response.StatusCode, response.ReasonPhrase, HttpBodies.OneLine(message ?? body));
    }

    public void Dispose() => _http.Dispose();
}
