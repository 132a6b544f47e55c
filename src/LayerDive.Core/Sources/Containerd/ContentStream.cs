using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// A blob of containerd's content store as it is stored (compressed), read through the Content service's
/// streamed <c>Read</c> one window at a time, each window a call whose every wait for a message is bounded
/// (and the whole call too, generously: the reader's own pace counts there), its messages taken as the
/// reader wants them, one held at a time: a 1 GB layer is not one call that must end within a minute,
/// and a stalled daemon still ends the read. Exactly
/// <c>size</c> bytes are taken: a message at an offset other than the next byte, bytes past the size, or
/// a stream that ends short is an error, so nothing more than the manifest names is ever held.
/// </summary>
internal sealed class ContentStream(ContainerdClient client, string digest, long size, CancellationToken ct, long window = ContentStream.Window) : ReadOnlyForwardStream
{
    /// <summary>What one call asks for: 64 messages of containerd's 1 MiB (16 made four times the calls, each a new stream and a new reader in containerd).</summary>
    public const long Window = 64 << 20;

    private ContainerdClient.ReadCall? _call;
    private ContentChunk? _chunk; // the message being read from, released when the next is taken
    private long _start; // where the open call's section starts
    private long _want; // how many bytes the open call was asked for
    private ReadOnlyMemory<byte> _current;
    private long _position; // bytes received so far

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (_current.IsEmpty)
        {
            if (_position >= size && _call is null) return 0;
            Next();
        }
        int n = Math.Min(buffer.Length, _current.Length);
        _current.Span[..n].CopyTo(buffer);
        _current = _current[n..];
        return n;
    }

    /// <summary>The next message of the open call, else the next call; checks each message's place and the call's length.</summary>
    private void Next()
    {
        if (_call is null)
        {
            (_start, _want) = (_position, Math.Min(window, size - _position));
            _call = client.OpenRead(digest, _start, _want, ct);
        }
        _chunk?.Release();
        _chunk = null;
        if (_call.Next() is not { } chunk)
        {
            _call.Dispose();
            _call = null;
            if (_position < _start + _want)
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Containerd_ReadShort, client.Describe, ImageException.ShortDigest(digest), _position, size));
            return;
        }
        // containerd numbers a message's offset from the start of the call's section, not of the blob
        // (its server's response writer starts at 0 for every call); the blob's own offset is taken too
        _chunk = chunk;
        long offset = chunk.Offset;
        if ((offset != _position - _start && offset != _position) || _position + chunk.Length > _start + _want)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Containerd_ReadOutOfPlace, client.Describe, ImageException.ShortDigest(digest), offset, chunk.Length, _position - _start));
        // the message's pooled buffer is read from, not copied
        _current = chunk.Data;
        _position += chunk.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _call?.Dispose();
            _current = default;
            _chunk?.Release();
            _chunk = null;
        }
        _call = null;
        base.Dispose(disposing);
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
