namespace LayerDive.Ui.Viewer;

/// <summary>How a line of the pager is coloured (a diff's added and removed lines, its hunk headers).</summary>
public enum LineKind
{
    Normal,
    Added,
    Removed,
    Hunk,
    Note,
}
