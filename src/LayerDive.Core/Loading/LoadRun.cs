using System.Runtime.InteropServices;
using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Loading;

/// <summary>One load: the merge, the layers' feeds into it, and the first error.</summary>
internal sealed class LoadRun
{
    private readonly ImageModel _model;
    private readonly OverlayMerger _merger;
    private readonly ResolvedImage _image;
    private readonly LoadOptions _options;
    private readonly LayerFeed[] _feeds;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cts;
    private readonly long _total;
    private readonly ReadCounter _counter;
    private readonly System.Diagnostics.Stopwatch _clock;
    private readonly Timer? _ticker;
    private readonly TreeStore _tree;
    private readonly LayerVerifier _verifier;
    private readonly Cache.LayerCache? _cache; // none without verifying: only what was checked is kept, or given
    // what the merge made of each entry of the batch being merged, and the parents of the paths it took out of the tree
    private MergedEntry[] _merged = new MergedEntry[LayerFeed.BatchLength];
    private readonly Dictionary<int, int> _detached = [];
    private long _bytesRead;

    public LoadRun(ImageModel model, OverlayMerger merger, ResolvedImage image, LoadOptions options,
        ReadCounter counter, System.Diagnostics.Stopwatch clock, CancellationToken ct)
    {
        (_model, _merger, _image, _options, _counter, _clock) = (model, merger, image, options, counter, clock);
        _tree = merger.Root.Tree;
        _verifier = new LayerVerifier(options.Verify);
        _cache = options.Verify ? options.Cache : null;
        if (options.Observers.Count > 0) merger.DetachedParents = _detached;
        // a source that counts what it reads (a stream, a download) reports as it comes, not only as layers are merged
        if (options.Progress is { } progress)
            _ticker = new Timer(_ => { if (_counter.BytesRead > 0) progress.Report(Snapshot(_model.LayersMerged)); }, null, 250, 250);
        _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _total = image.Layers.Sum(l => l.Size ?? 0);
        // a source read in its order reads every layer on one thread: a layer above must never wait for one below
        _feeds = new LayerFeed[image.Layers.Count];
        for (int i = 0; i < _feeds.Length; i++) _feeds[i] = new LayerFeed(this, i, bounded: image.Blobs is IRandomAccessBlobs);
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>The buffers of the layers' batches.</summary>
    public BatchPool Batches { get; } = new();

    public async Task RunAsync()
    {
        if (_feeds.Length == 0)
        {
            Complete();
            return;
        }
        lock (_model.Sync) _merger.BeginLayer(_model.Layers[0]);
        _feeds[0].GoLive(out _);
        // a source read in its order is left unread only when the cache holds every one of its layers
        var cached = _cache is not null && _image.Blobs is not IRandomAccessBlobs ? _cache.OpenAll(_image.Layers, _options.FileSha256, _options.Source.Notice) : null;
        Task reading = _image.Blobs is IRandomAccessBlobs random
            ? ReadParallel(random)
            : Start(() => Guarded(() =>
            {
                // a blob gone is an error (as reading gives it); one of another size than the cache's is read, and so is the source whole
                bool same = true;
                for (int i = 0; cached is not null && i < cached.Count; i++) same &= CheckBlob(_image.Layers[i], cached[i].StoredSize);
                if (!same) cached = null;
                if (cached is null) ReadInOrder(_image.Blobs); else FeedCached(cached);
            }));
        // a cancelled load ends even where no reader is left to see it (a layer's reader not started yet, the
        // layers above it holding their errors until it goes live)
        using var stop = Token.Register(() => Fail(new OperationCanceledException(Token)));
        try
        {
            await _done.Task.ConfigureAwait(false);
        }
        finally
        {
            if (_ticker is not null) await _ticker.DisposeAsync().ConfigureAwait(false);
            _cts.Cancel(); // nothing is left to read; after an error, the other readers stop
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _cts.Dispose();
        }
    }

    private void Guarded(Action action)
    {
        try { action(); }
        catch (Exception ex) { Fail(ex); }
    }

    /// <summary>The first error ends the load (the readers still running are cancelled); later ones are its echoes.</summary>
    internal void Fail(Exception ex)
    {
        if (_done.TrySetException(ex)) _cts.Cancel();
    }

    /// <summary>
    /// Random-access stores: one reader per core, started in layer order, so the lowest unmerged layer is
    /// always being read. Layers the cache holds take no reader's place: they have readers of their own,
    /// also one per core in layer order (taking one costs little beside reading a blob), so that a layer
    /// to read (a rebuilt image's new one) is read beside the merge of the cached layers below it, not after it.
    /// </summary>
    private async Task ReadParallel(IRandomAccessBlobs blobs)
    {
        var cached = new bool[_feeds.Length];
        for (int i = 0; _cache is not null && i < cached.Length; i++) cached[i] = _cache.Holds(_image.Layers[i]);
        var fromCache = ReadInTurn(blobs, cached, true);
        await ReadInTurn(blobs, cached, false).ConfigureAwait(false);
        await fromCache.ConfigureAwait(false);
    }

    /// <summary>The layers whose <paramref name="cached"/> is <paramref name="which"/>: one reader per core, started in layer order.</summary>
    private async Task ReadInTurn(IRandomAccessBlobs blobs, bool[] cached, bool which)
    {
        int parallelism = Math.Max(1, _options.MaxParallelism ?? Environment.ProcessorCount);
        // not disposed: a layer read ahead gives its place back when it goes live, which may be after every
        // reader here is done (it holds no wait handle, so nothing is left open)
        var gate = new SemaphoreSlim(parallelism);
        var readers = new List<Task>(_feeds.Length);
        try
        {
            for (int i = 0; i < _feeds.Length; i++)
            {
                if (cached[i] != which) continue;
                await gate.WaitAsync(Token).ConfigureAwait(false);
                int index = i;
                readers.Add(Start(() => ReadLayer(blobs, index, gate)));
            }
        }
        catch (OperationCanceledException) { /* an error stopped the load; it is reported already */ }
        await Task.WhenAll(readers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    // a thread of its own: a reader is long, busy work that should not wait for the pool
    private static Task Start(Action read) => Task.Factory.StartNew(read, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Reads layer <paramref name="index"/> (from the cache where it holds it, else from its blob) into its feed.</summary>
    private void ReadLayer(IRandomAccessBlobs blobs, int index, SemaphoreSlim gate)
    {
        var (r, feed) = (_image.Layers[index], _feeds[index]);
        bool released = false;
        try
        {
            LayerContents contents;
            try
            {
                contents = _cache is null ? ReadBlob(blobs, r, feed)
                    : _cache.Through(r, _options.FileSha256, feed, sink => ReadBlob(blobs, r, sink), lookUp: true, _options.Source.Notice, Token, CheckBlob);
            }
            catch (ImageException ex) when (ex.Kind is FaultKind.Damaged or FaultKind.DigestMismatch or FaultKind.Unsupported or FaultKind.NotFound
                && !Token.IsCancellationRequested)
            {
                // what the layer's own bytes (or their absence) say: the load's error once the layers below are merged,
                // so that the layer named is the lowest bad one, whichever reader failed first; the place is given back
                // then too (the layers above are not read meanwhile). Anything else (a registry refusing, a full disk,
                // a cancelled load) is no layer's fault, and ends the load at once (below)
                released = true;
                feed.ReaderFailed(ex, () => gate.Release());
                return;
            }
            // the next layer's read may start while this one finishes merging; a layer read
            // ahead of the merge keeps its place until it goes live, so that at most a layer
            // a core is held (the merge is the slower side: readers let run would hold the image)
            released = true;
            feed.ReaderDone(contents, () => gate.Release());
        }
        catch (Exception ex) { Fail(ex); }
        finally { if (!released) gate.Release(); }
    }

    /// <summary>Sources read in their order (a compressed archive, a stream, an engine's export): on this thread.</summary>
    private void ReadInOrder(IBlobReader blobs)
    {
        blobs.ReadInOrder(_image.Layers, (indices, arrival) =>
        {
            LayerContents contents;
            if (arrival.Stream is { } stream)
            {
                IEntrySink sink = indices.Count == 1 ? _feeds[indices[0]] : new TeeSink(indices.Select(i => (IEntrySink)_feeds[i]).ToArray());
                var r = _image.Layers[indices[0]];
                contents = _cache is null ? ReadOne(stream, r, _options, sink, Token, inOrder: true)
                    : _cache.Through(r, _options.FileSha256, sink, s => ReadOne(stream, r, _options, s, Token, inOrder: true), lookUp: false, _options.Source.Notice, Token);
            }
            else
            {
                // read before it was known which layer it is: its entries were held, now they go in
                var held = arrival.Held!;
                contents = held.Contents;
                var problems = held.ProblemsIn(indices[0]).ToList();
                contents.Problems.Clear();
                contents.Problems.AddRange(problems);
                foreach (var i in indices)
                    foreach (ref readonly var e in CollectionsMarshal.AsSpan(contents.Entries)) _feeds[i].Add(e);
                contents.Entries.Clear();
            }
            foreach (var i in indices) _feeds[i].ReaderDone(contents);
        }, Token);
    }

    /// <summary>Every layer from the cache, in order, on this thread.</summary>
    private void FeedCached(IReadOnlyList<Cache.CachedLayer> layers)
    {
        for (int i = 0; i < layers.Count; i++) _feeds[i].ReaderDone(layers[i].Feed(_feeds[i], i, Token));
    }

    private LayerContents ReadBlob(IRandomAccessBlobs blobs, LayerDescriptor r, IEntrySink sink)
    {
        using var blob = OpenOne(blobs, r);
        return ReadOne(blob, r, _options, sink, Token);
    }

    // how far ahead of the merge an entry's table slot is fetched: a lookup's wait for memory is about an entry's work
    private const int PrefetchAhead = 2;

    /// <summary>
    /// Merges a run of entries of the live layer under the model's lock, then shows them to the observers
    /// with the lock let go, so that a reader of the model waits for the merge only, never for the analyses.
    /// That is safe without the lock: merges come one at a time (the live layer's entries go in from one
    /// thread at a time, and the next layer goes live only once this one's last run is merged and seen),
    /// and a batch's observers run on the thread that merged it before it merges anything more, so they
    /// read a tree no one is changing; readers holding the lock meanwhile only read it too.
    /// </summary>
    public void Apply(int index, ReadOnlySpan<RawEntry> entries)
    {
        var observers = _options.Observers;
        try
        {
            if (observers.Count == 0)
            {
                lock (_model.Sync)
                    for (int i = 0; i < entries.Length; i++)
                    {
                        if (i + PrefetchAhead < entries.Length) _merger.Prefetch(entries[i + PrefetchAhead]);
                        _merger.Add(entries[i]);
                    }
                return;
            }
            // one buffer for the load, reused: batches are merged and seen one at a time (above)
            if (_merged.Length < entries.Length) _merged = new MergedEntry[entries.Length];
            var merged = _merged.AsSpan(0, entries.Length);
            lock (_model.Sync)
            {
                for (int i = 0; i < entries.Length; i++)
                {
                    ref readonly var e = ref entries[i];
                    if (i + PrefetchAhead < entries.Length) _merger.Prefetch(entries[i + PrefetchAhead]);
                    int node = _merger.Add(e) is { } n ? n.Number : TreeStore.None;
                    // the version this entry wrote, which a later entry of the batch may replace
                    merged[i].Node = node;
                    merged[i].Version = e.Kind == RawKind.Entry && node != TreeStore.None && _tree.TryRecordIn(node, index, out var r) ? r.Attr : TreeStore.None;
                }
            }
            var batch = new MergedBatch(_tree, entries, merged, _detached);
            var layer = _model.Layers[index];
            for (int o = 0; o < observers.Count; o++) observers[o].OnEntries(layer, batch); // no enumerator to allocate
            if (_detached.Count > 0)
            {
                // a path removed with its directory is out of reach of the batches to come
                _detached.Clear();
                _detached.TrimExcess();
            }
        }
        catch (ImageException ex)
        {
            // the layer merged, which a held batch's thread (another layer's reader) would not name
            var r = _image.Layers[index];
            throw ex.InLayer(index, r.Digest ?? r.DiffId);
        }
    }

    /// <summary>
    /// The live layer <paramref name="index"/> is read and merged: finishes it, then makes the layers
    /// above live in turn, finishing each that its reader completed already.
    /// </summary>
    public void Advance(int index, LayerContents contents)
    {
        while (true)
        {
            var layer = _model.Layers[index];
            _verifier.Finish(layer, _image.Layers[index], contents);
            bool top = index + 1 == _feeds.Length;
            lock (_model.Sync)
            {
                _merger.EndLayer(contents.Problems);
                foreach (var observer in _options.Observers) observer.OnLayerMerged(layer);
                if (top)
                {
                    _merger.Complete();
                }
                else
                {
                    _merger.BeginLayer(_model.Layers[index + 1]);
                }
                _model.SetLayersMerged(index + 1);
            }
            // told with the model let go, and before the next layer's held entries go in: the handlers
            // see this layer's tree and figures as they stay, and in layer order
            _model.RaiseLayerMerged(index);
            Interlocked.Add(ref _bytesRead, contents.CompressedSize);
            if (top)
            {
                Complete();
                return;
            }
            index++;
            _options.Progress?.Report(Snapshot(index));
            if (!_feeds[index].GoLive(out var next)) return;
            contents = next!;
        }
    }

    /// <summary>Every layer is merged (the model is complete), or there is none.</summary>
    private void Complete()
    {
        if (_feeds.Length == 0)
            lock (_model.Sync) _merger.Complete();
        _options.Progress?.Report(Snapshot(_feeds.Length));
        Batches.Clear();
        _done.TrySetResult();
    }

    /// <summary>Progress by the source's stream where it counts one, else by the layers merged.</summary>
    private LoadProgress Snapshot(int merged)
    {
        long streamed = _counter.BytesRead;
        if (streamed > 0) return new LoadProgress(merged, _feeds.Length, streamed, _counter.BytesExpected, _clock.Elapsed);
        long read = Interlocked.Read(ref _bytesRead);
        return new LoadProgress(merged, _feeds.Length, read, Math.Max(_total, read), _clock.Elapsed);
    }

    private static LayerReadOptions ReadOptions(LayerDescriptor r, LoadOptions options, bool inOrder) => new()
    {
        HashInBackground = inOrder,
        ComputeDigests = options.Verify,
        FileSha256 = options.FileSha256,
        LayerIndex = r.Index,
        BlobDigestAlgorithm = r.Digest?.StartsWith("sha512:", StringComparison.Ordinal) == true ? "sha512" : "sha256",
    };

    /// <summary>A layer taken from the cache: its blob still there, as reading it would have found (a missing file is an error with or without the cache); false when it is to be read.</summary>
    private bool CheckBlob(LayerDescriptor r, long storedSize)
    {
        try
        {
            return _image.Blobs.CheckPresent(r, storedSize);
        }
        catch (ImageException ex)
        {
            throw ex.InLayer(r.Index, r.Digest ?? r.DiffId);
        }
    }

    private static Stream OpenOne(IRandomAccessBlobs blobs, LayerDescriptor r)
    {
        try
        {
            return blobs.Open(r);
        }
        catch (ImageException ex)
        {
            throw ex.InLayer(r.Index, r.Digest ?? r.DiffId);
        }
    }

    private static LayerContents ReadOne(Stream blob, LayerDescriptor r, LoadOptions options, IEntrySink sink, CancellationToken ct, bool inOrder = false)
    {
        try
        {
            return LayerReader.Read(blob, ReadOptions(r, options, inOrder), sink, ct);
        }
        catch (ImageException ex)
        {
            throw ex.InLayer(r.Index, r.Digest ?? r.DiffId);
        }
    }
}
