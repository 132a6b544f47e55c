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
/// Reproduces dive's efficiency computation, bugs included, in the loading pass. Per layer, dive builds
/// a tree of that layer's own entries (missing parents created implicitly, <c>.wh..wh.*</c> names
/// refused) and visits its leaves: files, links, devices, whiteout markers (path = the hidden path)
/// and directories without children in that layer. Each leaf is a discovery of its path, sized by its
/// tar header; a whiteout is sized by the header sizes of everything under the directory it hid in
/// the merged view below (0 when it hid a file).
/// </summary>
public sealed class DiveMetrics : ILayerObserver
{
    private struct PathData
    {
        public long Cumulative;
        public long Minimum;
        public int Count;
    }

    private readonly Dictionary<string, PathData> _paths = new(StringComparer.Ordinal);
    private readonly List<string> _inefficient = [];
    private readonly List<long> _layerSizes = [];

    public void OnLayerMerged(LayerInfo layer, LayerContents contents)
    {
        _layerSizes.Add(layer.Size);

        var tree = DiveLayerTree.Build(contents);
        var whiteoutSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var w in layer.Whiteouts) whiteoutSizes[w.MarkerPath] = w.HiddenHeaderBytes;

        // dive visits each layer child-first with names sorted: for leaves, the order of their segments
        var leaves = tree.Where(n => !n.Value.HasChildren).Select(n => n.Key).ToList();
        leaves.Sort(PathText.CompareTreeOrder);
        foreach (var path in leaves)
        {
            var entry = tree[path].Entry;
            // a whiteout weighs what it hid under a directory below; an implicit parent weighs nothing
            long size = entry switch
            {
                { Kind: RawKind.Whiteout } w => whiteoutSizes.GetValueOrDefault(w.MarkerPath!),
                { } e => e.Attributes!.HeaderSize,
                null => 0,
            };
            string key = "/" + (entry is { Kind: RawKind.Whiteout } wh ? wh.Path : path);
            ref var data = ref CollectionsMarshal.GetValueRefOrAddDefault(_paths, key, out bool existed);
            if (!existed) data.Minimum = -1;
            data.Cumulative += size;
            if (data.Minimum < 0 || size < data.Minimum) data.Minimum = size;
            data.Count++;
            if (data.Count == 2) _inefficient.Add(key);
        }
    }

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
            .Select(p => new Inefficiency(p, _paths[p].Count, _paths[p].Cumulative))
            .OrderBy(i => i.CumulativeSize)
            .Reverse()
            .ToList();
        long size = _layerSizes.Sum();
        long userSize = _layerSizes.Skip(1).Sum();
        long wasted = inefficiencies.Sum(i => i.CumulativeSize);
        return new DiveMetricsResult(efficiency, size, userSize, wasted, userSize == 0 ? 0 : (double)wasted / userSize, inefficiencies);
    }
}
