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

        // The layer's own tree: node path -> header size of its payload (0 for implicit parents),
        // whiteout markers under their own name, as dive keeps them.
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var whiteoutOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var hasChild = new HashSet<string>(StringComparer.Ordinal);
        var whiteoutSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var w in layer.Whiteouts) whiteoutSizes[w.MarkerPath] = w.HiddenHeaderBytes;

        void AddNode(string path, long size, bool payload)
        {
            if (path.Length == 0) return; // the root is never visited
            if (payload || !sizes.ContainsKey(path)) sizes[path] = payload ? size : 0;
            for (var parent = PathText.Parent(path); parent.Length > 0; parent = PathText.Parent(parent))
            {
                if (!sizes.ContainsKey(parent)) sizes[parent] = 0;
                if (!hasChild.Add(parent)) break;
            }
        }

        foreach (var e in contents.Entries)
        {
            switch (e.Kind)
            {
                case RawKind.Entry:
                    AddNode(e.Path, e.Attributes!.HeaderSize, payload: true);
                    break;
                case RawKind.Whiteout:
                    AddNode(e.MarkerPath!, whiteoutSizes.GetValueOrDefault(e.MarkerPath!), payload: true);
                    whiteoutOf[e.MarkerPath!] = e.Path;
                    break;
                case RawKind.Opaque:
                    // dive refuses the marker after creating its parents: the directory exists, childless unless other entries say otherwise
                    AddNode(e.Path, 0, payload: false);
                    break;
            }
        }

        // dive visits each layer child-first with names sorted: for leaves, the order of their segments
        var leaves = sizes.Keys.Where(p => !hasChild.Contains(p)).ToList();
        leaves.Sort(PathText.CompareTreeOrder);
        foreach (var path in leaves)
        {
            long size = sizes[path];
            string key = "/" + (whiteoutOf.TryGetValue(path, out var hidden) ? hidden : path);
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
