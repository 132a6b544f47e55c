using System.Net.Sockets;

namespace LayerDive.Tests.Support;

/// <summary>
/// A fault injected in front of a real engine: a unix-socket proxy that passes each connection through
/// to the engine's socket and cuts it after the engine has sent <c>limit</c> bytes on it.
/// </summary>
public sealed class CuttingProxy : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public CuttingProxy(string upstreamSocket, string socket, long limit)
    {
        Socket = socket;
        _listener.Bind(new UnixDomainSocketEndPoint(socket));
        _listener.Listen(8);
        _accepting = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try { client = await _listener.AcceptAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = Task.Run(() => Pass(client, upstreamSocket, limit));
            }
        });
    }

    public string Socket { get; }
    public string Address => "unix://" + Socket;

    private async Task Pass(Socket client, string upstreamSocket, long limit)
    {
        using var up = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using (client)
        {
            await up.ConnectAsync(new UnixDomainSocketEndPoint(upstreamSocket));
            var toEngine = Pump(client, up, long.MaxValue);
            await Pump(up, client, limit);
            client.Shutdown(SocketShutdown.Both);
            up.Shutdown(SocketShutdown.Both);
            await toEngine.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task Pump(Socket from, Socket to, long limit)
    {
        var buffer = new byte[1 << 16];
        long sent = 0;
        try
        {
            while (sent < limit)
            {
                int n = await from.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - sent)));
                if (n == 0) return;
                await to.SendAsync(buffer.AsMemory(0, n));
                sent += n;
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _accepting.Wait(TimeSpan.FromSeconds(5));
        File.Delete(Socket);
    }
}
