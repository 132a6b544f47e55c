using System.Diagnostics;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Registry;

/// <summary>A peer that stopped sending, sent too slowly, or did not finish in time (the reason is the message).</summary>
internal sealed class NetworkStallException(string message) : IOException(message);

/// <summary>
/// A response body read with a limit on every read (no data for that long is a stall), and where asked
/// a deadline for the whole body (a document must come whole in time) or a least pace (a blob must bring
/// so many bytes in each span of that limit spent waiting: a peer that sends a byte a second never ends
/// otherwise). Only time spent waiting inside a read counts, never the time a slow reader takes between
/// reads. Failures are <see cref="NetworkStallException"/>s.
/// </summary>
internal sealed class TimedReadStream : ReadOnlyForwardStream
{
    private readonly Stream _inner;
    private readonly TimeSpan _perRead;
    private readonly TimeSpan? _whole;
    private readonly long _leastPerSpan;
    private readonly string _suffix;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private CancellationTokenSource _timer = new();
    private byte[]? _scratch;
    private TimeSpan _spanWaited;
    private long _spanBytes;
    /// <summary>
    /// Set once a limit ran out under a read that still returned data (true: the whole body's deadline).
    /// A limit cancels a read by tearing its connection down, and that may happen just as the read completes:
    /// the read keeps its bytes, and the next one meets a closed or disposed stream. That failure is the
    /// limit's and is said as such, never as an ObjectDisposedException nobody maps.
    /// </summary>
    private bool? _ranOutWhole;

    /// <param name="inner">The body.</param>
    /// <param name="perRead">How long one read may wait for data.</param>
    /// <param name="whole">How long the whole body may take (null: no deadline).</param>
    /// <param name="leastPerSpan">Bytes that must come in each <paramref name="perRead"/> of waiting (0: no pace).</param>
    /// <param name="variable">The variable that sets the limits, named in the message.</param>
    public TimedReadStream(Stream inner, TimeSpan perRead, TimeSpan? whole = null, long leastPerSpan = 0, string? variable = null) =>
        (_inner, _perRead, _whole, _leastPerSpan, _suffix) = (inner, perRead, whole, leastPerSpan, variable is null ? "" : $" ({variable})");

    /// <summary>Bytes read so far.</summary>
    public long Position64 { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => ReadCore(buffer.AsMemory(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        if (_scratch is null || _scratch.Length < buffer.Length) _scratch = new byte[Math.Max(buffer.Length, 1 << 16)];
        int n = ReadCore(_scratch.AsMemory(0, buffer.Length));
        _scratch.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    private int ReadCore(Memory<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        var limit = _perRead;
        bool wholeLimits = false;
        if (_whole is { } whole)
        {
            var left = whole - _clock.Elapsed;
            if (left <= TimeSpan.Zero) throw new NetworkStallException(Text.Fill(Strings.Network_NotWholeInTime, Seconds(whole), Position64) + _suffix);
            if (left < limit) (limit, wholeLimits) = (left, true);
        }
        if (!_timer.TryReset())
        {
            _timer.Dispose();
            _timer = new CancellationTokenSource();
        }
        _timer.CancelAfter(limit);
        long start = Stopwatch.GetTimestamp();
        int n;
        try
        {
            n = _inner.ReadAsync(buffer, _timer.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException
            && (_timer.IsCancellationRequested || _ranOutWhole is not null))
        {
            // whatever the torn connection threw: the limit that tore it is the reason
            throw new NetworkStallException(RanOut(_timer.IsCancellationRequested ? wholeLimits : _ranOutWhole!.Value));
        }
        if (_timer.IsCancellationRequested) _ranOutWhole ??= wholeLimits;
        Position64 += n;
        if (_leastPerSpan > 0 && n > 0)
        {
            _spanWaited += Stopwatch.GetElapsedTime(start);
            _spanBytes += n;
            if (_spanWaited >= _perRead)
            {
                if (_spanBytes < _leastPerSpan)
                    throw new NetworkStallException(Text.Fill(Strings.Network_TooSlow, _spanBytes, Seconds(_spanWaited), _leastPerSpan) + _suffix);
                (_spanWaited, _spanBytes) = (TimeSpan.Zero, 0);
            }
        }
        return n;
    }

    private string RanOut(bool whole) => (whole
        ? Text.Fill(Strings.Network_NotWholeInTime, Seconds(_whole!.Value), Position64)
        : Text.Fill(Strings.Network_NoData, Seconds(_perRead))) + _suffix;

    /// <summary>A span of time as people read it: "1", "2.5", "30".</summary>
    internal static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _timer.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>Documents read whole from a peer, never more than their cap held in memory.</summary>
internal static class CappedRead
{
    /// <summary>
    /// Reads <paramref name="s"/> to its end; past <paramref name="limit"/> bytes <paramref name="tooLarge"/> is
    /// thrown. Held in chunks, so a body without end costs the cap, not twice it.
    /// </summary>
    public static byte[] All(Stream s, int limit, Func<Exception> tooLarge)
    {
        var chunks = new List<byte[]>();
        long total = 0;
        while (true)
        {
            var chunk = new byte[(int)Math.Min(1 << 20, Math.Max(1 << 16, total))];
            int filled = 0, n;
            while (filled < chunk.Length && (n = s.Read(chunk, filled, chunk.Length - filled)) > 0)
            {
                filled += n;
                if (total + filled > limit) throw tooLarge();
            }
            total += filled;
            chunks.Add(filled == chunk.Length ? chunk : chunk[..filled]);
            if (filled < chunk.Length) break;
        }
        var all = new byte[total];
        int at = 0;
        foreach (var c in chunks)
        {
            c.CopyTo(all, at);
            at += c.Length;
        }
        return all;
    }
}
