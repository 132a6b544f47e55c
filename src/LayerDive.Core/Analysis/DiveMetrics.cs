using System.Runtime.InteropServices;
using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>A path dive discovered two or more times: every copy counts as waste (dive's open bug #684).</summary>
public sealed record Inefficiency(int Count, long CumulativeSize)
{
    // the path's node in the merged tree, or the path itself where the tree has none: the string is
    // built when asked (a list of every repeated path would otherwise hold a string each)
    internal object Key { get; init; } = "";

    /// <summary>The path as dive writes it ("/" and the path).</summary>
    public string Path => "/" + (Key as string ?? ((TreeNode)Key).Path);

    /// <summary>Writes <see cref="Path"/>, escaped (<see cref="PathText.Escape"/>), without making it: a list of 100,000 made as many, twice.</summary>
    internal void WriteEscapedPath(TextWriter w, ref char[] scratch)
    {
        if (Key is not TreeNode node)
        {
            w.Write(PathText.Escape(Path));
            return;
        }
        int length = node.Tree.PathLength(node.Number) + 1;
        if (scratch.Length < length) scratch = new char[Math.Max(length, scratch.Length * 2)];
        scratch[0] = '/';
        node.Tree.CopyPath(node.Number, scratch.AsSpan(1, length - 1));
        PathText.WriteEscaped(w, scratch.AsSpan(0, length));
    }
}

/// <summary>dive's efficiency figures (docs/metrics.md), to the last digit.</summary>
public sealed record DiveMetricsResult(
    double Efficiency,
    long SizeBytes,
    long UserSizeBytes,
    long WastedBytes,
    double UserWastedPercent,
    IReadOnlyList<Inefficiency> Inefficiencies);

/// <summary>
/// Reproduces dive's efficiency computation, bugs included, while the layers stream by. Per layer, dive
/// builds a tree of that layer's own entries (missing parents created implicitly, a whiteout marker
/// kept under its own name, an opaque marker's directory made) and visits its leaves: files, links,
/// devices, whiteout markers (path = the hidden path) and directories without children in that layer.
/// Each leaf is a discovery of its path, sized by its tar header; a whiteout is sized by the header
/// sizes of everything under the directory it hid in the merged view below (0 when it hid a file).
/// Paths are keyed by their node of the merged tree, so no path string is kept per entry.
/// </summary>
internal sealed class DiveMetrics : ILayerObserver
{
    private struct PathData
    {
        public long Cumulative;
        public long Minimum;
        public int Count;
    }


    // per path: by the node's number where the tree has a node, by the path itself where it has none
    // (orphan whiteouts, skipped hardlinks). Most paths are discovered once: for them a node keeps only
    // that size (plus one; 0 is "not discovered"), and the few found again have their figures aside.
    private readonly ChunkedArray<uint> _firstSize = new();
    private readonly Dictionary<int, long> _largeFirstSize = []; // a first size of 2^32 - 1 bytes or more
    private readonly Dictionary<int, PathData> _repeated = [];
    private readonly Dictionary<string, PathData> _byPath = new(StringComparer.Ordinal);
    private readonly List<object> _inefficient = [];
    private readonly List<long> _layerSizes = [];
    // the current layer's tree: its items that are nodes of the merged tree, and the others by name:
    // whiteout markers (dive keeps them under their own name; they count for the path they hide) and
    // entries the merge skipped
    // one bit a node for "an item of the layer's tree" and for "a parent in it", cleared at each layer
    private ulong[] _isItem = new ulong[64];
    // a node's place in the items + 1, made when a layer names a path twice (a dictionary of the layer's size
    // was 13 MB of garbage on the realistic million-file image)
    private readonly NodeIntMap _itemOf = new();
    private bool _itemOfMade;
    private ulong[] _isParent = new ulong[64];
    private readonly ChunkedArray<(int Node, uint Size)> _layerNodes = new(); // the first _layerNodeCount; a size of 2^32 - 1 or more in _largeItemSize
    private readonly Dictionary<int, long> _largeItemSize = [];
    private TreeStore? _tree;
    private int _layerNodeCount;
    private readonly Dictionary<string, (object Key, long Size)> _named = new(StringComparer.Ordinal);
    private readonly HashSet<string> _parentPaths = new(StringComparer.Ordinal);

    public void OnEntries(LayerInfo layer, MergedBatch batch)
    {
        var entries = batch.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            ref readonly var entry = ref entries[i];
            var node = batch.Node(i);
            switch (entry.Kind)
            {
                case RawKind.Entry:
                    if (node is { IsRoot: true }) continue; // the root is never a node of dive's tree
                    if (node is not { } written) _named[entry.Path] = (entry.Path, entry.Attributes!.Value.HeaderSize);
                    else SetItem(written, entry.Attributes!.Value.HeaderSize, later: true);
                    MarkParents(in batch, node, entry.Path);
                    break;
                case RawKind.Whiteout:
                    // sized once the layer is merged (what it hid is known by then)
                    _named[entry.MarkerPath!] = ((object?)node ?? entry.Path, 0);
                    MarkParents(in batch, node, entry.MarkerPath!);
                    break;
                case RawKind.Opaque:
                    if (entry.Path.Length == 0) continue;
                    if (node is not { } dir) _named.TryAdd(entry.Path, (entry.Path, 0));
                    else SetItem(dir, 0, later: false); // the directory, unless an entry made it already
                    MarkParents(in batch, node, entry.Path);
                    break;
            }
        }
    }

    /// <summary>Makes the node an item of the layer's tree; a <paramref name="later"/> entry replaces an earlier one.</summary>
    private void SetItem(TreeNode node, long size, bool later)
    {
        int number = node.Number;
        if (Test(_isItem, number))
        {
            if (!later) return; // an opaque marker after its directory's entry: nothing to change
            // a path the layer named twice (rare): where it is, from an index made the first time
            if (!_itemOfMade)
            {
                for (int i = 0; i < _layerNodeCount; i++) _itemOf.Set(_layerNodes[i].Node, i + 1);
                _itemOfMade = true;
            }
            SetItemSize(_itemOf.Get(number) - 1, size);
            return;
        }
        _tree ??= node.Tree;
        Set(ref _isItem, number);
        if (_itemOfMade) _itemOf.Set(number, _layerNodeCount + 1);
        _layerNodes[_layerNodeCount] = (number, 0);
        SetItemSize(_layerNodeCount++, size);
    }

    private static bool Test(ulong[] bits, int node) => (node >> 6) < bits.Length && (bits[node >> 6] & (1UL << node)) != 0;

    private static void Set(ref ulong[] bits, int node)
    {
        int word = node >> 6;
        if (word >= bits.Length) Array.Resize(ref bits, Math.Max(word + 1, bits.Length * 2));
        bits[word] |= 1UL << node;
    }

    private void SetItemSize(int item, long size)
    {
        _layerNodes[item].Size = size < uint.MaxValue ? (uint)size : uint.MaxValue;
        if (size >= uint.MaxValue) _largeItemSize[item] = size;
    }

    /// <summary>
    /// Notes that the parents of a node of dive's tree have children (by node, as they were when the
    /// entry merged; by path where the tree has no node or no parent for it).
    /// </summary>
    private void MarkParents(in MergedBatch batch, TreeNode? node, string path)
    {
        if ((node is { } n ? batch.Parent(n) : null) is not { } first)
        {
            for (var p = PathText.Parent(path); p.Length > 0; p = PathText.Parent(p))
                if (!_parentPaths.Add(p)) break;
            return;
        }
        for (TreeNode? p = first; p is { IsRoot: false } at; p = batch.Parent(at))
        {
            if (Test(_isParent, at.Number)) break; // its ancestors are marked already
            Set(ref _isParent, at.Number);
        }
    }

    public void OnLayerMerged(LayerInfo layer)
    {
        _layerSizes.Add(layer.Size);
        var whiteoutSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var w in layer.Whiteouts) whiteoutSizes[w.MarkerPath] = w.HiddenHeaderBytes;

        var newlyInefficient = new List<(string Path, object Key)>();
        for (int i = 0; i < _layerNodeCount; i++)
        {
            var (number, stored) = _layerNodes[i];
            long size = stored == uint.MaxValue ? _largeItemSize[i] : stored;
            var node = _tree!.Node(number);
            if (Test(_isParent, number) || (_parentPaths.Count > 0 && _parentPaths.Contains(node.Path))) continue;
            Discover(node, size, newlyInefficient);
        }
        foreach (var (name, (key, size)) in _named)
        {
            if (_parentPaths.Contains(name)) continue;
            // a whiteout weighs what it hid under a directory below
            Discover(key, whiteoutSizes.TryGetValue(name, out var hidden) ? hidden : size, newlyInefficient);
        }
        // dive visits each layer child-first with names sorted: for leaves, the order of their segments
        newlyInefficient.Sort((a, b) => PathText.CompareTreeOrder(a.Path, b.Path));
        _inefficient.AddRange(newlyInefficient.Select(x => x.Key));
        _layerNodeCount = 0; // the chunks stay for the next layer
        Array.Clear(_isParent);
        Array.Clear(_isItem);
        if (_itemOfMade) _itemOf.Clear();
        _itemOfMade = false;
        _largeItemSize.Clear();
        _named.Clear();
        _parentPaths.Clear();
    }

    /// <summary>A leaf of the layer's tree: one more discovery of its path (a node, or a path the tree has no node for).</summary>
    private void Discover(object key, long size, List<(string Path, object Key)> newlyInefficient)
    {
        if (key is TreeNode node)
        {
            Discover(node, size, newlyInefficient);
            return;
        }
        ref var data = ref CollectionsMarshal.GetValueRefOrAddDefault(_byPath, (string)key, out _);
        if (Count(ref data, size)) newlyInefficient.Add(((string)key, key));
    }

    private void Discover(TreeNode node, long size, List<(string Path, object Key)> newlyInefficient)
    {
        ref uint first = ref _firstSize[node.Number];
        if (first == 0)
        {
            if (size + 1 < uint.MaxValue) first = (uint)(size + 1);
            else (first, _largeFirstSize[node.Number]) = (uint.MaxValue, size);
            return;
        }
        ref var data = ref CollectionsMarshal.GetValueRefOrAddDefault(_repeated, node.Number, out bool seen);
        if (!seen) data = new PathData { Count = 1, Minimum = FirstSize(node.Number), Cumulative = FirstSize(node.Number) };
        if (Count(ref data, size)) newlyInefficient.Add((node.Path, node));
    }

    /// <summary>Counts a discovery; true when it is the path's second (the path just became inefficient).</summary>
    private static bool Count(ref PathData data, long size)
    {
        if (data.Count == 0 || size < data.Minimum) data.Minimum = size;
        data.Cumulative += size;
        data.Count++;
        return data.Count == 2;
    }

    private long FirstSize(int node) => _firstSize[node] == uint.MaxValue ? _largeFirstSize[node] : _firstSize[node] - 1;

    /// <summary>The figures of a path discovered more than once.</summary>
    private PathData Repeated(object key) => key is TreeNode node ? _repeated[node.Number] : _byPath[(string)key];

    public DiveMetricsResult Result()
    {
        long minimum = 0, discovered = 0;
        for (int i = 0; i < _firstSize.Capacity; i++)
        {
            if (_firstSize[i] == 0 || _repeated.ContainsKey(i)) continue;
            minimum += FirstSize(i);
            discovered += FirstSize(i);
        }
        foreach (var d in _repeated.Values.Concat(_byPath.Values))
        {
            minimum += d.Minimum;
            discovered += d.Cumulative;
        }
        double efficiency = discovered == 0 ? 1.0 : (double)minimum / discovered;
        // dive sorts ascending by size in discovery order (stable for short lists) and reports in reverse
        var inefficiencies = _inefficient
            .Select(k =>
            {
                var d = Repeated(k);
                return new Inefficiency(d.Count, d.Cumulative) { Key = k };
            })
            .OrderBy(i => i.CumulativeSize)
            .Reverse()
            .ToList();
        long size = _layerSizes.Sum();
        long userSize = _layerSizes.Skip(1).Sum();
        long wasted = inefficiencies.Sum(i => i.CumulativeSize);
        // as dive divides: no user bytes make NaN (no waste either) or +Inf (waste in the base layer alone)
        return new DiveMetricsResult(efficiency, size, userSize, wasted, (double)wasted / userSize, inefficiencies);
    }
}
