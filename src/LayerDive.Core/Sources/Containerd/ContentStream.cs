using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// A blob of containerd's content store as it is stored (compressed), read through the Content service's
/// streamed <c>Read</c> one window at a time, each window a call with its own deadline: a 1 GB layer is
/// not one call that must end within a minute, and a stalled daemon still ends the read. Exactly
/// <c>size</c> bytes are taken: a message at an offset other than the next byte, bytes past the size, or
/// a stream that ends short is an error, so nothing more than the manifest names is ever held.
/// </summary>
internal sealed class ContentStream(ContainerdClient client, string digest, long size, CancellationToken ct) : ReadOnlyForwardStream
{
    /// <summary>What one call asks for: 16 messages of containerd's 1 MiB.</summary>
    private const long Window = 16 << 20;

    private readonly Queue<ReadOnlyMemory<byte>> _pending = new();
    private ReadOnlyMemory<byte> _current;
    private long _position; // bytes received so far

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (_current.IsEmpty)
        {
            if (_pending.TryDequeue(out var next)) { _current = next; continue; }
            if (_position >= size) return 0;
            Fetch();
        }
        int n = Math.Min(buffer.Length, _current.Length);
        _current.Span[..n].CopyTo(buffer);
        _current = _current[n..];
        return n;
    }

    private void Fetch()
    {
        long start = _position, want = Math.Min(Window, size - _position);
        client.Read(digest, start, want, (offset, data) =>
        {
            // containerd numbers a message's offset from the start of the call's section, not of the blob
            // (its server's response writer starts at 0 for every call); the blob's own offset is taken too
            if ((offset != _position - start && offset != _position) || _position + data.Length > start + want)
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Containerd_ReadOutOfPlace, client.Describe, ImageException.ShortDigest(digest), offset, data.Length, _position - start));
            // the message's buffer is the message's own: it is kept, not copied
            if (!data.IsEmpty) _pending.Enqueue(data);
            _position += data.Length;
        }, ct);
        if (_position < start + want)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Containerd_ReadShort, client.Describe, ImageException.ShortDigest(digest), _position, size));
    }

    /// <summary>A document whole (a manifest, an index, a config): its size asked first and refused past <paramref name="limit"/> before a byte is read.</summary>
    public static byte[] ReadAll(ContainerdClient client, string digest, long size, int limit, CancellationToken ct)
    {
        if (size > limit)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Containerd_DocumentTooLarge, client.Describe, ImageException.ShortDigest(digest), size, limit >> 20));
        var bytes = new byte[size];
        using var s = new ContentStream(client, digest, size, ct);
        s.ReadExactly(bytes);
        return bytes;
    }
}
