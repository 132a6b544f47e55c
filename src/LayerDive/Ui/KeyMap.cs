using LayerDive.Core;

namespace LayerDive.Ui;

/// <summary>Which pane a key works in.</summary>
public enum Pane
{
    Any,
    Layers,
    Tree,
}

/// <summary>One key binding: shown by the help overlay and the status bar, checked by a test.</summary>
public sealed record KeyBinding(string Keys, string Id, Pane Pane, string? Toggle = null, bool InStatusBar = true)
{
    /// <summary>What the key does, in the chosen language.</summary>
    public string Action => Text.Get("Key." + Id);

    /// <summary>The status bar's label (null for the movement keys, which need no reminder).</summary>
    public string? Short => InStatusBar ? Text.Get("Short." + Id) : null;
}

/// <summary>dive's default keys (so muscle memory carries over), and LayerDive's additions.</summary>
public static class KeyMap
{
    public static readonly IReadOnlyList<KeyBinding> All =
    [
        new("Ctrl+C, q", "Quit", Pane.Any),
        new("Tab", "Switch", Pane.Any),
        new("Ctrl+F, Ctrl+/", "Filter", Pane.Any),
        new("?", "Help", Pane.Any),
        new("Ctrl+Z", "Suspend", Pane.Any, InStatusBar: false),
        new("Up/k, Down/j", "Move", Pane.Any, InStatusBar: false),
        new("PgUp/u, PgDn/d", "Page", Pane.Any, InStatusBar: false),
        new("Ctrl+L", "LayerChanges", Pane.Layers, "layer"),
        new("Ctrl+A", "Aggregated", Pane.Layers, "aggregate"),
        new("Left/h", "Parent", Pane.Tree, InStatusBar: false),
        new("Right/l", "Expand", Pane.Tree, InStatusBar: false),
        new("Space", "Fold", Pane.Tree),
        new("Ctrl+Space", "FoldAll", Pane.Tree),
        new("Ctrl+A", "Added", Pane.Tree, "added"),
        new("Ctrl+R", "Removed", Pane.Tree, "removed"),
        new("Ctrl+M", "Modified", Pane.Tree, "modified"),
        new("Ctrl+U", "Unmodified", Pane.Tree, "unmodified"),
        new("Ctrl+B", "Attributes", Pane.Tree, "attributes"),
        new("Ctrl+O", "Sort", Pane.Tree, "size"),
        new("Ctrl+P", "Wrap", Pane.Tree, "wrap"),
        new("e", "Explain", Pane.Tree),
        new("/, n, N", "Search", Pane.Tree),
        new("w", "Waste", Pane.Tree),
        new("Ctrl+E", "Extract", Pane.Tree),
    ];
}
