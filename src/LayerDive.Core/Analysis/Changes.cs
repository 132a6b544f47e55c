using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>One path's change in a view: what it became (or what was removed) and why.</summary>
public readonly record struct PathChange(TreeNode Node, ChangeKind Kind, EntryAttributes Attributes, AttributeChange Changed, RemovalCause Cause)
{
    /// <summary>The node's path, built when asked (a view of a deep tree holding every path would hold its depth squared).</summary>
    public string Path => Node.Path;
}

/// <summary>Views of the shared tree: the changes of one layer, or of layers 1..N over layer 0 (dive's aggregate).</summary>
public static class Changes
{
    /// <summary>Every path layer <paramref name="layer"/> wrote or removed, sorted by path (its UTF-8 bytes).</summary>
    public static List<PathChange> OfLayer(ImageModel model, int layer)
    {
        var list = new List<PathChange>();
        foreach (var node in model.AllNodes())
            if (node.RecordIn(layer) is { } r)
                list.Add(new PathChange(node, r.Kind, r.Attributes, r.Changed, r.Cause));
        var ranks = model.PathRanks();
        list.Sort((a, b) => ranks[a.Node.Number].CompareTo(ranks[b.Node.Number]));
        return list;
    }

    /// <summary>
    /// The changes of layers 1..<paramref name="layer"/> taken together, against layer 0: a path added
    /// and removed again in between does not appear.
    /// </summary>
    public static List<PathChange> Aggregated(ImageModel model, int layer)
    {
        var list = new List<PathChange>();
        foreach (var node in model.AllNodes())
        {
            var h = node.History;
            bool touched = false;
            foreach (var r in h)
                if (r.Layer >= 1 && r.Layer <= layer) { touched = true; break; }
            if (!touched) continue;
            var before = node.StateAt(0);
            var after = node.StateAt(layer)!.Value;
            bool was = before is { IsPresent: true }, isNow = after.IsPresent;
            if (!was && !isNow) continue;
            if (!was)
                list.Add(new PathChange(node, ChangeKind.Added, after.Attributes, AttributeChange.None, RemovalCause.None));
            else if (!isNow)
                list.Add(new PathChange(node, ChangeKind.Removed, before!.Value.Attributes, AttributeChange.None, after.Cause));
            else
            {
                var diff = before!.Value.Attributes.Diff(after.Attributes);
                list.Add(new PathChange(node, diff == AttributeChange.None ? ChangeKind.Unmodified : ChangeKind.Modified, after.Attributes, diff, RemovalCause.None));
            }
        }
        var ranks = model.PathRanks();
        list.Sort((a, b) => ranks[a.Node.Number].CompareTo(ranks[b.Node.Number]));
        return list;
    }
}
