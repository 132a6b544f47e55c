namespace LayerDive.Ui;

/// <summary>Which pane a key works in.</summary>
public enum Pane
{
    Any,
    Layers,
    Tree,
}

/// <summary>One key binding: shown by the help overlay and the status bar, checked by a test.</summary>
public sealed record KeyBinding(string Keys, string Action, Pane Pane, string? Toggle = null, string? Short = null);

/// <summary>dive's default keys (so muscle memory carries over), and LayerDive's additions.</summary>
public static class KeyMap
{
    public static readonly IReadOnlyList<KeyBinding> All =
    [
        new("Ctrl+C, q", "quit", Pane.Any, Short: "Quit"),
        new("Tab", "switch between the layers and the file tree", Pane.Any, Short: "Switch"),
        new("Ctrl+F, Ctrl+/", "filter paths (a regex, live); Esc closes it", Pane.Any, Short: "Filter"),
        new("?", "this help", Pane.Any, Short: "Help"),
        new("Up/k, Down/j", "move", Pane.Any),
        new("PgUp/u, PgDn/d", "page", Pane.Any),
        new("Ctrl+L", "show this layer's changes", Pane.Layers, "layer", "This layer"),
        new("Ctrl+A", "show the changes of layers 1..N over layer 0", Pane.Layers, "aggregate", "Aggregated"),
        new("Left/h", "go to the parent", Pane.Tree),
        new("Right/l", "expand", Pane.Tree),
        new("Space", "collapse/expand", Pane.Tree, Short: "Fold"),
        new("Ctrl+Space", "collapse/expand all", Pane.Tree, Short: "Fold all"),
        new("Ctrl+A", "show/hide added", Pane.Tree, "added", "Added"),
        new("Ctrl+R", "show/hide removed", Pane.Tree, "removed", "Removed"),
        new("Ctrl+M", "show/hide modified", Pane.Tree, "modified", "Modified"),
        new("Ctrl+U", "show/hide unmodified", Pane.Tree, "unmodified", "Unmod"),
        new("Ctrl+B", "show/hide attributes", Pane.Tree, "attributes", "Attrs"),
        new("Ctrl+O", "sort by name / by size", Pane.Tree, "size", "By size"),
        new("e", "explain the selected path: every layer that touched it, and how", Pane.Tree, Short: "Explain"),
        new("/, n, N", "search paths (incremental); next, previous match", Pane.Tree, Short: "Search"),
        new("w", "jump to the layer that stored the selected file's wasted bytes", Pane.Tree, Short: "Waste"),
        new("Ctrl+E", "extract the selected path into a folder (nothing is written outside it)", Pane.Tree, Short: "Extract"),
    ];
}
