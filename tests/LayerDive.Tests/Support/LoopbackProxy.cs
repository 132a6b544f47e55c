using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LayerDive.Tests.Support;

/// <summary>
/// A plain-HTTP proxy on loopback in front of a real service, one request a connection: what every
/// fault-injecting proxy shares (listening, accepting, reading a request's or an answer's head). A
/// proxy says what it does with each connection in <see cref="Serve"/>.
/// </summary>
public abstract class LoopbackProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    protected LoopbackProxy(int upstreamPort)
    {
        Upstream = upstreamPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(Accept);
    }

    /// <summary>The port the proxy listens on.</summary>
    public int Port { get; }

    /// <summary>The port of the real service behind it.</summary>
    protected int Upstream { get; }

    /// <summary>Cancelled when the proxy is disposed.</summary>
    protected CancellationTokenSource Stop { get; } = new();

    /// <summary>Handles one connection (and closes it).</summary>
    protected abstract Task Serve(TcpClient client);

    private async Task Accept()
    {
        while (!Stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(Stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    /// <summary>
    /// Connects to the real service and sends it the request <paramref name="head"/> (one request a
    /// connection: its Connection header replaced by <c>Connection: close</c>); the answer is read from the
    /// returned client's stream.
    /// </summary>
    protected async Task<TcpClient> Forward(string head)
    {
        var up = new TcpClient();
        try
        {
            await up.ConnectAsync(IPAddress.Loopback, Upstream);
            var lines = head.Split("\r\n").Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && l.Length > 0);
            await up.GetStream().WriteAsync(Encoding.ASCII.GetBytes(string.Join("\r\n", lines) + "\r\nConnection: close\r\n\r\n"));
            return up;
        }
        catch
        {
            up.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP head (request or answer, through the blank line), at most 64 KiB; null at the end of the stream.</summary>
    protected static async Task<string?> ReadHead(NetworkStream stream)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (!sb.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) == 0) return null;
            if (sb.Length == 0 && one[0] == 0x16) return null; // a TLS handshake: plain HTTP only, as a plain registry (the client then tries http)
            sb.Append((char)one[0]);
            if (sb.Length > 65536) return null;
        }
        return sb.ToString();
    }

    public void Dispose()
    {
        Stop.Cancel();
        _listener.Stop();
        GC.SuppressFinalize(this);
    }
}
