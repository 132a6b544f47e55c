using LayerDive.Core;
using System.Text.RegularExpressions;
using LayerDive.Core.Model;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The file tree pane's rows: the merged tree after the selected layer, annotated with that
/// layer's changes (or layers 1..N against layer 0), flattened into rows over the expanded
/// directories only. UI state (collapsed, filters, sort) lives here, keyed by node; the model is
/// never copied or changed.
/// </summary>
public sealed class TreeRows(ImageModel model)
{
    private readonly HashSet<TreeNode> _collapsed = [];

    public int Layer { get; set; }
    public bool Aggregate { get; set; }
    public bool SortBySize { get; set; }
    public HashSet<RowStatus> Hidden { get; } = [];
    public Regex? Filter { get; set; }

    /// <summary>
    /// Compare mode (<c>layerdive diff A B</c>): the status of a path is its difference from image A's final
    /// tree (added, modified or unchanged) rather than what the selected layer did.
    /// </summary>
    public ImageModel? CompareWith { get; set; }

    // each node's counterpart in A, by node number: found from its parent's, once
    private readonly Dictionary<int, TreeNode?> _counterpart = [];

    /// <summary>The node at the same path in A (<see cref="CompareWith"/>), or null.</summary>
    public TreeNode? Counterpart(TreeNode node)
    {
        var a = CompareWith!;
        if (node.IsRoot) return a.Root;
        if (_counterpart.TryGetValue(node.Number, out var known)) return known;
        var path = new Stack<TreeNode>();
        for (var n = node; !n.IsRoot && !_counterpart.ContainsKey(n.Number); n = n.Parent!.Value) path.Push(n);
        while (path.Count > 0)
        {
            var n = path.Pop();
            var up = n.Parent!.Value;
            var parent = up.IsRoot ? a.Root : _counterpart[up.Number];
            _counterpart[n.Number] = parent?.Child(n.Name);
        }
        return _counterpart[node.Number];
    }

    public bool IsCollapsed(TreeNode node) => _collapsed.Contains(node);

    public void Toggle(TreeNode node)
    {
        if (!_collapsed.Remove(node)) _collapsed.Add(node);
    }

    public void SetAllCollapsed(bool collapsed)
    {
        _collapsed.Clear();
        if (!collapsed) return;
        model.Read(m => // the image may still be being read
        {
            foreach (var n in m.AllNodes())
                if (!n.IsRoot && n.ChildCount > 0) _collapsed.Add(n);
            return _collapsed.Count;
        });
    }

    /// <summary>What the selected view says of a node (null: not shown at all after this layer).</summary>
    public (RowStatus Status, EntryAttributes Attributes)? StatusOf(TreeNode node)
    {
        var now = node.StateAt(Layer);
        if (CompareWith is { } a)
        {
            if (now is not { IsPresent: true } present) return null;
            var there = Counterpart(node)?.StateAt(a.TopLayer);
            if (there is not { IsPresent: true } other) return (RowStatus.Added, present.Attributes);
            return (other.Attributes.Diff(present.Attributes) & ~AttributeChange.MTime) == AttributeChange.None
                ? (RowStatus.Unchanged, present.Attributes) : (RowStatus.Modified, present.Attributes);
        }
        if (Aggregate)
        {
            var before = node.StateAt(0);
            bool was = before is { IsPresent: true }, isNow = now is { IsPresent: true };
            if (!isNow) return was && Layer > 0 && now is { } r && r.Layer >= 1 ? (RowStatus.Removed, before!.Value.Attributes) : null;
            if (!was) return Layer > 0 ? (RowStatus.Added, now!.Value.Attributes) : (RowStatus.Unchanged, now!.Value.Attributes);
            bool touched = false;
            foreach (var h in node.History) if (h.Layer >= 1 && h.Layer <= Layer) { touched = true; break; }
            if (!touched) return (RowStatus.Unchanged, now!.Value.Attributes);
            return before!.Value.Attributes.Diff(now!.Value.Attributes) == AttributeChange.None
                ? (RowStatus.Unmodified, now.Value.Attributes) : (RowStatus.Modified, now.Value.Attributes);
        }
        if (now is not { } state) return null;
        if (state.Layer == Layer)
        {
            return state.Kind switch
            {
                ChangeKind.Added => (RowStatus.Added, state.Attributes),
                ChangeKind.Modified => (RowStatus.Modified, state.Attributes),
                ChangeKind.Removed => (RowStatus.Removed, state.Attributes),
                _ => (RowStatus.Unmodified, state.Attributes),
            };
        }
        return state.IsPresent ? (RowStatus.Unchanged, state.Attributes) : null;
    }

    /// <summary>
    /// The rows, depth first; a directory shows Modified when something beneath it changed (as dive does).
    /// Built through <see cref="ImageModel.Read{T}"/>, as the layers above may still be being merged; the
    /// rows keep what they show (a merged layer's records never change), so drawing them needs no lock.
    /// </summary>
    public List<TreeRow> Build() => model.Read(_ => BuildRows());

    private List<TreeRow> BuildRows()
    {
        _opaque.Clear();
        if (Layer >= 0 && Layer < model.Layers.Count)
            foreach (var d in model.Layers[Layer].OpaqueDirectories)
                if (model.Find(d) is { } n) _opaque.Add(n);
        return Flatten(Kept());
    }

    private readonly HashSet<TreeNode> _opaque = [];

    /// <summary>A directory being turned into rows: its shown children, the next to look at, and what was kept.</summary>
    private sealed class Frame(TreeRow? row, int depth, int pathLength)
    {
        public readonly TreeRow? Row = row;
        public readonly int Depth = depth;
        /// <summary>The length of the directory's path, at the start of the path buffer while the frame is on top.</summary>
        public readonly int PathLength = pathLength;
        public readonly List<(TreeNode Node, RowStatus Status, EntryAttributes Attributes)> Children = [];
        public int Next;
        public readonly List<TreeRow> Kept = [];
        public bool AnyChanged;
        public long Total;
        /// <summary>The child whose subtree is being built.</summary>
        public (TreeRow Row, RowStatus Status, EntryAttributes Attributes, int PathLength) Pending;
    }

    // the path of the node being judged, for the filter: each child's name written after its parent's
    // path, so that no path is ever built whole per node (a deep tree's paths together are its depth squared)
    private char[] _path = new char[256];

    private int WritePath(int parentLength, string name)
    {
        name = PathText.Escape(name); // the filter sees the path as the tree shows it (\xHH for bytes that are not UTF-8)
        int at = parentLength == 0 ? 0 : parentLength + 1;
        int length = at + name.Length;
        if (length > _path.Length) Array.Resize(ref _path, Math.Max(length, _path.Length * 2));
        if (at > 0) _path[parentLength] = '/';
        name.CopyTo(_path.AsSpan(at));
        return length;
    }

    private Frame Open(TreeNode dir, TreeRow? row, int depth, int pathLength)
    {
        var f = new Frame(row, depth, pathLength);
        foreach (var c in dir.AllChildren)
            if (StatusOf(c) is { } s) f.Children.Add((c, s.Status, s.Attributes));
        f.Children.Sort((a, b) => string.CompareOrdinal(a.Node.Name, b.Node.Name));
        return f;
    }

    /// <summary>
    /// The kept rows of the root's children, each kept directory row holding its own: built with a
    /// stack of its own, each subtree before its row is judged (its size, whether a change lies
    /// beneath), so that a tree thousands of directories deep costs its size, never the call stack.
    /// </summary>
    private List<TreeRow> Kept()
    {
        var stack = new Stack<Frame>();
        stack.Push(Open(model.Root, null, 0, 0));
        while (true)
        {
            var f = stack.Peek();
            if (f.Next < f.Children.Count)
            {
                var (node, status, attributes) = f.Children[f.Next++];
                int path = Filter is null ? 0 : WritePath(f.PathLength, node.Name);
                // the row exists before its children so that they can point at it; it is dropped if filtered out
                var row = new TreeRow(node, f.Depth, status, attributes, f.Row, _collapsed.Contains(node), 0, _opaque.Contains(node));
                // a directory replaced by a file still shows the children that layer removed, in red
                if (attributes.IsDirectory || node.ChildCount > 0)
                {
                    f.Pending = (row, status, attributes, path);
                    stack.Push(Open(node, row, f.Depth + 1, path));
                }
                else Judge(f, row, status, attributes, path, null);
                continue;
            }
            stack.Pop();
            if (SortBySize) f.Kept.Sort((a, b) => b.Size != a.Size ? b.Size.CompareTo(a.Size) : string.CompareOrdinal(a.Node.Name, b.Node.Name));
            for (int i = 0; i < f.Kept.Count; i++) f.Kept[i].IsLast = i == f.Kept.Count - 1;
            if (stack.Count == 0) return f.Kept;
            var parent = stack.Peek();
            var (prow, pstatus, pattributes, ppath) = parent.Pending; // the subtree wrote only past its path
            parent.Pending = default;
            Judge(parent, prow, pstatus, pattributes, ppath, f);
        }
    }

    /// <summary>Decides a child's row once its subtree (<paramref name="below"/>, null for none) is built.</summary>
    private void Judge(Frame f, TreeRow row, RowStatus status, EntryAttributes attributes, int pathLength, Frame? below)
    {
        bool isDir = attributes.IsDirectory;
        bool keptBelow = below is { Kept.Count: > 0 }, changedBelow = below is { AnyChanged: true };
        var shown = status;
        if (isDir && status is RowStatus.Unchanged or RowStatus.Unmodified && changedBelow) shown = RowStatus.Modified;
        // a hardlink's bytes are its target's: counted once, as dive counts its 0-byte header
        long size = isDir ? below?.Total ?? 0 : attributes.Type == FileType.File && attributes.HardlinkTarget is null ? attributes.Size : 0;
        if (status != RowStatus.Removed) f.Total += size;
        f.AnyChanged |= status is not RowStatus.Unchanged || changedBelow;
        bool matches = Filter is null || keptBelow || Filter.IsMatch(_path.AsSpan(0, pathLength));
        // hiding "unmodified" hides what the layer did not change as well, leaving only its changes (as dive does)
        bool hidden = Hidden.Contains(shown) || shown == RowStatus.Unchanged && Hidden.Contains(RowStatus.Unmodified);
        bool visible = !hidden || keptBelow;
        if (!matches || !visible) return;
        row.Status = shown;
        row.Size = size;
        row.HasChildren = keptBelow;
        row.Below = keptBelow ? below!.Kept : null;
        f.Kept.Add(row);
    }

    /// <summary>The rows in order, depth first, over the expanded directories only.</summary>
    private static List<TreeRow> Flatten(List<TreeRow> top)
    {
        var rows = new List<TreeRow>();
        var stack = new Stack<(List<TreeRow> Rows, int Next)>();
        stack.Push((top, 0));
        while (stack.Count > 0)
        {
            var (list, i) = stack.Pop();
            if (i == list.Count) continue;
            stack.Push((list, i + 1));
            var row = list[i];
            rows.Add(row);
            var below = row.Below;
            row.Below = null; // the rows hold no subtree once laid out
            if (!row.Collapsed && below is not null) stack.Push((below, 0));
        }
        return rows;
    }
}
