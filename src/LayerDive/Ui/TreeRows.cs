using System.Text.RegularExpressions;
using LayerDive.Core.Model;

namespace LayerDive.Ui;

/// <summary>The status a tree row shows: what the selected layer (or layers 1..N) did to the path.</summary>
public enum RowStatus
{
    Unchanged,
    Added,
    Modified,
    Removed,
    Unmodified,
}

/// <summary>One line of the file tree pane; its tree glyphs come from its parent rows when drawn.</summary>
public sealed class TreeRow(TreeNode node, int depth, RowStatus status, EntryAttributes attributes, TreeRow? parent, bool collapsed, long size, bool opaque)
{
    public TreeNode Node { get; } = node;
    public int Depth { get; } = depth;
    public RowStatus Status { get; internal set; } = status;
    public EntryAttributes Attributes { get; } = attributes;
    public TreeRow? Parent { get; } = parent;
    public bool Collapsed { get; } = collapsed;
    public long Size { get; internal set; } = size;
    public bool Opaque { get; } = opaque;
    /// <summary>The last shown child of its parent ("└──" rather than "├──").</summary>
    public bool IsLast { get; internal set; }
    public bool HasChildren { get; internal set; }

    /// <summary>The tree glyphs before the name: "│   " or "    " per ancestor, then "├── " or "└── ".</summary>
    public string Prefix()
    {
        var parts = new string[Depth + 1];
        parts[Depth] = IsLast ? "└── " : "├── ";
        int i = Depth - 1;
        for (var a = Parent; a is not null && i >= 0; a = a.Parent, i--) parts[i] = a.IsLast ? "    " : "│   ";
        return string.Concat(parts);
    }
}

/// <summary>
/// The file tree pane's view-model: the merged tree after the selected layer, annotated with that
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

    public bool IsCollapsed(TreeNode node) => _collapsed.Contains(node);

    public void Toggle(TreeNode node)
    {
        if (!_collapsed.Remove(node)) _collapsed.Add(node);
    }

    public void SetAllCollapsed(bool collapsed)
    {
        _collapsed.Clear();
        if (!collapsed) return;
        lock (model.Sync) // the image may still be being read
            foreach (var n in model.AllNodes())
                if (!n.IsRoot && n.ChildCount > 0) _collapsed.Add(n);
    }

    /// <summary>What the selected view says of a node (null: not shown at all after this layer).</summary>
    public (RowStatus Status, EntryAttributes Attributes)? StatusOf(TreeNode node)
    {
        var now = node.StateAt(Layer);
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
    /// Built under the model's lock, as the layers above may still be being merged; the rows keep what
    /// they show (attributes never change once written), so drawing them needs no lock.
    /// </summary>
    public List<TreeRow> Build()
    {
        lock (model.Sync) return BuildRows();
    }

    private List<TreeRow> BuildRows()
    {
        _opaque.Clear();
        if (Layer >= 0 && Layer < model.Layers.Count)
            foreach (var d in model.Layers[Layer].OpaqueDirectories)
                if (model.Find(d) is { } n) _opaque.Add(n);
        var rows = new List<TreeRow>();
        Append(model.Root, null, 0, rows);
        return rows;
    }

    private readonly HashSet<TreeNode> _opaque = [];

    /// <summary>Adds the rows of <paramref name="dir"/>'s children; returns whether any was kept and the bytes beneath.</summary>
    private (bool Kept, bool Changed, long Size) Append(TreeNode dir, TreeRow? parentRow, int depth, List<TreeRow> rows)
    {
        var children = new List<(TreeNode Node, RowStatus Status, EntryAttributes Attributes)>();
        foreach (var c in dir.AllChildren)
            if (StatusOf(c) is { } s) children.Add((c, s.Status, s.Attributes));
        children.Sort((a, b) => string.CompareOrdinal(a.Node.Name, b.Node.Name));

        // build each child's subtree first (its size and whether a change lies beneath), then filter
        var built = new List<(TreeRow Row, List<TreeRow> Below)>();
        bool anyChanged = false;
        long total = 0;
        foreach (var (node, status, attributes) in children)
        {
            bool isDir = attributes.IsDirectory;
            var below = new List<TreeRow>();
            // the row exists before its children so that they can point at it; it is dropped if filtered out
            var row = new TreeRow(node, depth, status, attributes, parentRow, _collapsed.Contains(node), 0, _opaque.Contains(node));
            // a directory replaced by a file still shows the children that layer removed, in red
            var (keptBelow, changedBelow, sizeBelow) = isDir || node.ChildCount > 0 ? Append(node, row, depth + 1, below) : (false, false, 0L);
            var shown = status;
            if (isDir && status is RowStatus.Unchanged or RowStatus.Unmodified && changedBelow) shown = RowStatus.Modified;
            // a hardlink's bytes are its target's: counted once, as dive counts its 0-byte header
            long size = isDir ? sizeBelow : attributes.Type == FileType.File && attributes.HardlinkTarget is null ? attributes.Size : 0;
            if (status != RowStatus.Removed) total += size;
            anyChanged |= status is not RowStatus.Unchanged || changedBelow;
            bool matches = Filter is null || keptBelow || Filter.IsMatch(node.Path);
            // hiding "unmodified" hides what the layer did not change as well, leaving only its changes (as dive does)
            bool hidden = Hidden.Contains(shown) || shown == RowStatus.Unchanged && Hidden.Contains(RowStatus.Unmodified);
            bool visible = !hidden || keptBelow;
            if (!matches || !visible) continue;
            row.Status = shown;
            row.Size = size;
            row.HasChildren = below.Count > 0;
            built.Add((row, below));
        }
        if (SortBySize) built.Sort((a, b) => b.Row.Size != a.Row.Size ? b.Row.Size.CompareTo(a.Row.Size) : string.CompareOrdinal(a.Row.Node.Name, b.Row.Node.Name));

        for (int i = 0; i < built.Count; i++)
        {
            var (row, below) = built[i];
            row.IsLast = i == built.Count - 1;
            rows.Add(row);
            if (!row.Collapsed) rows.AddRange(below);
        }
        return (built.Count > 0, anyChanged, total);
    }
}
