using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LayerDive.Tests.Support;

/// <summary>
/// A registry that lies on the second asking: in front of a real registry, it passes every request
/// through, and answers the first GET of one blob with the registry's own bytes and every later GET
/// of it with other bytes of the same length (the registry's headers kept: status, length, digest).
/// One request a connection (the registry is asked to close after its answer), as FaultyProxy does.
/// </summary>
public sealed class SwitchingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstream;
    private readonly string _blob;
    private readonly byte[] _other;
    private readonly CancellationTokenSource _stop = new();
    private int _served;

    /// <param name="blob">The digest of the blob to switch.</param>
    /// <param name="other">What to serve for it from the second GET on: exactly as long as the blob.</param>
    public SwitchingProxy(int upstreamPort, string blob, byte[] other)
    {
        (_upstream, _blob, _other) = (upstreamPort, blob, other);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(Accept);
    }

    public int Port { get; }

    /// <summary>GETs of the blob answered so far (the first with the true bytes).</summary>
    public int Served => Volatile.Read(ref _served);

    private async Task Accept()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = await ReadHead(stream);
            if (head is null) return;
            var parts = head.Split(' ', 3);
            bool switched = parts[0] == "GET" && parts[1].EndsWith("/blobs/" + _blob, StringComparison.Ordinal)
                && Interlocked.Increment(ref _served) > 1;
            using var up = new TcpClient();
            await up.ConnectAsync(IPAddress.Loopback, _upstream);
            var upstream = up.GetStream();
            var lines = head.Split("\r\n").Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && l.Length > 0);
            await upstream.WriteAsync(Encoding.ASCII.GetBytes(string.Join("\r\n", lines) + "\r\nConnection: close\r\n\r\n"));
            var answer = await ReadHead(upstream);
            if (answer is null) return;
            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
            var buffer = new byte[65536];
            long sent = 0;
            int n;
            while ((n = await upstream.ReadAsync(buffer)) > 0)
            {
                if (switched)
                    for (int i = 0; i < n; i++) buffer[i] = sent + i < _other.Length ? _other[sent + i] : buffer[i];
                await stream.WriteAsync(buffer.AsMemory(0, n));
                sent += n;
            }
        }
    }

    private static async Task<string?> ReadHead(NetworkStream stream)
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
        _stop.Cancel();
        _listener.Stop();
    }
}
