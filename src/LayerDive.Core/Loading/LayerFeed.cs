using System.Runtime.InteropServices;
using LayerDive.Core.Layers;

namespace LayerDive.Core.Loading;

/// <summary>
/// Takes one layer's entries from its reader: straight into the merge while the layer is the lowest
/// unmerged one (in runs, under the model's lock), held until then otherwise.
/// </summary>
internal sealed class LayerFeed(LoadRun run, int index, bool bounded) : IEntrySink
{
    private const int RunLength = 256;
    /// <summary>Entries a layer above may hold before its reader waits for the layers below.</summary>
    private const int MaxHeld = 1 << 13;

    private readonly object _gate = new();
    private readonly ManualResetEventSlim _wentLive = new(false);
    private readonly List<RawEntry> _run = new(RunLength);
    private List<RawEntry>? _held = [];
    private volatile bool _live;
    private LayerContents? _read;

    public void Add(in RawEntry entry)
    {
        if (!_live && Hold(entry)) return;
        _run.Add(entry);
        if (_run.Count == RunLength) Flush();
    }

    private bool Hold(in RawEntry entry)
    {
        bool full;
        lock (_gate)
        {
            if (_live) return false;
            _held!.Add(entry);
            full = bounded && _held.Count >= MaxHeld;
        }
        if (full) _wentLive.Wait(run.Token); // bounded memory: the layers below catch up first
        return true;
    }

    private void Flush()
    {
        run.Apply(index, CollectionsMarshal.AsSpan(_run));
        _run.Clear();
    }

    /// <summary>The reader read the whole layer: it finishes the layer itself if live, else leaves that to whoever makes it live.</summary>
    public void ReaderDone(LayerContents contents)
    {
        if (!_live)
        {
            lock (_gate)
            {
                if (!_live)
                {
                    _read = contents;
                    return;
                }
            }
        }
        Flush();
        run.Advance(index, contents);
    }

    /// <summary>
    /// Makes the layer live: merges what it holds, then lets its reader merge the rest itself.
    /// Returns true, with the layer's contents, when the reader was done already (the caller finishes the layer).
    /// </summary>
    public bool GoLive(out LayerContents? read)
    {
        while (true)
        {
            List<RawEntry> held;
            lock (_gate)
            {
                if (_held!.Count == 0)
                {
                    _held = null;
                    _live = true;
                    read = _read;
                    _read = null;
                    break;
                }
                held = _held;
                _held = [];
            }
            run.Apply(index, CollectionsMarshal.AsSpan(held));
        }
        _wentLive.Set();
        return read is not null;
    }
}

internal sealed class TeeSink(IEntrySink[] sinks) : IEntrySink
{
    public void Add(in RawEntry entry)
    {
        foreach (var s in sinks) s.Add(entry);
    }
}
