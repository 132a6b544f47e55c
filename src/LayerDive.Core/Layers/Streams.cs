namespace LayerDive.Core.Layers;

/// <summary>A compressed stream that ends before its format says it does (a member or frame cut short).</summary>
internal sealed class CompressedStreamEndException(string message) : EndOfStreamException(message);

/// <summary>A write-only, forward-only stream base (a pipe, a counter in front of one): everything but Write is unsupported.</summary>
internal abstract class WriteOnlyForwardStream : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>A read-only, forward-only stream base: everything but Read is unsupported.</summary>
internal abstract class ReadOnlyForwardStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public abstract override int Read(Span<byte> buffer);

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    /// <summary>Reads to the end, discarding; returns the number of bytes read.</summary>
    public long Drain()
    {
        var buf = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long total = 0;
            int n;
            while ((n = Read(buf)) > 0) total += n;
            return total;
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buf); }
    }
}
