using System.Globalization;
using System.Text.RegularExpressions;
using LayerDive.Core.Analysis;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Ui.Viewer;
using LayerDive.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The explorer's state and what its commands do, with no terminal in it: the selected layer and pane,
/// the file tree (<see cref="FileTree"/>: aggregate, hidden kinds, filter, cursor), the input mode, the
/// search, the message on the status line, the details panes' lines and the viewer
/// (<see cref="ViewerController"/>). It runs a command (<see cref="Execute"/>), says whether a toggle is
/// on (<see cref="IsActive"/>) and what the status bar shows (<see cref="Status"/>);
/// <see cref="ExplorerWindow"/> lays it out, focuses the pane it names and forwards the commands its keys
/// are bound to. The image may still be loading: <see cref="Refresh"/> and <see cref="Completed"/> bring in the rest.
/// </summary>
public sealed partial class ExplorerViewModel : IDisposable
{
    private IReadOnlyList<RemovableItem> _removable = [];
    private IReadOnlyList<LayerKind>? _kinds;
    private InputMode? _prompt;
    private LoadProgress? _progress;
    private int _merged = -1;

    /// <param name="dive">The dive metrics, or null while the image is still being read.</param>
    /// <param name="compareWith">Compare mode (<c>layerdive diff A B</c>): image A; <paramref name="model"/> is B.</param>
    public ExplorerViewModel(ImageModel model, DiveMetricsResult? dive, ImageModel? compareWith = null, ExplorerSettings? settings = null)
    {
        settings ??= new ExplorerSettings();
        Model = model;
        CompareWith = compareWith;
        Keys = settings.Keys;
        Tree = new FileTree(model) { ShowAttributes = settings.ShowAttributes };
        Tree.Rows.Aggregate = settings.Aggregated;
        foreach (var h in settings.Hide) Tree.Rows.Hidden.Add(h);
        if (settings.CollapseDirectories) Tree.Rows.SetAllCollapsed(true);
        if (compareWith is not null)
        {
            Tree.Rows.CompareWith = compareWith;
            Shared = ImageDiff.SharedLayers(compareWith, model).Where(s => s.SameChain).Select(s => s.IndexB).ToHashSet();
        }
        Tree.Changed += () =>
        {
            Message = null; // a message lasts until something else happens
            Changed?.Invoke();
        };
        string cancelKeys = string.Join(", ", new[] { Keys.Get(UiCommand.ViewerClose).First, Keys.Get(UiCommand.Quit).First }.Where(k => k.Length > 0).Distinct());
        Viewer = new ViewerController(model, Say, cancelKeys) { Limit = settings.ViewerLimit };
        _commands = Commands();
        if (dive is not null) Completed(dive);
        else Refresh(null);
        ShowLayer(model.Layers.Count > 0 ? 0 : -1);
        if (compareWith is not null) SelectLayer(model.LayersMerged - 1); // compare mode: B's final tree first
    }

    public ImageModel Model { get; }

    /// <summary>Compare mode: image A, against which the tree is coloured.</summary>
    public ImageModel? CompareWith { get; }

    public KeyMap Keys { get; }

    public FileTree Tree { get; }

    public ViewerController Viewer { get; }

    /// <summary>Writes a path of the tree after a layer into a folder; returns what to tell the user.</summary>
    public Func<string, int, string, string>? Extract { get; set; }

    /// <summary>Something changed that the window shows.</summary>
    public event Action? Changed;

    /// <summary>The user asked to quit.</summary>
    public event Action? QuitRequested;

    /// <summary>The input mode: a prompt's, else the viewer's while it is open, else normal.</summary>
    public InputMode Mode => _prompt ?? (Viewer.IsOpen ? InputMode.Viewer : InputMode.Normal);

    /// <summary>The pane the keys go to outside the viewer: the layers or the tree.</summary>
    public Pane Focus { get; private set; } = Pane.Layers;

    /// <summary>The pane the keys go to: the viewer while it is open, else the focused pane.</summary>
    public Pane KeyPane => Mode == InputMode.Viewer ? Pane.Viewer : Focus;

    /// <summary>The selected layer: the tree shows the merged tree after it.</summary>
    public int Layer => Tree.Rows.Layer;

    /// <summary>The tree compares layers 1..N with layer 0 rather than showing the selected layer's changes.</summary>
    public bool Aggregate => Tree.Rows.Aggregate;

    /// <summary>The kinds of change the tree hides.</summary>
    public IReadOnlySet<RowStatus> Hidden => Tree.Rows.Hidden;

    /// <summary>The text the last search looked for (in the tree, or in the viewer).</summary>
    public string SearchText { get; private set; } = "";

    /// <summary>What the status line says until the next key, instead of the keys.</summary>
    public string? Message { get; private set; }

    /// <summary>How many layers a page moves (the layers pane's height, told by its view).</summary>
    public int LayerPageRows { get; set; } = 1;

    /// <summary>Compare mode: the layers image A shares on the same base (stored once by an engine), marked "=".</summary>
    public IReadOnlySet<int> Shared { get; } = new HashSet<int>();

    /// <summary>True once every layer is merged and the image's figures are in.</summary>
    public bool IsComplete { get; private set; }

    public string Title => CompareWith is null ? $"LayerDive: {Model.Name}" : $"LayerDive: {Model.Name} ({UiText.Fill(UiStrings.Ui_ComparedWith, CompareWith.Name)})";

    public string TreeTitle { get; private set; } = "";

    public IReadOnlyList<string> LayerDetails { get; private set; } = [];

    public IReadOnlyList<string> ImageDetails { get; private set; } = [];

    /// <summary>The help is open (in the viewer: it scrolls and searches on a small terminal).</summary>
    public bool HelpVisible => Viewer.IsOpen && Viewer.Current?.Title == UiStrings.Ui_HelpTitle;

    /// <summary>Where the one-line prompt opens (after its label), and the text it opens with.</summary>
    public int PromptColumn { get; private set; }

    public string PromptStart { get; private set; } = "";

    /// <summary>Each layer's kind, from the history (known before the layers are read), worked out once.</summary>
    public LayerKind KindOf(int layer) => (_kinds ??= LayerKinds.Of(Model))[layer];

    /// <summary>Selects a layer; only a merged one can be (the image may still be being read).</summary>
    public void SelectLayer(int layer)
    {
        if (layer < 0 || layer >= Model.LayersMerged || layer == Layer) return;
        ShowLayer(layer);
    }

    /// <summary>Moves the selection by <paramref name="layers"/>, within the merged layers.</summary>
    public void MoveLayer(int layers) => SelectLayer(Math.Clamp(Layer + layers, 0, Math.Max(0, Model.LayersMerged - 1)));

    /// <summary>The pane the keys go to outside the viewer (the window tells where the user clicked).</summary>
    public void FocusPane(Pane pane)
    {
        if (pane is not (Pane.Layers or Pane.Tree) || pane == Focus) return;
        Focus = pane;
        Changed?.Invoke();
    }

    /// <summary>
    /// While the image is read: how far the read has come, and the layers merged since (the layers pane
    /// shows them). The explorer calls it on the UI loop when the load tells of a layer merged or of its
    /// progress; nothing is shown again when neither changed.
    /// </summary>
    public void Refresh(LoadProgress? progress)
    {
        int merged = Model.LayersMerged;
        if (IsComplete || (progress is not null && progress == _progress && merged == _merged)) return;
        (_progress, _merged) = (progress, merged);
        ImageDetails =
        [
            UiText.Fill(UiStrings.Ui_ImageName, Model.Name, Model.Config.Platform),
            "",
            progress is null ? UiStrings.Ui_Reading : ProgressText.Of(progress),
        ];
        Changed?.Invoke();
    }

    /// <summary>The image is read: its efficiency, what the overlay merge makes removable, the problems found, and what needs every layer.</summary>
    public void Completed(DiveMetricsResult dive)
    {
        LoadMemory.Release(); // before the figures and what the keys make
        var overlay = OverlayMetrics.Compute(Model);
        _removable = overlay.Items;
        var lines = new List<string>
        {
            UiText.Fill(UiStrings.Ui_ImageName, Model.Name, Model.Config.Platform),
            UiText.Fill(UiStrings.Ui_ImageTotalSize, Units.HumanBytes(dive.SizeBytes), Model.Layers.Count),
            UiText.Fill(UiStrings.Ui_ImageEfficiency, (dive.Efficiency * 100).ToString("0.00", CultureInfo.InvariantCulture), Units.HumanBytes(dive.WastedBytes)),
            UiText.Fill(UiStrings.Ui_ImageRemovable, Units.HumanBytes(overlay.RemovableBytes), (overlay.RemovablePercent * 100).ToString("0.0", CultureInfo.InvariantCulture)),
            "",
            UiStrings.Ui_InefficientHeader,
        };
        if (dive.Inefficiencies.Count == 0) lines.Add(UiStrings.Ui_InefficientNone);
        // the read's warnings: a count and the key that lists them (they are printed after the explorer too)
        lines.Insert(1, Model.Problems.Count == 0 ? UiText.Fill(UiStrings.Ui_ProblemsNone, Keys.Get(UiCommand.Config).First)
            : UiText.Fill(UiStrings.Ui_ProblemsCount, Model.Problems.Count, Keys.Get(UiCommand.Problems).First, Keys.Get(UiCommand.Config).First));
        // an inefficient file's line made when the pane shows it: a million-file image has 100,000 of them
        // (20 MB of lines), of which the pane shows a dozen
        ImageDetails = new LinesAfter<Inefficiency>(lines, dive.Inefficiencies, i => $"{i.Count,-5}  {Units.HumanBytes(i.CumulativeSize),-12}  {i.Path}");
        IsComplete = true;
        Changed?.Invoke();
    }

    /// <summary>Follows a copy into the viewer (its progress, its end); the window's ticker calls it. True when something changed.</summary>
    public bool Poll()
    {
        if (!Viewer.Poll()) return false;
        Changed?.Invoke();
        return true;
    }

    /// <summary>What the status bar shows: a prompt's label, a message, or the keys of the pane the keys go to (its own first), toggles that are on highlighted.</summary>
    public IReadOnlyList<StatusItem> Status()
    {
        if (_prompt is { } mode)
            return [new(mode == InputMode.Search ? UiStrings.Ui_SearchPrompt : mode == InputMode.ExtractTo ? UiStrings.Ui_ExtractPrompt : UiStrings.Ui_FilterPrompt, false)];
        if (Message is not null) return [new(Message, true)];
        var pane = KeyPane;
        var items = new List<StatusItem>();
        foreach (var k in Keys.All.Where(k => k.Pane == pane).Concat(Keys.All.Where(k => k.Pane != pane && (k.Pane & pane) != 0)))
        {
            if (k.Short is null || k.Keys.Count == 0) continue; // movement keys need no reminder
            items.Add(new($"{k.First} {k.Short}", IsActive(k.Command)));
        }
        return items;
    }

    /// <summary>
    /// Runs an action once the keys already typed are handled (the window: on the UI loop, after the input
    /// it holds, before it draws); null runs it at once. A filter typed fast is then matched once for all its
    /// characters, not once for each (a pass over a million paths per key would fall behind the typing).
    /// </summary>
    public Action<Action>? AfterInput { get; set; }

    // the filter's text typed and not yet applied, and whether its application is on its way
    private string? _typedFilter;
    private bool _filterPosted;

    /// <summary>The prompt's text changed: a filter or a search follows it as it is typed.</summary>
    public void PromptTyped(string text)
    {
        if (_prompt == InputMode.Search) Find(includeCurrent: true, text: text);
        else if (_prompt == InputMode.Filter)
        {
            _typedFilter = text;
            if (AfterInput is not { } later) ApplyTypedFilter();
            else if (!_filterPosted)
            {
                _filterPosted = true;
                later(() =>
                {
                    _filterPosted = false;
                    ApplyTypedFilter();
                });
            }
        }
    }

    /// <summary>Applies the filter's text as typed last, if it is not applied yet.</summary>
    private void ApplyTypedFilter()
    {
        if (_typedFilter is not { } text) return;
        _typedFilter = null;
        if (_prompt == InputMode.Filter) ApplyFilter(text);
    }

    /// <summary>The prompt closed: with Enter (<paramref name="accepted"/>) or the close keys; the keys go back to the viewer or the tree.</summary>
    public void EndPrompt(bool accepted, string text)
    {
        var mode = _prompt;
        if (mode == InputMode.Filter && accepted) ApplyTypedFilter(); // Enter typed with the text: the text as typed
        _typedFilter = null;
        _prompt = null;
        Message = null;
        if (!Viewer.IsOpen) Focus = Pane.Tree;
        switch (mode)
        {
            case InputMode.ExtractTo when accepted && text.Length > 0 && Tree.Current is { } selected && Extract is not null:
                try { Say(Extract(selected.Node.Path, Tree.Rows.Layer, text)); }
                catch (Exception ex) when (ex is Core.ImageException or IOException or UnauthorizedAccessException) { Say(UiText.Fill(UiStrings.Ui_NotExtracted, ex.Message)); }
                break;
            case InputMode.Filter when !accepted:
                ApplyFilter("");
                break;
        }
        Changed?.Invoke();
    }

    /// <summary>Says something on the status line until the next key.</summary>
    private void Say(string message)
    {
        Message = message;
        Changed?.Invoke();
    }

    private void Prompt(InputMode mode, int column, string text)
    {
        _prompt = mode;
        PromptColumn = column;
        PromptStart = text;
    }

    private void ShowLayer(int layer)
    {
        Tree.Rows.Layer = layer;
        Tree.Rebuild();
        TreeTitle = CompareWith is { } a ? UiText.Fill(UiStrings.Ui_TreeTitleCompared, layer, Label(a))
            : Tree.Rows.Aggregate ? UiText.Fill(UiStrings.Ui_TreeTitleAggregated, layer) : UiText.Fill(UiStrings.Ui_TreeTitle, layer);
        if (layer >= 0 && layer < Model.Layers.Count)
        {
            var l = Model.Layers[layer];
            LayerDetails =
            [
                UiText.Fill(UiStrings.Ui_LayerDigest, l.Digest ?? "-"),
                UiText.Fill(UiStrings.Ui_LayerDiffId, l.DiffId ?? "-"),
                UiText.Fill(UiStrings.Ui_LayerStored, Units.HumanBytes(l.CompressedSize), Core.Layers.Decompression.Name(l.Compression), Units.HumanBytes(l.UncompressedSize), Units.HumanBytes(l.Size)),
                UiText.Fill(UiStrings.Ui_LayerChanges, l.Added, l.Modified, l.Removed, l.Unmodified),
                UiText.Fill(UiStrings.Ui_LayerMarkers, l.Whiteouts.Count, l.OpaqueDirectories.Count, l.Verified ? UiStrings.Ui_LayerVerified : ""),
                UiText.Fill(UiStrings.Ui_LayerKind, LayerKinds.Label(KindOf(layer))),
                UiStrings.Ui_LayerCommand,
                .. Wrap(l.CreatedBy.Length == 0 ? UiStrings.Ui_LayerNoHistory : l.CreatedBy, 200),
            ];
        }
        Changed?.Invoke();
    }

    private static IEnumerable<string> Wrap(string s, int max) => s.ReplaceLineEndings(" ").Chunk(max).Select(c => "  " + new string(c));

    /// <summary>An image as compare mode names it: its name and platform (two platforms of one index share a name).</summary>
    private static string Label(ImageModel m) => $"{m.Name} ({m.Config.Platform})";

    private void ApplyFilter(string text)
    {
        if (text == (Tree.Rows.Filter?.ToString() ?? "")) return; // the prompt opened with the filter there is: nothing to match again
        try
        {
            Tree.Rows.Filter = string.IsNullOrEmpty(text) ? null : new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
        }
        catch (ArgumentException)
        {
            return; // an incomplete regex: keep the last good one while the user types
        }
        Tree.Rebuild();
    }

    private bool Find(bool forward = true, bool includeCurrent = false, string? text = null)
    {
        if (text is not null) SearchText = text;
        return Viewer.IsOpen ? Viewer.Pager.Find(SearchText, forward, includeCurrent) : Tree.Find(SearchText, forward, includeCurrent);
    }

    public void Dispose() => Viewer.Dispose();
}

/// <summary>Lines, then one line an item, the items' made when read.</summary>
internal sealed class LinesAfter<T>(IReadOnlyList<string> head, IReadOnlyList<T> items, Func<T, string> line) : IReadOnlyList<string>
{
    public int Count => head.Count + items.Count;

    public string this[int index] => index < head.Count ? head[index] : line(items[index - head.Count]);

    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
