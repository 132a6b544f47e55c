namespace LayerDive.Ui.Explorer;

/// <summary>Where a key works: the pane (or the viewer) that has the user's attention.</summary>
[Flags]
public enum Pane
{
    Layers = 1,
    Tree = 2,
    Viewer = 4,
    /// <summary>Both panes (not the viewer, which has keys of its own).</summary>
    Any = Layers | Tree,
    All = Layers | Tree | Viewer,
}
