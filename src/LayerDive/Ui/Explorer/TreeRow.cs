using LayerDive.Core.Model;

namespace LayerDive.Ui.Explorer;

/// <summary>One line of the file tree pane, made when it is shown (<see cref="TreeRows.RowAt"/>); its tree glyphs come from its parent rows when drawn.</summary>
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
