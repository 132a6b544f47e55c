using LayerDive.Core.Layers;

namespace LayerDive.Core.Loading;

/// <summary>
/// Takes one layer's entries from its reader: straight into the merge while the layer is the lowest
/// unmerged one (in runs, under the model's lock), held until then otherwise.
/// </summary>
internal sealed class LayerFeed(LoadRun run, int index, bool bounded) : IEntrySink
{
    /// <summary>Entries decoded before they are merged together: a run of a live layer, a batch held for a layer not live yet.</summary>
    internal const int BatchLength = 256;
    /// <summary>Entries a layer above may hold before its reader waits for the layers below (about 100 bytes each and their paths).</summary>
    private const int MaxHeld = 1 << 15;

    private readonly object _gate = new();
    private readonly ManualResetEventSlim _wentLive = new(false);
    // the batch being filled; batches held whole (from a pool, so a layer held and let go leaves no garbage)
    private RawEntry[]? _batch; // rented at the first entry, so that layers not read yet hold nothing
    private int _count;
    private List<(RawEntry[] Batch, int Count)>? _held = [];
    private volatile bool _live;
    private Action? _release; // the finished reader's place, given back when the layer goes live
    private LayerContents? _read;
    private Exception? _failed; // the reader's error, the load's when the layer goes live

    private RawEntry[] Rent() => run.Batches.Rent();

    private void Return(RawEntry[] batch) => run.Batches.Return(batch);

    public void Add(in RawEntry entry)
    {
        (_batch ??= Rent())[_count++] = entry;
        if (_count == BatchLength) Flush();
    }

    /// <summary>Merges the batch if the layer is live, else holds it (waiting, when held too much, for the layers below).</summary>
    private void Flush()
    {
        if (_count == 0) return;
        if (!_live)
        {
            bool full;
            lock (_gate)
            {
                if (!_live)
                {
                    _held!.Add((_batch!, _count));
                    full = bounded && _held.Count * BatchLength >= MaxHeld;
                    _batch = null;
                    _count = 0;
                    if (full) goto wait;
                    return;
                }
            }
        }
        run.Apply(index, _batch.AsSpan(0, _count));
        Array.Clear(_batch!, 0, _count);
        _count = 0;
        return;
    wait:
        _wentLive.Wait(run.Token); // bounded memory: the layers below catch up first
    }

    /// <summary>
    /// The reader read the whole layer: it finishes the layer itself if live, else leaves that to
    /// whoever makes it live. <paramref name="release"/> (the reader's place among those running) is
    /// called once the layer is live.
    /// </summary>
    public void ReaderDone(LayerContents contents, Action? release = null)
    {
        if (!_live)
        {
            lock (_gate)
            {
                if (!_live)
                {
                    _release = release;
                    if (_count > 0) _held!.Add((_batch!, _count));
                    else if (_batch is not null) Return(_batch);
                    _batch = null;
                    _count = 0;
                    _read = contents;
                    return;
                }
            }
        }
        release?.Invoke();
        Flush();
        if (_batch is not null) Return(_batch);
        _batch = null;
        run.Advance(index, contents);
    }

    /// <summary>
    /// The reader failed: the load fails now if the layer is live, else when it goes live (every layer below it
    /// merged), so that a layer above whose reader failed first never hides a bad layer below it.
    /// <paramref name="release"/> is called then, as <see cref="ReaderDone"/>'s is.
    /// </summary>
    public void ReaderFailed(Exception error, Action? release)
    {
        if (!_live)
        {
            lock (_gate)
            {
                if (!_live)
                {
                    (_failed, _release) = (error, release);
                    return;
                }
            }
        }
        release?.Invoke();
        run.Fail(error);
    }

    /// <summary>
    /// Makes the layer live: merges what it holds, then lets its reader merge the rest itself.
    /// Returns true, with the layer's contents, when the reader was done already (the caller finishes the layer).
    /// </summary>
    public bool GoLive(out LayerContents? read)
    {
        read = null;
        while (true)
        {
            List<(RawEntry[] Batch, int Count)>? held = null;
            Action? release;
            Exception? failed;
            lock (_gate)
            {
                (release, _release, failed) = (_release, null, _failed);
                if (failed is not null)
                {
                    // what it holds is never merged: the load ends here
                    _held = null;
                    _live = true;
                }
                else if (_held!.Count > 0)
                {
                    (held, _held) = (_held, []);
                }
                else
                {
                    _held = null;
                    _live = true;
                    (read, _read) = (_read, null);
                }
            }
            release?.Invoke();
            if (failed is not null)
            {
                run.Fail(failed);
                return false;
            }
            if (held is null) break;
            foreach (var (batch, count) in held)
            {
                run.Apply(index, batch.AsSpan(0, count));
                Return(batch);
            }
        }
        _wentLive.Set();
        return read is not null;
    }
}

/// <summary>
/// The buffers of one load's batches, kept for its whole length: a layer held and let go leaves no
/// garbage. (The runtime's shared pool keeps a few dozen arrays a size; the batches a layer holds,
/// a hundred and more, would overflow it and die in generation 2.)
/// </summary>
internal sealed class BatchPool
{
    private readonly Stack<RawEntry[]> _entries = new();

    public RawEntry[] Rent()
    {
        lock (_entries) if (_entries.TryPop(out var batch)) return batch;
        return new RawEntry[LayerFeed.BatchLength];
    }

    public void Return(RawEntry[] batch)
    {
        Array.Clear(batch);
        lock (_entries) _entries.Push(batch);
    }

    /// <summary>Lets the buffers go once every layer is merged: what runs after the load has their room.</summary>
    public void Clear()
    {
        lock (_entries) _entries.Clear();
    }
}

internal sealed class TeeSink(IEntrySink[] sinks) : IEntrySink
{
    public void Add(in RawEntry entry)
    {
        foreach (var s in sinks) s.Add(entry);
    }
}
