namespace LayerDive.Core.Layers;

/// <summary>
/// Reads its inner stream ahead on a thread of its own, into a bounded queue of chunks, so that the
/// cost of reading (an HTTP response's framing and socket reads) overlaps with the consumer's work
/// (decoding, hashing) instead of adding to it. At most <c>chunks</c> x <c>chunkSize</c> bytes wait.
/// </summary>
internal sealed class ReadAheadStream : ReadOnlyForwardStream
{
    private readonly Stream _inner;
    private readonly System.Threading.Channels.Channel<(byte[] Buffer, int Length)> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private byte[]? _current;
    private int _offset, _length;
    private bool _done;

    public ReadAheadStream(Stream inner, int chunkSize = 1 << 18, int chunks = 4)
    {
        _inner = inner;
        _queue = System.Threading.Channels.Channel.CreateBounded<(byte[], int)>(new System.Threading.Channels.BoundedChannelOptions(chunks) { SingleReader = true, SingleWriter = true });
        _producer = Task.Factory.StartNew(() => Produce(chunkSize), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Produce(int chunkSize)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(chunkSize);
                int n = _inner.ReadAtLeast(buffer.AsSpan(0, chunkSize), chunkSize, throwOnEndOfStream: false);
                if (n == 0)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }
                if (!_queue.Writer.WaitToWriteAsync(_stop.Token).AsTask().GetAwaiter().GetResult() || !_queue.Writer.TryWrite((buffer, n)))
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }
            }
            _queue.Writer.TryComplete();
        }
        catch (OperationCanceledException) { _queue.Writer.TryComplete(); }
        catch (Exception ex) { _queue.Writer.TryComplete(ex); }
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (_current is null || _offset == _length)
        {
            if (_current is not null) System.Buffers.ArrayPool<byte>.Shared.Return(_current);
            _current = null;
            if (_done) return 0;
            try
            {
                if (!_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    _done = true;
                    return 0;
                }
            }
            catch (System.Threading.Channels.ChannelClosedException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            }
            if (_queue.Reader.TryRead(out var chunk)) (_current, _offset, _length) = (chunk.Buffer, 0, chunk.Length);
        }
        int n = Math.Min(buffer.Length, _length - _offset);
        _current.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _inner.Dispose(); // ends a read the producer is blocked in
            _producer.Wait(TimeSpan.FromSeconds(5));
            while (_queue.Reader.TryRead(out var chunk)) System.Buffers.ArrayPool<byte>.Shared.Return(chunk.Buffer);
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }
}

