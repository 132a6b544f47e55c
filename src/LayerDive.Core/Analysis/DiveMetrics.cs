using System.Runtime.InteropServices;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>A path dive discovered two or more times: every copy counts as waste (dive's open bug #684).</summary>
public sealed record Inefficiency(string Path, int Count, long CumulativeSize);

/// <summary>dive's efficiency figures (SPEC §4), to the last digit.</summary>
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
public sealed class DiveMetrics : ILayerObserver
{
    private struct PathData
    {
        public long Cumulative;
        public long Minimum;
        public int Count;
    }

    /// <summary>A node of dive's tree of the current layer: the path it counts for, and its size.</summary>
    private readonly record struct Item(object Key, long Size);

    // keys: the merged tree's node for a path, or the path itself where the tree has no node (orphan whiteouts)
    private readonly Dictionary<object, PathData> _paths = [];
    private readonly List<object> _inefficient = [];
    private readonly List<long> _layerSizes = [];
    // the current layer's tree: its nodes by identity (a node, or a marker's path), and the nodes that have children
    private readonly Dictionary<object, Item> _items = [];
    private readonly HashSet<TreeNode> _parents = [];
    private readonly HashSet<string> _parentPaths = new(StringComparer.Ordinal);

    public void OnEntry(LayerInfo layer, in RawEntry entry, TreeNode? node)
    {
        switch (entry.Kind)
        {
            case RawKind.Entry:
                if (node is { IsRoot: true }) return; // the root is never a node of dive's tree
                _items[(object?)node ?? entry.Path] = new Item((object?)node ?? entry.Path, entry.Attributes!.HeaderSize);
                MarkParents(node?.Parent, entry.Path);
                break;
            case RawKind.Whiteout:
                // sized once the layer is merged (what it hid is known by then)
                _items[entry.MarkerPath!] = new Item((object?)node ?? entry.Path, 0);
                MarkParents(node?.Parent, entry.MarkerPath!);
                break;
            case RawKind.Opaque:
                if (entry.Path.Length == 0) return;
                object id = (object?)node ?? entry.Path;
                if (!_items.ContainsKey(id)) _items[id] = new Item(id, 0);
                MarkParents(node?.Parent, entry.Path);
                break;
        }
    }

    /// <summary>Notes that the parents of a node of dive's tree have children (by node, or by path where the tree has none).</summary>
    private void MarkParents(TreeNode? parent, string path)
    {
        if (parent is null)
        {
            for (var p = PathText.Parent(path); p.Length > 0; p = PathText.Parent(p))
                if (!_parentPaths.Add(p)) break;
            return;
        }
        for (var p = parent; p is { IsRoot: false }; p = p.Parent)
            if (!_parents.Add(p)) break;
    }

    public void OnLayerMerged(LayerInfo layer)
    {
        _layerSizes.Add(layer.Size);
        var whiteoutSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var w in layer.Whiteouts) whiteoutSizes[w.MarkerPath] = w.HiddenHeaderBytes;

        var newlyInefficient = new List<(string Path, object Key)>();
        foreach (var (id, item) in _items)
        {
            if (id is TreeNode t && _parents.Contains(t)) continue;
            if (_parentPaths.Count > 0 && _parentPaths.Contains(id as string ?? ((TreeNode)id).Path)) continue;
            // a whiteout weighs what it hid under a directory below
            long size = id is string marker && whiteoutSizes.TryGetValue(marker, out var hidden) ? hidden : item.Size;
            ref var data = ref CollectionsMarshal.GetValueRefOrAddDefault(_paths, item.Key, out bool existed);
            if (!existed) data.Minimum = -1;
            data.Cumulative += size;
            if (data.Minimum < 0 || size < data.Minimum) data.Minimum = size;
            data.Count++;
            if (data.Count == 2) newlyInefficient.Add((id as string ?? ((TreeNode)id).Path, item.Key));
        }
        // dive visits each layer child-first with names sorted: for leaves, the order of their segments
        newlyInefficient.Sort((a, b) => PathText.CompareTreeOrder(a.Path, b.Path));
        _inefficient.AddRange(newlyInefficient.Select(x => x.Key));
        _items.Clear();
        _parents.Clear();
        _parentPaths.Clear();
    }

    private static string PathOf(object key) => "/" + (key as string ?? ((TreeNode)key).Path);

    public DiveMetricsResult Result()
    {
        long minimum = 0, discovered = 0;
        foreach (var d in _paths.Values)
        {
            minimum += d.Minimum;
            discovered += d.Cumulative;
        }
        double efficiency = discovered == 0 ? 1.0 : (double)minimum / discovered;
        // dive sorts ascending by size in discovery order (stable for short lists) and reports in reverse
        var inefficiencies = _inefficient
            .Select(k => new Inefficiency(PathOf(k), _paths[k].Count, _paths[k].Cumulative))
            .OrderBy(i => i.CumulativeSize)
            .Reverse()
            .ToList();
        long size = _layerSizes.Sum();
        long userSize = _layerSizes.Skip(1).Sum();
        long wasted = inefficiencies.Sum(i => i.CumulativeSize);
        return new DiveMetricsResult(efficiency, size, userSize, wasted, userSize == 0 ? 0 : (double)wasted / userSize, inefficiencies);
    }
}
