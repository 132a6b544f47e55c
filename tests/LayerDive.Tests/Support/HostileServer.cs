using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LayerDive.Tests.Support;

/// <summary>One request as a hostile server read it, with the listener it came to.</summary>
public sealed record HostileRequest(string Listener, string Method, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Path => Target.Split('?')[0];
    public string Query => Target.Contains('?') ? Target[(Target.IndexOf('?') + 1)..] : "";
    public string? Authorization => Headers.GetValueOrDefault("authorization");
    public string BodyText => Encoding.UTF8.GetString(Body);
    public override string ToString() => $"{Method} {Listener}{Target} (Authorization: {Authorization ?? "none"})";
}

/// <summary>
/// How a hostile server answers one request on its connection: well, or badly (stalling after the
/// headers, a byte a second, a body without end). Every answer closes the connection after it.
/// </summary>
public sealed class HostileAnswer(Stream stream, Socket socket, CancellationToken stop, Action<long> sent)
{
    private static readonly byte[] Filler = Encoding.ASCII.GetBytes(new string('x', 1 << 16));

    /// <summary>The status line and headers (with <c>Connection: close</c>); the body is the caller's.</summary>
    public async Task Head(int status, params (string Name, string Value)[] headers)
    {
        var sb = new StringBuilder($"HTTP/1.1 {status} {Reason(status)}\r\n");
        foreach (var (name, value) in headers) sb.Append($"{name}: {value}\r\n");
        sb.Append("Connection: close\r\n\r\n");
        await Write(Encoding.ASCII.GetBytes(sb.ToString()));
    }

    /// <summary>A whole answer with its Content-Length.</summary>
    public async Task Send(int status, byte[] body, string contentType = "application/json", params (string Name, string Value)[] headers)
    {
        await Head(status, [("Content-Type", contentType), ("Content-Length", body.Length.ToString()), .. headers]);
        await Write(body);
    }

    public Task Send(int status, string body, string contentType = "application/json", params (string Name, string Value)[] headers) =>
        Send(status, Encoding.UTF8.GetBytes(body), contentType, headers);

    public async Task Write(byte[] bytes)
    {
        await stream.WriteAsync(bytes, stop);
        await stream.FlushAsync(stop);
        sent(bytes.Length);
    }

    /// <summary>Sends nothing more until the client goes away or the server stops.</summary>
    public async Task Stall()
    {
        var one = new byte[1];
        try
        {
            while (await socket.ReceiveAsync(one, stop) > 0) { }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    /// <summary>One byte every <paramref name="every"/> (a second by default) until <paramref name="bytes"/> run out or the client goes away.</summary>
    public async Task Trickle(byte[] bytes, TimeSpan? every = null)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            await Write([bytes[i]]);
            await Task.Delay(every ?? TimeSpan.FromSeconds(1), stop);
        }
    }

    /// <summary>Bytes without end (the prefix, then filler) until the client goes away or <paramref name="limit"/> is sent.</summary>
    public async Task Endless(byte[] prefix, long limit = long.MaxValue)
    {
        await Write(prefix);
        long total = prefix.Length;
        while (total < limit)
        {
            int n = (int)Math.Min(Filler.Length, limit - total);
            await Write(n == Filler.Length ? Filler : Filler[..n]);
            total += n;
        }
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 301 => "Moved Permanently", 302 => "Found", 307 => "Temporary Redirect",
        401 => "Unauthorized", 403 => "Forbidden", 404 => "Not Found", 429 => "Too Many Requests", 500 => "Internal Server Error", 503 => "Service Unavailable",
        _ => "Status",
    };
}

/// <summary>
/// A small HTTP/1.1 server for hostile-peer tests, on a TCP address (loopback ones stand for separate
/// hosts: 127.0.0.1 and 127.0.0.2; a host that is not loopback is one inside a
/// <see cref="NetworkNamespace"/> of the test's own, never an address of this machine) or a unix socket. One request a connection; every request is logged
/// with its headers (its Authorization above all) before the handler answers it.
/// </summary>
public sealed class HostileServer : IDisposable
{
    private readonly Socket _listener;
    private readonly Func<HostileRequest, HostileAnswer, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<HostileRequest> _log = [];
    private readonly string? _socketPath;
    private long _sent;

    private HostileServer(Socket listener, string name, Func<HostileRequest, HostileAnswer, Task> handler, string? socketPath)
    {
        (_listener, Name, _handler, _socketPath) = (listener, name, handler, socketPath);
        _listener.Listen(64);
        _ = Task.Run(Accept);
    }

    /// <summary>A server on <paramref name="address"/>, on a port the system picks (inside <paramref name="inside"/> when given).</summary>
    public static HostileServer Tcp(IPAddress address, Func<HostileRequest, HostileAnswer, Task> handler, NetworkNamespace? inside = null)
    {
        var listener = inside?.NewSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            ?? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        return new HostileServer(listener, $"{address}:{port}", handler, null) { Port = port };
    }

    /// <summary>A server on a unix socket at <paramref name="path"/> (an engine's API).</summary>
    public static HostileServer Unix(string path, Func<HostileRequest, HostileAnswer, Task> handler)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        return new HostileServer(listener, path, handler, path);
    }

    /// <summary>host:port, or the socket's path.</summary>
    public string Name { get; }
    public int Port { get; private init; }

    /// <summary>Every request so far, in the order they came.</summary>
    public IReadOnlyList<HostileRequest> Log
    {
        get { lock (_log) return [.. _log]; }
    }

    /// <summary>Bytes written to clients so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    private async Task Accept()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        using (client)
        using (var stream = new NetworkStream(client, ownsSocket: false))
        {
            try
            {
                var request = await ReadRequest(stream);
                if (request is null) return;
                lock (_log) _log.Add(request);
                await _handler(request, new HostileAnswer(stream, client, _stop.Token, n => Interlocked.Add(ref _sent, n)));
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // the client went away (as it should from a hostile answer), or the server stops
            }
        }
    }

    private async Task<HostileRequest?> ReadRequest(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0 || head.Count > 65536) return null;
            // a TLS handshake: this server speaks plain HTTP only, as a plain registry does, and closes (the client then falls back)
            if (head.Count == 0 && one[0] == 0x16) return null;
            head.Add(one[0]);
        }
        var lines = Encoding.Latin1.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var body = Array.Empty<byte>();
        if (headers.TryGetValue("Content-Length", out var length) && int.TryParse(length, out var n) && n > 0)
        {
            body = new byte[n];
            await stream.ReadExactlyAsync(body, _stop.Token);
        }
        return new HostileRequest(Name, first[0], first.Length > 1 ? first[1] : "/", headers, body);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        if (_socketPath is not null) File.Delete(_socketPath);
    }
}
