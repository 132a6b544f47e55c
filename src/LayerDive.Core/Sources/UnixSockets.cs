using System.Net.Http;
using System.Net.Sockets;

namespace LayerDive.Core.Sources;

/// <summary>HTTP over a Unix socket (an engine's API, containerd's gRPC): the connection an HTTP handler makes.</summary>
internal static class UnixSockets
{
    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/> that connects to <paramref name="path"/> whatever the request's host.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Connect(string path) => async (_, ct) =>
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await s.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
            return new NetworkStream(s, ownsSocket: true);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    };
}
