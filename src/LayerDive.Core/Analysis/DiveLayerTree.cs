using LayerDive.Core.Layers;

namespace LayerDive.Core.Analysis;

/// <summary>A node of dive's tree of one layer: the entry that put it there (null for an implicit parent), and whether it has children.</summary>
internal readonly record struct DiveLayerNode(RawEntry? Entry, bool HasChildren);

/// <summary>
/// dive's view of one layer, as its export lists it: the tree of that layer's own
/// entries, missing parents created implicitly, a whiteout marker kept under its own name, an opaque
/// marker refused after its directory was made, the root never a node, the later entry of a path winning.
/// </summary>
internal static class DiveLayerTree
{
    public static Dictionary<string, DiveLayerNode> Build(IEnumerable<RawEntry> entries)
    {
        var nodes = new Dictionary<string, RawEntry?>(StringComparer.Ordinal);
        var hasChildren = new HashSet<string>(StringComparer.Ordinal);
        void Add(string path, RawEntry? entry)
        {
            if (path.Length == 0) return;
            if (entry is not null || !nodes.ContainsKey(path)) nodes[path] = entry;
            for (var parent = PathText.Parent(path); parent.Length > 0; parent = PathText.Parent(parent))
            {
                nodes.TryAdd(parent, null);
                if (!hasChildren.Add(parent)) break; // its ancestors are in already
            }
        }
        foreach (var e in entries)
        {
            switch (e.Kind)
            {
                case RawKind.Entry: Add(e.Path, e); break;
                case RawKind.Whiteout: Add(e.MarkerPath!, e); break;
                case RawKind.Opaque: Add(e.Path, null); break;
            }
        }
        return nodes.ToDictionary(n => n.Key, n => new DiveLayerNode(n.Value, hasChildren.Contains(n.Key)), StringComparer.Ordinal);
    }
}
