namespace LayerDive.Ui.Viewer;

/// <summary>
/// The viewer's copy of a file, as the copy writes it: the bytes go to <paramref name="file"/> up to
/// <paramref name="limit"/>, the count is readable from another thread (for the progress shown), and
/// what comes past the limit is let through unwritten: the copy reads on to the end of its layer, so
/// that the layer's digests are checked before any of it is shown.
/// A copy may go back to where it started (a layer that holds the name twice keeps the last), so the
/// position and length follow the file's.
/// </summary>
public sealed class SpoolStream(Stream file, long limit) : Stream
{
    private long _written;

    /// <summary>The bytes in the copy so far.</summary>
    public long Written => Volatile.Read(ref _written);

    /// <summary>The copy reached the limit: what follows it was not written.</summary>
    public bool Full { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => file.Length;

    public override long Position
    {
        get => file.Position;
        set
        {
            file.Position = value;
            Volatile.Write(ref _written, value);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long room = Math.Max(0, limit - file.Position);
        if (buffer.Length > room)
        {
            file.Write(buffer[..(int)room]);
            Volatile.Write(ref _written, file.Position);
            Full = true;
            return;
        }
        file.Write(buffer);
        Volatile.Write(ref _written, file.Position);
    }

    public override void SetLength(long value)
    {
        file.SetLength(value);
        Volatile.Write(ref _written, file.Position);
    }

    public override void Flush() => file.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => Position = file.Seek(offset, origin);
}
