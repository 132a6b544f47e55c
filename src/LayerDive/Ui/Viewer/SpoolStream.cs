namespace LayerDive.Ui.Viewer;

/// <summary>
/// The viewer's copy of a file, as the copy writes it: the bytes go to <paramref name="file"/> up to
/// <paramref name="limit"/>, the count is readable from another thread (for the progress shown), and
/// what comes past the limit is let through unwritten: the copy reads on to the end of its layer, so
/// that the layer's digests are checked before any of it is shown.
/// </summary>
public sealed class SpoolStream(Stream file, long limit) : Stream
{
    private long _passed;

    /// <summary>The bytes that came through so far, written or (past the limit) let through: how far the copy has got.</summary>
    public long Written => Volatile.Read(ref _passed);

    /// <summary>The copy reached the limit: what follows it was not written.</summary>
    public bool Full => Volatile.Read(ref _passed) > limit;

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => file.Length;

    // a copy may go back to where it started (a layer that holds the name twice keeps the last): the position is the
    // copy's own, and the file holds the part of it under the limit
    public override long Position
    {
        get => Volatile.Read(ref _passed);
        set
        {
            file.Position = Math.Min(value, limit);
            Volatile.Write(ref _passed, value);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long at = Volatile.Read(ref _passed);
        long room = Math.Max(0, limit - at);
        if (room > 0) file.Write(buffer[..(int)Math.Min(room, buffer.Length)]);
        Volatile.Write(ref _passed, at + buffer.Length);
    }

    public override void SetLength(long value)
    {
        file.SetLength(Math.Min(value, limit));
        if (Volatile.Read(ref _passed) > value) Volatile.Write(ref _passed, value);
    }

    public override void Flush() => file.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => throw new NotSupportedException(),
    };
}
