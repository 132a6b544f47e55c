namespace LayerDive.Ui.Explorer;

/// <summary>What the explorer is taking keys for: one mode at a time.</summary>
public enum InputMode
{
    Normal,
    Filter,
    Search,
    ExtractTo,
    Viewer,
}
