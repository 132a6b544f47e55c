using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>Why stored bytes are not in the final tree.</summary>
public enum WasteReason
{
    /// <summary>A later layer wrote the path again with other content or metadata (a copy-up).</summary>
    Replaced,
    /// <summary>A later layer wrote the path again, identical.</summary>
    RewrittenUnchanged,
    /// <summary>A whiteout hid it (or its directory).</summary>
    WhitedOut,
    /// <summary>An opaque directory cut it off.</summary>
    Opaque,
    /// <summary>A directory above it was replaced by a non-directory.</summary>
    ParentReplaced,
}

/// <summary>Bytes one layer stored that another layer made invisible.</summary>
public sealed record RemovableItem(TreeNode Node, long Bytes, int StoredBy, int WastedBy, WasteReason Reason)
{
    /// <summary>The path, built when asked (a list of every removable copy would otherwise hold a string each).</summary>
    public string Path => Node.Path;
}

/// <summary>The overlay metrics of docs/metrics.md: what a rebuild could really save under the merge of docs/merge.md.</summary>
public sealed record OverlayMetricsResult(long RemovableBytes, double OverlayEfficiency, double RemovablePercent, IReadOnlyList<RemovableItem> Items);

public static class OverlayMetrics
{
    /// <summary>
    /// Which stored contents are visible after the top layer, under any name. A content (an inode) has
    /// one name unless hardlinks give it more: it is visible where its own path still shows it, or where
    /// a visible hardlink names it. Only the hardlinked inodes are kept (a set of every visible file's
    /// inode cost 20-40 bytes a file at the end of a run, its peak on a large image).
    /// </summary>
    internal sealed class VisibleContent
    {
        private readonly int _top;
        private readonly TreeStore _tree;
        private readonly HashSet<long> _linked = [];

        internal VisibleContent(ImageModel model)
        {
            _top = model.TopLayer;
            _tree = model.Root.Tree;
            // a path present after the top layer has every ancestor present (the merge removes a subtree
            // whole), so no walk in name order is needed: every node is looked at once, in any order
            var tree = _tree;
            if (!tree.HasHardlinks) return;
            // read where the versions lie: attributes built per path (a link's with its targets as strings)
            // were 20 MB of garbage on a million-file image
            foreach (var node in model.AllNodes())
                if (tree.TryStateAt(node.Number, _top, out var now) && now.IsPresent && tree.IsHardlinkFile(now.Attr))
                    _linked.Add(tree.InodeOf(now.Attr));
        }

        /// <summary>True when the content <paramref name="stored"/> (a record of <paramref name="node"/>) is still visible.</summary>
        public bool Contains(TreeNode node, EntryAttributes stored) => Contains(node.Number, stored.Inode);

        /// <summary>True when the content known by <paramref name="inode"/> (a stored file of <paramref name="node"/>) is still visible, without building attributes.</summary>
        internal bool Contains(int node, long inode) =>
            _tree.TryStateAt(node, _top, out var now) && now.IsPresent && _tree.InodeOf(now.Attr) == inode || _linked.Contains(inode);
    }

    /// <summary>The contents visible after the top layer, under any name.</summary>
    internal static VisibleContent VisibleInodes(ImageModel model) => new(model);

    /// <summary>
    /// Every file content stored in a layer and not visible after the top layer: earlier copies of
    /// paths later replaced or rewritten, and everything hidden by whiteouts, opaque directories and
    /// type changes. Content shared by hardlinks counts once, and not at all while any of its names
    /// is still visible.
    /// </summary>
    public static OverlayMetricsResult Compute(ImageModel model) => Compute(model, VisibleInodes(model));

    /// <inheritdoc cref="Compute(ImageModel)"/>
    /// <param name="visibleInodes">the model's <see cref="VisibleInodes"/>, shared with the advice where both run</param>
    internal static OverlayMetricsResult Compute(ImageModel model, VisibleContent visibleInodes)
    {
        var items = new List<RemovableItem>();
        foreach (var node in model.AllNodes())
        {
            var h = node.History;
            // a record counts when a later one made it invisible: a path written once (most) has none
            if (h.Length < 2) continue;
            for (int i = 0; i < h.Length; i++)
            {
                var r = h[i];
                var a = r.Attributes;
                if (!r.IsPresent || a.Type != FileType.File || a.HardlinkTarget is not null || r.Layer < 0) continue;
                if (visibleInodes.Contains(node, a) || i + 1 >= h.Length) continue;
                var next = h[i + 1];
                var reason = next.Kind switch
                {
                    ChangeKind.Unmodified => WasteReason.RewrittenUnchanged,
                    ChangeKind.Removed => next.Cause switch
                    {
                        RemovalCause.Opaque => WasteReason.Opaque,
                        RemovalCause.AncestorReplaced => WasteReason.ParentReplaced,
                        _ => WasteReason.WhitedOut,
                    },
                    _ => WasteReason.Replaced,
                };
                items.Add(new RemovableItem(node, a.Size, r.Layer, next.Layer, reason));
            }
        }
        // a total order (a path may be stored by several layers): the nodes come in no particular order;
        // items of equal size go by path, compared where the paths part, without making them (each
        // path's depth counted once: equal sizes are common, and a sort compares each item many times)
        var tree = model.Root.Tree;
        var keyed = new (RemovableItem Item, int Depth)[items.Count];
        for (int i = 0; i < keyed.Length; i++) keyed[i] = (items[i], tree.Depth(items[i].Node.Number));
        Array.Sort(keyed, (x, y) =>
            y.Item.Bytes != x.Item.Bytes ? y.Item.Bytes.CompareTo(x.Item.Bytes)
            : x.Item.Node == y.Item.Node ? x.Item.StoredBy.CompareTo(y.Item.StoredBy)
            : tree.ComparePathsOrdinal(x.Item.Node.Number, x.Depth, y.Item.Node.Number, y.Depth));
        for (int i = 0; i < keyed.Length; i++) items[i] = keyed[i].Item;
        long removable = items.Sum(i => i.Bytes);
        long size = model.SizeBytes;
        long userSize = model.Layers.Skip(1).Sum(l => l.Size);
        return new OverlayMetricsResult(
            removable,
            size == 0 ? 1.0 : 1.0 - (double)removable / size,
            userSize == 0 ? 0 : (double)removable / userSize,
            items);
    }
}
