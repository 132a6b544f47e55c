namespace LayerDive.Core.Sources;

/// <summary>
/// Bytes a one-pass source has read from its stream so far (an engine's export, standard input), and
/// how many it expects when it knows: the load's progress follows the stream, not only merged layers.
/// </summary>
internal sealed class ReadCounter
{
    private long _read;
    private long _expected;

    public long BytesRead => Volatile.Read(ref _read);

    /// <summary>The expected size, or 0 when unknown.</summary>
    public long BytesExpected => Volatile.Read(ref _expected);

    internal void Add(long n) => Interlocked.Add(ref _read, n);

    internal void Expect(long n) => Volatile.Write(ref _expected, n);

    /// <summary>Wraps a stream so that what is read through it is counted here.</summary>
    internal Stream Counting(Stream inner) => new CountingStream(inner, this);

    private sealed class CountingStream(Stream inner, ReadCounter counter) : Layers.ReadOnlyForwardStream
    {
        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            counter.Add(n);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
