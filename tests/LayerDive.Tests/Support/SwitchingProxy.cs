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
public sealed class SwitchingProxy : LoopbackProxy
{
    private readonly string _blob;
    private readonly byte[] _other;
    private int _served;

    /// <param name="blob">The digest of the blob to switch.</param>
    /// <param name="other">What to serve for it from the second GET on: exactly as long as the blob.</param>
    public SwitchingProxy(int upstreamPort, string blob, byte[] other) : base(upstreamPort) => (_blob, _other) = (blob, other);


    /// <summary>GETs of the blob answered so far (the first with the true bytes).</summary>
    public int Served => Volatile.Read(ref _served);


    protected override async Task Serve(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = await ReadHead(stream);
            if (head is null) return;
            var parts = head.Split(' ', 3);
            bool switched = parts[0] == "GET" && parts[1].EndsWith("/blobs/" + _blob, StringComparison.Ordinal)
                && Interlocked.Increment(ref _served) > 1;
            using var up = await Forward(head);
            var upstream = up.GetStream();
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


}
