using LayerDive.Core;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using LayerDive.Core.Resources;

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

/// <summary>
/// Hashes (when asked) and counts every byte read through it, in the same pass. With a buffer it
/// reads ahead in chunks of that size, so that a reader taking a few hundred bytes at a time (a tar
/// reader: a 512-byte header, a small file, its padding) costs one call to the decompressor and the
/// hash per chunk instead of three per entry; <see cref="BytesRead"/> still counts what was handed out.
/// </summary>
internal sealed class HashingStream : ReadOnlyForwardStream
{
    private readonly Stream _inner;
    private readonly IncrementalHash? _hash;
    private readonly BackgroundHash? _background;
    private byte[]? _buffer;
    private int _start, _end;

    /// <param name="inBackground">Hash on a thread of its own once the stream is past a megabyte (for a reader with no other layer beside it).</param>
    public HashingStream(Stream inner, HashAlgorithmName? algorithm, int bufferSize = 0, bool inBackground = false)
    {
        _inner = inner;
        if (algorithm is { } a)
        {
            if (inBackground) _background = new BackgroundHash(a);
            else _hash = IncrementalHash.CreateHash(a);
        }
        if (bufferSize > 0) _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    /// <summary>The bytes handed out so far (not those read ahead).</summary>
    public long BytesRead { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        if (_start == _end && (_buffer is null || buffer.Length >= _buffer.Length))
        {
            int direct = ReadInner(buffer);
            BytesRead += direct;
            return direct;
        }
        if (_start == _end)
        {
            _start = 0;
            _end = ReadInner(_buffer);
            if (_end == 0) return 0;
        }
        int n = Math.Min(buffer.Length, _end - _start);
        _buffer.AsSpan(_start, n).CopyTo(buffer);
        _start += n;
        BytesRead += n;
        return n;
    }

    private int ReadInner(Span<byte> into)
    {
        int n = _inner.Read(into);
        if (n > 0)
        {
            _hash?.AppendData(into[..n]);
            _background?.Append(into[..n]);
        }
        return n;
    }

    /// <summary>"sha256:hex" of everything read, or null when hashing was off.</summary>
    public string? Digest(string algorithm = "sha256") =>
        _hash is not null ? algorithm + ":" + Convert.ToHexStringLower(_hash.GetHashAndReset())
        : _background is not null ? algorithm + ":" + Convert.ToHexStringLower(_background.Finish())
        : null;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
            _background?.Dispose();
            if (_buffer is not null) System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        base.Dispose(disposing);
    }
}

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

/// <summary>
/// A window [offset, offset+length) of a file read with positional reads on a shared handle,
/// so that several windows of one file can be read in parallel.
/// </summary>
internal sealed class FileWindowStream(SafeFileHandle handle, long offset, long length) : ReadOnlyForwardStream
{
    private long _position;

    public override long Length => length;

    public override int Read(Span<byte> buffer)
    {
        long left = length - _position;
        if (left <= 0) return 0;
        if (buffer.Length > left) buffer = buffer[..(int)left];
        int n = RandomAccess.Read(handle, buffer, offset + _position);
        if (n == 0) throw new EndOfStreamException(Strings.Archive_MemberCut);
        _position += n;
        return n;
    }
}

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

/// <summary>
/// An incremental hash fed from one thread and computed on another: the first megabyte is hashed in
/// place (a small layer is not worth a thread), then chunks are copied into a short queue (8 at most)
/// that a thread of its own drains. SHA-256 is three quarters of the work of reading an uncompressed
/// layer; a reader that has no other layer beside it (a stream read in its order) so uses two cores.
/// </summary>
internal sealed class BackgroundHash(HashAlgorithmName algorithm) : IDisposable
{
    private const int Threshold = 1 << 20;
    private const int MaxQueued = 8;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(algorithm);
    private readonly Queue<(byte[] Chunk, int Length)> _queue = new();
    private readonly object _gate = new();
    private Thread? _worker;
    private long _inline;
    private bool _closed;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_worker is null)
        {
            if (_inline + data.Length <= Threshold)
            {
                _hash.AppendData(data);
                _inline += data.Length;
                return;
            }
            _worker = new Thread(Work) { IsBackground = true, Name = "layerdive hash" };
            _worker.Start();
        }
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(chunk);
        lock (_gate)
        {
            while (_queue.Count >= MaxQueued) Monitor.Wait(_gate);
            _queue.Enqueue((chunk, data.Length));
            Monitor.PulseAll(_gate);
        }
    }

    private void Work()
    {
        while (true)
        {
            (byte[] Chunk, int Length) item;
            lock (_gate)
            {
                while (_queue.Count == 0 && !_closed) Monitor.Wait(_gate);
                if (_queue.Count == 0) return;
                item = _queue.Dequeue();
                Monitor.PulseAll(_gate);
            }
            _hash.AppendData(item.Chunk.AsSpan(0, item.Length));
            System.Buffers.ArrayPool<byte>.Shared.Return(item.Chunk);
        }
    }

    /// <summary>Waits for the queue to drain; the hash of everything appended.</summary>
    public byte[] Finish()
    {
        Stop();
        return _hash.GetHashAndReset();
    }

    private void Stop()
    {
        if (_worker is null) return;
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
        _worker.Join();
        _worker = null;
    }

    public void Dispose()
    {
        Stop();
        _hash.Dispose();
    }
}
