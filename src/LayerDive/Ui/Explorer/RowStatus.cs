namespace LayerDive.Ui.Explorer;

/// <summary>The status a tree row shows: what the selected layer (or layers 1..N) did to the path.</summary>
public enum RowStatus
{
    Unchanged,
    Added,
    Modified,
    Removed,
    Unmodified,
}
