using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace LayerDive.Tests.Support;

/// <summary>
/// Real registries (the CNCF distribution registry, Debian's docker-registry) on 127.0.0.1 under a
/// temporary root, as ../shared/notes/image-services.md starts them: anonymous, with htpasswd Basic
/// auth, and with Bearer tokens from a token service the test hosts and signs. Images are pushed with
/// skopeo. Each registry is stopped by its PID.
/// </summary>
public sealed class RegistryServices : IDisposable
{
    public const string User = "alice";
    public const string Password = "s3cret-Pa55";

    private readonly List<Process> _processes = [];
    private readonly Dictionary<(int, string), string> _pushed = [];

    public RegistryServices()
    {
        Root = Path.Combine(Path.GetTempPath(), "layerdive-registry-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Root);
        if (Environment.UserName != "root") { SkipReason = "the registry tests run as root here (as CI does)"; return; }
        foreach (var (tool, package) in new[] { ("docker-registry", "docker-registry"), ("skopeo", "skopeo"), ("htpasswd", "apache2-utils") })
            if (!Scripts.OnPath(tool)) { SkipReason = $"{tool} is not installed (apt-get install {package})"; return; }
        var htpasswd = Path.Combine(Root, "htpasswd");
        var (code, output) = Run("htpasswd", "-Bbn", User, Password);
        if (code != 0) { SkipReason = "htpasswd failed: " + output; return; }
        File.WriteAllText(htpasswd, output);
        Tokens = new TokenService(Path.Combine(Root, "token.pem"));
        Anonymous = Start("anonymous", "");
        Basic = Start("basic", $"auth:\n  htpasswd:\n    realm: layerdive-test\n    path: {htpasswd}\n");
        Bearer = Start("bearer", $"auth:\n  token:\n    realm: {Tokens.Realm}\n    service: {TokenService.Service}\n    issuer: {TokenService.Issuer}\n    rootcertbundle: {Tokens.CertificateFile}\n");
        var server = Path.Combine(Root, "tls-server");
        CaFile = Path.Combine(Root, "tls-client", "ca.pem");
        Certificates.Write(Path.Combine(Root, "tls-client"), server);
        Tls = Start("tls", "", tls: $"  tls:\n    certificate: {server}/cert.pem\n    key: {server}/key.pem\n");
    }

    public string Root { get; }
    public string? SkipReason { get; private set; }
    public int Anonymous { get; }
    public int Basic { get; }
    public int Bearer { get; }
    /// <summary>Anonymous, over HTTPS only, with a certificate for 127.0.0.1 from the CA in <see cref="CaFile"/>.</summary>
    public int Tls { get; }
    public string CaFile { get; } = "";
    public TokenService? Tokens { get; }

    private int Start(string name, string auth, string tls = "")
    {
        if (SkipReason is not null) return 0;
        int port = FreePort();
        var dir = Directory.CreateDirectory(Path.Combine(Root, name)).FullName;
        var config = Path.Combine(dir, "config.yml");
        File.WriteAllText(config, $"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{tls}{auth}");
        var psi = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(config);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _processes.Add(p);
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var r = http.GetAsync($"{(tls.Length > 0 ? "https" : "http")}://127.0.0.1:{port}/v2/").GetAwaiter().GetResult();
                return port;
            }
            catch (HttpRequestException) { Thread.Sleep(100); }
        }
        SkipReason = $"docker-registry ({name}) did not start on port {port}";
        return port;
    }

    /// <summary>Pushes an archive once (skopeo copy) to a registry; returns REPO:TAG there.</summary>
    public string Push(int port, string source, string repository, params string[] extra)
    {
        lock (_pushed)
        {
            var key = (port, source + " " + repository + " " + string.Join(' ', extra));
            if (_pushed.TryGetValue(key, out var done)) return done;
            var args = new List<string> { "copy", "--quiet", "--dest-tls-verify=false" };
            if (port != Anonymous && port != Tls) args.AddRange(["--dest-creds", $"{User}:{Password}"]);
            args.AddRange(extra);
            args.Add(source);
            args.Add($"docker://127.0.0.1:{port}/{repository}");
            var (code, output) = Run("skopeo", [.. args]);
            Assert.True(code == 0, $"skopeo copy {source}: {output}");
            return _pushed[key] = repository;
        }
    }

    /// <summary>A manifest as the registry serves it (for expectations worked out from what was pushed).</summary>
    public JsonDocument Manifest(int port, string repository, string reference)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = http.Send(request);
        return JsonDocument.Parse(response.Content.ReadAsStream());
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.Exec(program, args);
        return (code, stdout + stderr);
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                p.Kill();
                p.WaitForExit();
            }
            p.Dispose();
        }
        Tokens?.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The token endpoint a Bearer registry sends clients to: checks Basic credentials and answers a JWT
/// (RS256, its certificate in the x5c header) granting what the scope asks, as the registry's
/// <c>auth.token</c> expects. Counts what it issued.
/// </summary>
public sealed class TokenService : IDisposable
{
    public const string Service = "layerdive-registry";
    public const string Issuer = "layerdive-test-tokens";

    private readonly HttpListener _listener = new();
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly Task _serving;
    private int _issued;

    public TokenService(string certificateFile)
    {
        var request = new CertificateRequest("CN=layerdive test token signer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CertificateFile = certificateFile;
        File.WriteAllText(certificateFile, _certificate.ExportCertificatePem());
        int port = RegistryServices.FreePort();
        Realm = $"http://127.0.0.1:{port}/token";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = Task.Run(Serve);
    }

    public string Realm { get; }
    public string CertificateFile { get; }
    public int Issued => Volatile.Read(ref _issued);

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            try { Answer(context); }
            catch (Exception) { context.Response.StatusCode = 500; }
            finally { context.Response.Close(); }
        }
    }

    /// <summary>The refresh token (an "identity token") this service accepts in place of a password.</summary>
    public const string RefreshToken = "refresh-token-of-alice";

    private void Answer(HttpListenerContext context)
    {
        string scope;
        if (context.Request.HttpMethod == "POST")
        {
            // OAuth2 refresh-token grant, as the Docker CLI uses an identity token
            var form = System.Web.HttpUtility.ParseQueryString(new StreamReader(context.Request.InputStream).ReadToEnd());
            if (form["grant_type"] != "refresh_token" || form["refresh_token"] != RefreshToken)
            {
                context.Response.StatusCode = 401;
                return;
            }
            scope = form["scope"] ?? "";
        }
        else
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RegistryServices.User}:{RegistryServices.Password}"));
            if (context.Request.Headers["Authorization"] != expected)
            {
                context.Response.StatusCode = 401;
                return;
            }
            scope = context.Request.QueryString["scope"] ?? "";
        }
        var parts = scope.Split(':');
        var access = parts.Length == 3
            ? new[] { new { type = parts[0], name = parts[1], actions = parts[2].Split(',') } }
            : [];
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = JsonSerializer.Serialize(new { alg = "RS256", typ = "JWT", x5c = new[] { Convert.ToBase64String(_certificate.RawData) } });
        var claims = JsonSerializer.Serialize(new { iss = Issuer, sub = RegistryServices.User, aud = Service, exp = now + 300, nbf = now - 10, iat = now, jti = Guid.NewGuid().ToString("N"), access });
        string signingInput = B64(Encoding.UTF8.GetBytes(header)) + "." + B64(Encoding.UTF8.GetBytes(claims));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var token = signingInput + "." + B64(signature);
        Interlocked.Increment(ref _issued);
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { token, access_token = token, expires_in = 300 }));
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
        _certificate.Dispose();
        _key.Dispose();
    }
}

/// <summary>
/// Faults in front of a real registry, one request a connection (the request asks the registry to
/// close after its answer): cut each blob's first answer a little into its body, cut every answer for
/// one blob, answer 503 to the first requests, or never answer at all.
/// </summary>
public sealed class FaultyProxy : LoopbackProxy
{
    public enum Fault { CutEachBlobOnce, CutOneBlobAlways, Unavailable, Silent, HtmlManifest, WrongDigestHeader, RedirectBlobs }

    private readonly Fault _fault;
    private readonly HashSet<string> _cut = [];
    private readonly string? _blob;
    private int _refused;

    public FaultyProxy(int upstreamPort, Fault fault, int times = 2, string? blob = null) : base(upstreamPort) =>
        (_fault, Times, _blob) = (fault, times, blob);

    public int Times { get; }
    public int Cuts { get { lock (_cut) return _cut.Count; } }
    public int Refused => Volatile.Read(ref _refused);


    protected override async Task Serve(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            if (_fault == Fault.Silent)
            {
                try { await Task.Delay(Timeout.Infinite, Stop.Token); } catch (OperationCanceledException) { }
                return;
            }
            var head = await ReadHead(stream);
            if (head is null) return;
            if (_fault == Fault.Silent)
            {
                try { await Task.Delay(Timeout.Infinite, Stop.Token); } catch (OperationCanceledException) { }
                return;
            }
            var path = head.Split(' ', 3)[1];
            if (_fault == Fault.Unavailable && Interlocked.Increment(ref _refused) <= Times)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                return;
            }
            if (_fault == Fault.HtmlManifest && path.Contains("/manifests/", StringComparison.Ordinal))
            {
                const string page = "<html><body><h1>Welcome to our portal</h1></body></html>";
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {page.Length}\r\nConnection: close\r\n\r\n{page}"));
                return;
            }
            if (_fault == Fault.RedirectBlobs && path.Contains("/blobs/", StringComparison.Ordinal))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{Upstream}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                return;
            }
            long limit = long.MaxValue; // bytes of the body passed on
            if (_fault == Fault.CutEachBlobOnce && path.Contains("/blobs/", StringComparison.Ordinal) && !head.Contains("\r\nRange:", StringComparison.OrdinalIgnoreCase))
                lock (_cut)
                    if (_cut.Add(path)) limit = 100;
            if (_fault == Fault.CutOneBlobAlways && _blob is not null && path.EndsWith("/blobs/" + _blob, StringComparison.Ordinal))
            {
                lock (_cut) _cut.Add(path);
                limit = 10;
            }
            using var up = await Forward(head);
            var upstream = up.GetStream();
            var answer = await ReadHead(upstream);
            if (answer is null) return;
            if (_fault == Fault.WrongDigestHeader && path.Contains("/manifests/", StringComparison.Ordinal))
                answer = System.Text.RegularExpressions.Regex.Replace(answer, "(?im)^Docker-Content-Digest: sha256:[0-9a-f]{64}", "Docker-Content-Digest: sha256:" + new string('0', 64));
            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
            var buffer = new byte[65536];
            long sent = 0;
            int n;
            while (sent < limit && (n = await upstream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - sent)))) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n));
                sent += n;
            }
        }
    }


}
