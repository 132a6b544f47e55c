namespace LayerDive.Core.Layers;

/// <summary>
/// Yields a few bytes already read, then the rest of the inner stream. Its position is the count of
/// bytes handed out (SharpCompress's xz decoder asks for it to find block padding, also on a pipe).
/// </summary>
internal sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : ReadOnlyForwardStream
{
    private ReadOnlyMemory<byte> _prefix = prefix;
    private long _position;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        int n;
        if (_prefix.Length > 0)
        {
            n = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..n].CopyTo(buffer);
            _prefix = _prefix[n..];
        }
        else n = inner.Read(buffer);
        _position += n;
        return n;
    }
}

