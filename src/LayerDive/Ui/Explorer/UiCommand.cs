namespace LayerDive.Ui.Explorer;

/// <summary>
/// What a key can ask of the explorer. A binding (<see cref="Binding"/>) gives each its keys, its pane and
/// the configuration key that rebinds it; <see cref="ExplorerViewModel"/> runs it; its help text and status
/// bar label are <c>Key.{name}</c> and <c>Short.{name}</c> in Resources/UiStrings*.resx.
/// </summary>
public enum UiCommand
{
    Quit,
    Switch,
    Filter,
    CloseFilter,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    LayerChanges,
    Aggregated,
    Parent,
    Expand,
    View,
    Fold,
    FoldAll,
    Added,
    Removed,
    Modified,
    Unmodified,
    Attributes,
    Sort,
    Wrap,
    Extract,
    Explain,
    Waste,
    Search,
    SearchNext,
    SearchPrevious,
    Config,
    Problems,
    Advice,
    ViewerDiff,
    ViewerHex,
    ViewerTop,
    ViewerEnd,
    ViewerClose,
}
