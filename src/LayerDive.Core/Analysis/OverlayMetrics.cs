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

        /// <summary>
        /// <see cref="Contains(int, long)"/> for the stored version <paramref name="attr"/> of <paramref name="node"/>, whose
        /// identity is <paramref name="inode"/>. In a tree without hardlinks a file's identity is its version's own,
        /// so the version in force is compared by its index, its attributes not read (a read far off for each copy).
        /// </summary>
        internal bool Contains(int node, int attr, long inode) =>
            _tree.HasHardlinks ? Contains(node, inode) : _tree.TryStateAt(node, _top, out var now) && now.IsPresent && now.Attr == attr;
    }

    // the characters of the items' paths written out at most (64 MiB as bytes); past it (a crafted image of a deep
    // tree whose files are written twice) they are compared where they lie in the tree, which is slower but holds nothing
    private const long PathBudget = 1L << 26;

    /// <summary>
    /// The items by size (largest first), then path (as string.CompareOrdinal orders them), then the layer that
    /// stored them. The paths are written a byte a character where every name is narrow (nearly always: half
    /// the memory, the same order), else a character each; past <paramref name="pathBudget"/> characters in
    /// all, compared in the tree from where they part.
    /// </summary>
    internal static List<RemovableItem> ByPath(List<RemovableItem> items, TreeStore tree, long pathBudget)
    {
        var start = new int[items.Count + 1];
        long total = 0;
        for (int i = 0; i < items.Count; i++)
        {
            total += tree.PathLength(items[i].Node.Number);
            if (total > pathBudget) return ByPathInTree(items, tree);
            start[i + 1] = (int)total;
        }
        var bytes = new byte[start[^1]];
        bool narrow = true;
        for (int i = 0; i < items.Count && narrow; i++) narrow = tree.CopyNarrowPath(items[i].Node.Number, bytes.AsSpan(start[i], start[i + 1] - start[i]));
        char[]? chars = null;
        if (!narrow)
        {
            bytes = [];
            chars = new char[start[^1]];
            for (int i = 0; i < items.Count; i++) tree.CopyPath(items[i].Node.Number, chars.AsSpan(start[i], start[i + 1] - start[i]));
        }
        var order = new int[items.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) =>
        {
            RemovableItem a = items[x], b = items[y];
            if (a.Bytes != b.Bytes) return b.Bytes.CompareTo(a.Bytes);
            int byPath = chars is null
                ? bytes.AsSpan(start[x], start[x + 1] - start[x]).SequenceCompareTo(bytes.AsSpan(start[y], start[y + 1] - start[y]))
                : chars.AsSpan(start[x], start[x + 1] - start[x]).SequenceCompareTo(chars.AsSpan(start[y], start[y + 1] - start[y]));
            return byPath != 0 ? byPath : a.StoredBy.CompareTo(b.StoredBy);
        });
        var sorted = new List<RemovableItem>(items.Count);
        foreach (int i in order) sorted.Add(items[i]);
        return sorted;
    }

    /// <summary><see cref="ByPath"/>'s order, the paths compared in the tree from where they part (each path's depth counted once).</summary>
    private static List<RemovableItem> ByPathInTree(List<RemovableItem> items, TreeStore tree)
    {
        var keyed = new (RemovableItem Item, int Depth)[items.Count];
        for (int i = 0; i < keyed.Length; i++) keyed[i] = (items[i], tree.Depth(items[i].Node.Number));
        Array.Sort(keyed, (x, y) =>
            y.Item.Bytes != x.Item.Bytes ? y.Item.Bytes.CompareTo(x.Item.Bytes)
            : x.Item.Node == y.Item.Node ? x.Item.StoredBy.CompareTo(y.Item.StoredBy)
            : tree.ComparePathsOrdinal(x.Item.Node.Number, x.Depth, y.Item.Node.Number, y.Depth));
        return [.. keyed.Select(k => k.Item)];
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
        // a total order (a path may be stored by several layers): the nodes come in no particular order; items of
        // equal size go by path, the paths written once, one after another, and compared as text (a comparison
        // that walked the tree to where two paths part, many times an item, was most of the figures' 0.13 s on
        // the synthetic million-file image, whose 98,000 removable files all have one size)
        items = ByPath(items, model.Root.Tree, PathBudget);
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
