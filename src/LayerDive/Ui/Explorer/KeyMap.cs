using Terminal.Gui.Input;
using static LayerDive.Ui.Explorer.UiCommand;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The explorer's key table: dive's defaults (so muscle memory carries over) and LayerDive's additions,
/// each rebindable from the configuration. The window dispatches from it, and the status bar and the
/// help read it: what they show is what is bound.
/// </summary>
public sealed class KeyMap
{
    /// <summary>Every binding with its default keys, as dive spells them: one row a command.</summary>
    public static readonly IReadOnlyList<Binding> Defaults =
    [
        new(Quit, "keybinding.quit", Pane.Any, "ctrl+c, q"),
        new(Switch, "keybinding.toggle-view", Pane.Any, "tab"),
        new(Filter, "keybinding.filter-files", Pane.Any, "ctrl+f, ctrl+slash"),
        new(CloseFilter, "keybinding.close-filter-files", Pane.Any, "esc", InStatusBar: false),
        new(Help, "layerdive.keybinding.help", Pane.All, "?"),
        new(Up, "keybinding.up", Pane.All, "up, k", InStatusBar: false),
        new(Down, "keybinding.down", Pane.All, "down, j", InStatusBar: false),
        new(PageUp, "keybinding.page-up", Pane.All, "pgup, u", InStatusBar: false),
        new(PageDown, "keybinding.page-down", Pane.All, "pgdn, d", InStatusBar: false),
        new(LayerChanges, "keybinding.compare-layer", Pane.Layers, "ctrl+l"),
        new(Aggregated, "keybinding.compare-all", Pane.Layers, "ctrl+a"),
        new(Parent, "keybinding.left", Pane.Tree, "left, h", InStatusBar: false),
        new(Expand, "keybinding.right", Pane.Tree, "right, l", InStatusBar: false),
        new(View, "layerdive.keybinding.view", Pane.Tree, "enter"),
        new(Fold, "keybinding.toggle-collapse-dir", Pane.Tree, "space"),
        new(FoldAll, "keybinding.toggle-collapse-all-dir", Pane.Tree, "ctrl+space"),
        new(Added, "keybinding.toggle-added-files", Pane.Tree, "ctrl+a"),
        new(Removed, "keybinding.toggle-removed-files", Pane.Tree, "ctrl+r"),
        new(Modified, "keybinding.toggle-modified-files", Pane.Tree, "ctrl+m"),
        new(Unmodified, "keybinding.toggle-unmodified-files", Pane.Tree, "ctrl+u"),
        new(Attributes, "keybinding.toggle-filetree-attributes", Pane.Tree, "ctrl+b"),
        new(Sort, "keybinding.toggle-sort-order", Pane.Tree, "ctrl+o"),
        new(Wrap, "keybinding.toggle-wrap-tree", Pane.Tree, "ctrl+p"),
        new(Extract, "keybinding.extract-file", Pane.Tree, "ctrl+e"),
        new(Explain, "layerdive.keybinding.explain", Pane.Tree, "e"),
        new(Waste, "layerdive.keybinding.waste", Pane.Tree, "w"),
        new(Search, "layerdive.keybinding.search", Pane.Tree | Pane.Viewer, "/"),
        new(SearchNext, "layerdive.keybinding.search-next", Pane.Tree | Pane.Viewer, "n", InStatusBar: false),
        new(SearchPrevious, "layerdive.keybinding.search-previous", Pane.Tree | Pane.Viewer, "shift+n", InStatusBar: false),
        new(Config, "layerdive.keybinding.image-config", Pane.Any, "i"),
        new(Problems, "layerdive.keybinding.problems", Pane.Any, "!"),
        new(Advice, "layerdive.keybinding.advice", Pane.All, "a"),
        new(ViewerDiff, "layerdive.keybinding.viewer-diff", Pane.Viewer, "tab"),
        new(ViewerHex, "layerdive.keybinding.viewer-hex", Pane.Viewer, "x"),
        new(ViewerTop, "layerdive.keybinding.viewer-top", Pane.Viewer, "home, g", InStatusBar: false),
        new(ViewerEnd, "layerdive.keybinding.viewer-end", Pane.Viewer, "end, shift+g", InStatusBar: false),
        new(ViewerClose, "layerdive.keybinding.viewer-close", Pane.Viewer, "esc, q"),
    ];

    /// <summary>dive's defaults and LayerDive's, unchanged.</summary>
    public static KeyMap Default { get; } = new(Defaults);

    public KeyMap(IReadOnlyList<Binding> bindings)
    {
        All = bindings;
        // a pane's own binding wins over one that works everywhere (ctrl+a: aggregated in the layers pane, added in the tree)
        _order = [.. bindings.OrderBy(b => System.Numerics.BitOperations.PopCount((uint)b.Pane))];
    }

    private readonly IReadOnlyList<Binding> _order;

    public IReadOnlyList<Binding> All { get; }

    /// <summary>The table with the given bindings' keys replaced (configuration key -> dive's spelling).</summary>
    /// <exception cref="FormatException">A spelling that names no key.</exception>
    public static KeyMap With(IReadOnlyDictionary<string, string> rebound) =>
        new([.. Defaults.Select(b => rebound.TryGetValue(b.ConfigKey, out var s) ? b with { Spelling = s, Keys = KeySpelling.ParseAll(s) } : b)]);

    public Binding Get(UiCommand command) => All.First(b => b.Command == command);

    /// <summary>The binding a key runs in a pane, if any.</summary>
    public Binding? Find(Key key, Pane pane) =>
        _order.FirstOrDefault(b => (b.Pane & pane) != 0 && b.Keys.Any(k => k == key));

    /// <summary>True when <paramref name="key"/> is one of the command's keys.</summary>
    public bool Is(UiCommand command, Key key) => Get(command).Keys.Any(k => k == key);
}
