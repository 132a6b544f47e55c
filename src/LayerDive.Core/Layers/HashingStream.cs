using System.Security.Cryptography;

namespace LayerDive.Core.Layers;

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
