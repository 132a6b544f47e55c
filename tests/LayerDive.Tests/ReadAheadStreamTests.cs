using LayerDive.Core.Layers;

namespace LayerDive.Tests;

/// <summary>The read-ahead under an engine's export: the same bytes in the same order, its faults passed on, no hang on dispose.</summary>
public sealed class ReadAheadStreamTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(3 * 4096 + 17)]
    public void Reads_the_same_bytes_in_the_same_order(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        using var ahead = new ReadAheadStream(new MemoryStream(data), chunkSize: 4096, chunks: 2);
        var read = new MemoryStream();
        var buffer = new byte[777]; // not a divisor of the chunk size
        int n;
        while ((n = ahead.Read(buffer)) > 0) read.Write(buffer, 0, n);
        Assert.Equal(data, read.ToArray());
        Assert.Equal(0, ahead.Read(buffer)); // and stays at the end
    }

    [Fact]
    public void A_fault_of_the_inner_stream_reaches_the_reader_after_the_bytes_before_it()
    {
        using var ahead = new ReadAheadStream(new FailingStream(10_000), chunkSize: 4096, chunks: 2);
        var buffer = new byte[4096];
        long total = 0;
        var ex = Assert.Throws<IOException>(() => { int n; while ((n = ahead.Read(buffer)) > 0) total += n; });
        Assert.Equal("cut", ex.Message);
        Assert.Equal(8192, total); // two whole chunks came before the fault; the third ended in it
    }

    [Fact]
    public async Task Disposing_while_the_reader_ahead_waits_returns()
    {
        var endless = new FailingStream(long.MaxValue);
        var ahead = new ReadAheadStream(endless, chunkSize: 4096, chunks: 2);
        ahead.ReadByte(); // the queue fills and the producer waits for room
        var disposed = Task.Run(ahead.Dispose, TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(disposed, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.True(first == disposed, "Dispose did not return");
    }

    /// <summary>Yields <c>good</c> bytes, then throws.</summary>
    private sealed class FailingStream(long good) : ReadOnlyForwardStream
    {
        private long _left = good;

        public override int Read(Span<byte> buffer)
        {
            if (_left == 0) throw new IOException("cut");
            int n = (int)Math.Min(buffer.Length, _left);
            _left -= n;
            return n;
        }
    }
}
