using System.Text.RegularExpressions;
using LayerDive.Core.Loading;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Cli;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attr = Terminal.Gui.Drawing.Attribute;
using Texts = LayerDive.Core.Text;

namespace LayerDive.Ui;

/// <summary>
/// The explorer: layers and details on the left, the merged file tree on the right (SPEC §6), and a
/// viewer over them for a file's content, its diff, an explanation, the image's config or the problems
/// of the read. Keys come from one table (<see cref="KeyMap"/>) in one input mode at a time.
/// </summary>
public sealed class ExplorerWindow : Window
{
    private readonly ImageModel _model;
    private readonly ImageModel? _compareWith;
    private readonly Palette _palette;
    private readonly KeyMap _keys;
    private readonly LayersView _layers;
    private readonly FileTreeView _tree;
    private readonly TextLinesView _layerDetails;
    private readonly FrameView _layersFrame, _treeFrame, _layerDetailsFrame, _imageFrame;
    private readonly TextLinesView _imageDetails;
    private readonly StatusLine _status;
    private readonly TextField _filter;
    private readonly FrameView _viewerFrame;
    private readonly PagerView _pager;
    private readonly Dictionary<string, Action> _actions;
    private string _search = "";
    private IReadOnlyList<RemovableItem> _removable = [];
    private int _merged;
    private LoadProgress? _progress;
    private View? _beforeViewer;
    private Viewing? _viewing;

    /// <summary>
    /// What the viewer shows: a file's version (content, hex or diff) with its bytes, copied once from the
    /// layer and kept while the file is shown (hex, text and diff are views of the same copy), or lines with
    /// no file behind them.
    /// </summary>
    private sealed record Viewing(string Title, FileVersion? Version, int Layer, Stream? Bytes = null)
    {
        public bool Diff { get; init; }
        public bool Hex { get; init; }
        public bool Binary { get; init; }
    }

    /// <summary>Writes a path of the tree after a layer into a folder; returns what to tell the user.</summary>
    public Func<string, int, string, string>? Extract { get; init; }

    /// <summary>Copies a file version's bytes into a stream (from its layer); the viewer pages them from a private temporary file.</summary>
    public Func<FileVersion, Stream, long>? ReadContent { get; init; }

    /// <summary>The input mode: which keys mean what.</summary>
    public InputMode Mode { get; private set; }

    /// <summary>The last action the key table ran (for the test that presses every binding).</summary>
    public string? LastAction { get; private set; }

    /// <summary>
    /// The explorer over <paramref name="model"/>, which may still be loading: then <paramref name="dive"/>
    /// is null, only the merged layers can be selected, and <see cref="Refresh"/> and <see cref="Completed"/>
    /// bring in the rest as the load goes on.
    /// </summary>
    public ExplorerWindow(ImageModel model, DiveMetricsResult? dive, bool color, ImageModel? compareWith = null, ExplorerSettings? settings = null)
    {
        settings ??= new ExplorerSettings();
        _model = model;
        _compareWith = compareWith;
        _palette = new Palette(color, settings.Theme);
        _keys = settings.Keys;
        Title = compareWith is null ? $"LayerDive: {model.Name}" : $"LayerDive: {model.Name} ({Texts.Format("Ui.ComparedWith", compareWith.Name)})";
        BorderStyle = LineStyle.None;
        if (_palette.Scheme is { } scheme) SetScheme(scheme);

        // dive's filetree.pane-width is the tree's share; LayerDive's own layout gives it 60 %
        int left = settings.PaneWidth is double w ? (int)Math.Round(100 * (1 - w)) : 40;
        _layersFrame = new FrameView { Title = Texts.Get("Ui.Layers"), X = 0, Y = 0, Width = Dim.Percent(left), Height = Dim.Percent(45), TabStop = TabBehavior.TabStop };
        _layers = new LayersView(model, _palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        _layersFrame.Add(_layers);
        _layerDetailsFrame = new FrameView { Title = Texts.Get("Ui.LayerDetails"), X = 0, Y = Pos.Bottom(_layersFrame), Width = Dim.Percent(left), Height = Dim.Percent(30), CanFocus = false };
        _layerDetails = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        _layerDetailsFrame.Add(_layerDetails);
        _imageFrame = new FrameView { Title = Texts.Get("Ui.ImageDetails"), X = 0, Y = Pos.Bottom(_layerDetailsFrame), Width = Dim.Percent(left), Height = Dim.Fill(1), CanFocus = false };
        _imageDetails = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        _imageFrame.Add(_imageDetails);
        _treeFrame = new FrameView { Title = Texts.Format("Ui.CurrentLayer", 0), X = Pos.Right(_layersFrame), Y = 0, Width = Dim.Fill(), Height = Dim.Fill(1), TabStop = TabBehavior.TabStop };
        _tree = new FileTreeView(model, _palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true, ShowAttributes = settings.ShowAttributes };
        _tree.Rows.Aggregate = settings.Aggregated;
        foreach (var h in settings.Hide) _tree.Rows.Hidden.Add(h);
        if (settings.CollapseDirectories) _tree.Rows.SetAllCollapsed(true);
        if (compareWith is not null)
        {
            _tree.Rows.CompareWith = compareWith;
            _layers.Shared = ImageDiff.SharedLayers(compareWith, model).Where(s => s.SameChain).Select(s => s.IndexB).ToHashSet();
        }
        _treeFrame.Add(_tree);
        _status = new StatusLine { X = 0, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1 };
        _filter = new TextField { X = 9, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1, Visible = false };
        _pager = new PagerView(_palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        _viewerFrame = new FrameView { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(1), Visible = false, TabStop = TabBehavior.NoStop };
        _viewerFrame.Add(_pager);
        Add(_layersFrame, _layerDetailsFrame, _imageFrame, _treeFrame, _status, _filter, _viewerFrame);

        _actions = Actions();
        _layers.SelectionChanged += ShowLayer;
        _filter.TextChanged += (_, _) =>
        {
            if (Mode == InputMode.Search) Find(includeCurrent: true, text: _filter.Text);
            else if (Mode == InputMode.Filter) ApplyFilter(_filter.Text);
        };
        _tree.Changed += UpdateStatus;
        _merged = model.LayersMerged;
        if (dive is not null) Completed(dive);
        else Refresh(null);
        ShowLayer(_layers.SelectedLayer);
        if (compareWith is not null) _layers.Select(model.LayersMerged - 1); // compare mode: B's final tree first
        _layers.SetFocus();
        UpdateStatus();
    }

    /// <summary>The help overlay's lines: every binding with the keys actually bound, and the rule for layer kinds.</summary>
    private List<string> HelpLines()
    {
        var lines = new List<string>();
        foreach (var k in _keys.All)
        {
            string where = k.Pane switch
            {
                Pane.Any or Pane.All => "",
                _ => "  (" + string.Join(", ", new[] { Pane.Layers, Pane.Tree, Pane.Viewer }.Where(p => (k.Pane & p) != 0).Select(p => Texts.Get("Ui.Pane." + p))) + ")",
            };
            lines.Add($"{(k.Keys.Count == 0 ? "-" : k.Shown),-18} {k.Action}{where}");
        }
        lines.Add("");
        lines.AddRange(Texts.Get("Ui.KindRule").Split('\n'));
        return lines;
    }

    /// <summary>An image as compare mode names it: its name and platform (two platforms of one index share a name).</summary>
    private static string Label(ImageModel m) => $"{m.Name} ({m.Config.Platform})";

    /// <summary>True once every layer is merged and the image's figures are in.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>While the image is read: shows the layers merged since, and how far the read has come.</summary>
    public void Refresh(LoadProgress? progress)
    {
        if (IsComplete || (progress is not null && progress == _progress)) return;
        _progress = progress;
        _imageDetails.Lines =
        [
            Texts.Format("Ui.Image", _model.Name, _model.Config.Platform),
            "",
            progress is null ? Texts.Get("Ui.Reading")
                : Explorer.ProgressText(progress),
        ];
        int merged = _model.LayersMerged;
        if (merged == _merged) return;
        _merged = merged;
        _layers.SetNeedsDraw();
    }

    /// <summary>The image is read: its efficiency, what the overlay merge makes removable, the problems found, and what needs every layer.</summary>
    public void Completed(DiveMetricsResult dive)
    {
        var overlay = OverlayMetrics.Compute(_model);
        _removable = overlay.Items;
        var lines = Explorer.ImageLines(_model, dive, overlay);
        // the read's warnings: a count and the key that lists them (they are printed after the explorer too)
        lines.Insert(1, _model.Problems.Count == 0 ? Texts.Format("Ui.ProblemsNone", _keys.Get("Config").First)
            : Texts.Format("Ui.ProblemsCount", _model.Problems.Count, _keys.Get("Problems").First, _keys.Get("Config").First));
        _imageDetails.Lines = lines;
        _merged = _model.LayersMerged;
        IsComplete = true;
        _layers.SetNeedsDraw();
        UpdateStatus();
    }

    public FileTreeView Tree => _tree;
    public LayersView Layers => _layers;
    public PagerView Pager => _pager;
    public KeyMap Keys => _keys;
    public Palette Palette => _palette;
    /// <summary>The help is open (in the viewer: it scrolls and searches on a small terminal).</summary>
    public bool HelpVisible => _viewerFrame.Visible && _viewing?.Title == Texts.Get("Ui.HelpTitle");
    public bool ViewerVisible => _viewerFrame.Visible;
    /// <summary>The viewer's title (what it shows, of which layer).</summary>
    public string ViewerTitle => _viewerFrame.Title;
    /// <summary>An explanation is open (it is shown in the viewer).</summary>
    public bool ExplainVisible => ViewerVisible;
    public string StatusText => _status.Hints;
    private string? _message;

    /// <summary>Says something on the status line until the next key.</summary>
    private void Say(string message)
    {
        _message = message;
        UpdateStatus();
    }

    private void ShowLayer(int layer)
    {
        _tree.Rows.Layer = layer;
        _tree.Rebuild();
        _treeFrame.Title = _compareWith is { } a ? Texts.Format("Ui.ComparedTree", layer, Label(a))
            : _tree.Rows.Aggregate ? Texts.Format("Ui.Aggregated", layer) : Texts.Format("Ui.CurrentLayer", layer);
        if (layer >= 0 && layer < _model.Layers.Count)
        {
            var l = _model.Layers[layer];
            _layerDetails.Lines =
            [
                Texts.Format("Ui.Digest", l.Digest ?? "-"),
                Texts.Format("Ui.DiffId", l.DiffId ?? "-"),
                Texts.Format("Ui.Stored", Units.HumanBytes(l.CompressedSize), Core.Layers.Decompression.Name(l.Compression), Units.HumanBytes(l.UncompressedSize), Units.HumanBytes(l.Size)),
                Texts.Format("Ui.Changes", l.Added, l.Modified, l.Removed, l.Unmodified),
                Texts.Format("Ui.Markers", l.Whiteouts.Count, l.OpaqueDirectories.Count, l.Verified ? Texts.Get("Ui.Verified") : ""),
                Texts.Format("Ui.Kind", Core.Analysis.LayerKinds.Label(_layers.KindOf(layer))),
                Texts.Get("Ui.Command"),
                .. Wrap(l.CreatedBy.Length == 0 ? Texts.Get("Ui.NoHistory") : l.CreatedBy, 200),
            ];
        }
        UpdateStatus();
    }

    private static IEnumerable<string> Wrap(string s, int max) => s.ReplaceLineEndings(" ").Chunk(max).Select(c => "  " + new string(c));

    private void ApplyFilter(string text)
    {
        try
        {
            _tree.Rows.Filter = string.IsNullOrEmpty(text) ? null : new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
        }
        catch (ArgumentException)
        {
            return; // an incomplete regex: keep the last good one while the user types
        }
        _tree.Rebuild();
        UpdateStatus();
    }

    /// <summary>The pane the keys go to: the viewer while it is open, else the focused pane.</summary>
    private Pane FocusedPane => Mode == InputMode.Viewer ? Pane.Viewer : _tree.HasFocus ? Pane.Tree : Pane.Layers;

    private void UpdateStatus()
    {
        if (Mode is InputMode.Filter or InputMode.Search or InputMode.ExtractTo)
        {
            _status.Set([(Texts.Get(Mode == InputMode.Search ? "Ui.Search" : Mode == InputMode.ExtractTo ? "Ui.ExtractTo" : "Ui.Filter"), false)]);
            return;
        }
        if (_message is not null)
        {
            _status.Set([(_message, true)]);
            _message = null;
            return;
        }
        var items = new List<(string, bool)>();
        var pane = FocusedPane;
        // the focused pane's own keys first, then those that work everywhere
        foreach (var k in _keys.All.Where(k => k.Pane == pane).Concat(_keys.All.Where(k => k.Pane != pane && (k.Pane & pane) != 0)))
        {
            if (k.Short is null || k.Keys.Count == 0) continue; // movement keys need no reminder
            bool active = k.Toggle switch
            {
                "layer" => !_tree.Rows.Aggregate,
                "aggregate" => _tree.Rows.Aggregate,
                "added" => !_tree.Rows.Hidden.Contains(RowStatus.Added),
                "removed" => !_tree.Rows.Hidden.Contains(RowStatus.Removed),
                "modified" => !_tree.Rows.Hidden.Contains(RowStatus.Modified),
                "unmodified" => !_tree.Rows.Hidden.Contains(RowStatus.Unmodified),
                "attributes" => _tree.ShowAttributes,
                "size" => _tree.Rows.SortBySize,
                "wrap" => _tree.Wrap,
                _ => k.Id switch
                {
                    "ViewerDiff" => _viewing?.Diff == true,
                    "ViewerHex" => _viewing?.Hex == true,
                    _ => false,
                },
            };
            items.Add(($"{k.First} {k.Short}", active));
        }
        _status.Set(items);
    }

    /// <summary>The key table's actions by binding id; each checks where it applies.</summary>
    private Dictionary<string, Action> Actions() => new()
    {
        ["Quit"] = () => App?.RequestStop(),
        ["Switch"] = () => { (_tree.HasFocus ? (View)_layers : _tree).SetFocus(); UpdateStatus(); },
        ["Filter"] = () => Prompt(InputMode.Filter, 9, _tree.Rows.Filter?.ToString() ?? ""),
        ["CloseFilter"] = () => { },
        ["Help"] = () => { if (HelpVisible) CloseViewer(); else ShowLines(Texts.Get("Ui.HelpTitle"), HelpLines()); },
        ["Up"] = () => Move(-1, page: false),
        ["Down"] = () => Move(1, page: false),
        ["PageUp"] = () => Move(-1, page: true),
        ["PageDown"] = () => Move(1, page: true),
        ["LayerChanges"] = () => { _tree.Rows.Aggregate = false; ShowLayer(_layers.SelectedLayer); },
        ["Aggregated"] = () => { _tree.Rows.Aggregate = true; ShowLayer(_layers.SelectedLayer); },
        ["Parent"] = _tree.Parent,
        ["Expand"] = _tree.Expand,
        ["View"] = View,
        ["Fold"] = _tree.Fold,
        ["FoldAll"] = _tree.FoldAll,
        ["Added"] = () => _tree.ToggleHidden(RowStatus.Added),
        ["Removed"] = () => _tree.ToggleHidden(RowStatus.Removed),
        ["Modified"] = () => _tree.ToggleHidden(RowStatus.Modified),
        ["Unmodified"] = () => _tree.ToggleHidden(RowStatus.Unmodified),
        ["Attributes"] = _tree.ToggleAttributes,
        ["Sort"] = _tree.ToggleSort,
        ["Wrap"] = _tree.ToggleWrap,
        ["Extract"] = () =>
        {
            if (Extract is null) return;
            if (!IsComplete) { Say(Texts.Get("Ui.StillReading")); return; }
            Prompt(InputMode.ExtractTo, 12, "");
        },
        ["Explain"] = ExplainSelected,
        ["Waste"] = JumpToWaste,
        ["Search"] = () => Prompt(InputMode.Search, 9, ""),
        ["SearchNext"] = () => { if (!Find(forward: true)) Say(Texts.Format("Ui.NoMatch", _search)); },
        ["SearchPrevious"] = () => { if (!Find(forward: false)) Say(Texts.Format("Ui.NoMatch", _search)); },
        ["Config"] = () => ShowLines(Texts.Get("Ui.ConfigTitle"), Cli.InspectCommand.Lines(_model)),
        ["Problems"] = () =>
        {
            if (!IsComplete) { Say(Texts.Get("Ui.StillReading")); return; }
            ShowLines(Texts.Format("Ui.ProblemsTitle", _model.Problems.Count),
                _model.Problems.Count == 0 ? [Texts.Get("Ui.NoProblems")] : [.. _model.Problems.Select(p => p.ToString())]);
        },
        ["ViewerDiff"] = ToggleDiff,
        ["ViewerHex"] = ToggleHex,
        ["ViewerTop"] = () => _pager.ScrollTo(0),
        ["ViewerEnd"] = _pager.End,
        ["ViewerClose"] = CloseViewer,
    };

    private void Move(int direction, bool page)
    {
        switch (FocusedPane)
        {
            case Pane.Viewer: _pager.ScrollBy(direction * (page ? _pager.PageSize : 1)); break;
            case Pane.Tree: if (page) _tree.Page(direction); else _tree.MoveBy(direction); break;
            default: if (page) _layers.Page(direction); else _layers.MoveBy(direction); break;
        }
    }

    /// <summary>Opens the one-line prompt at the bottom (filter, search, extract-to).</summary>
    private void Prompt(InputMode mode, int x, string text)
    {
        Mode = mode;
        _filter.Text = text;
        _filter.X = x;
        _filter.Visible = true;
        _filter.SetFocus();
        UpdateStatus();
    }

    private bool Find(bool forward = true, bool includeCurrent = false, string? text = null)
    {
        if (text is not null) _search = text;
        return _viewerFrame.Visible ? _pager.Find(_search, forward, includeCurrent) : _tree.Find(_search, forward, includeCurrent);
    }

    private void ExplainSelected()
    {
        if (!IsComplete) { Say(Texts.Get("Ui.StillReading")); return; }
        if (_tree.Current is not { } row) return;
        var explanation = Explainer.Explain(_model, row.Node.Path);
        var lines = explanation is null ? [Texts.Get("Explain.NoLayer")] : Explainer.Describe(explanation).ToList();
        if (_compareWith is { } a)
        {
            // compare mode: the same path's story in A
            var before = Explainer.Explain(a, row.Node.Path);
            lines = [Texts.Format("Ui.InImage", "B", Label(_model)), .. lines, "", Texts.Format("Ui.InImage", "A", Label(a)), .. (before is null ? [Texts.Get("Explain.NoLayer")] : Explainer.Describe(before))];
        }
        ShowLines(Texts.Format("Ui.ExplainTitle", "/" + row.Node.Path), lines);
    }

    private void JumpToWaste()
    {
        if (!IsComplete) { Say(Texts.Get("Ui.StillReading")); return; }
        if (_tree.Current is not { } wasted) return;
        var item = _removable.FirstOrDefault(i => i.Path == wasted.Node.Path);
        if (item is null) { Say(Texts.Format("Ui.NoWaste", "/" + wasted.Node.Path)); return; }
        _layers.Select(item.StoredBy);
        _layers.SetFocus();
        string verb = Texts.Get("Ui.Waste." + item.Reason);
        Say(Texts.Format("Ui.Waste", item.StoredBy, Units.HumanBytes(item.Bytes), "/" + item.Path, item.WastedBy, verb));
    }

    /// <summary>Shows lines in the viewer (an explanation, the config, the problems).</summary>
    private void ShowLines(string title, IReadOnlyList<string> lines, IReadOnlyList<LineKind>? kinds = null) =>
        OpenViewer(new Viewing(title, null, _tree.Rows.Layer), new ListContent(lines, kinds));

    private void OpenViewer(Viewing viewing, PagerContent content)
    {
        if (Mode != InputMode.Viewer) _beforeViewer = _tree.HasFocus ? _tree : _layers;
        if (_viewing?.Bytes is { } old && !ReferenceEquals(old, viewing.Bytes)) old.Dispose();
        _pager.Content.Dispose();
        _viewing = viewing;
        _pager.Content = content;
        _viewerFrame.Title = viewing.Diff ? viewing.Title + " · " + Texts.Get("Ui.DiffMode") : viewing.Title;
        _viewerFrame.Visible = true;
        Mode = InputMode.Viewer;
        _pager.SetFocus();
        SetNeedsDraw();
        UpdateStatus();
    }

    private void CloseViewer()
    {
        _pager.Content.Dispose();
        _pager.Content = new ListContent([]);
        _viewing?.Bytes?.Dispose();
        _viewing = null;
        _viewerFrame.Visible = false;
        Mode = InputMode.Normal;
        (_beforeViewer ?? _tree).SetFocus();
        SetNeedsDraw();
        UpdateStatus();
    }

    /// <summary>The file's bytes as text or hex (a view of the copy the viewing holds).</summary>
    private static PagerContent Content(Viewing viewing) => viewing.Hex ? new HexContent(viewing.Bytes!) : new TextFileContent(viewing.Bytes!);

    /// <summary>Enter: a file's content as of the selected layer, a link's target; a directory folds.</summary>
    private void View()
    {
        if (_tree.Current is not { } row) return;
        if (row.Attributes.IsDirectory) { _tree.Fold(); return; }
        if (ReadContent is null) return;
        int layer = _tree.Rows.Layer;
        FileVersion version;
        try
        {
            version = FileContent.Locate(_model, row.Node.Path, layer, follow: false);
        }
        catch (ImageException ex)
        {
            Say(ex.Message);
            return;
        }
        string title = Texts.Format("Ui.ViewerTitle", "/" + row.Node.Path, layer);
        if (version.RemovedIn is int removed) title += " · " + Texts.Format("Ui.ViewerDeleted", removed, version.Layer);
        if (version.Attributes.Type == FileType.Symlink)
        {
            var lines = new List<string> { Texts.Format("Ui.ViewerLink", "/" + row.Node.Path, version.Attributes.LinkTarget ?? "") };
            try
            {
                var target = FileContent.Locate(_model, row.Node.Path, version.RemovedIn is null ? layer : version.Layer, follow: true);
                lines.Add(Texts.Format("Ui.ViewerLinkResolves", "/" + target.Resolved, Units.HumanBytes(target.Size)));
            }
            catch (ImageException ex)
            {
                lines.Add(ex.Message);
            }
            OpenViewer(new Viewing(title, version, layer), new ListContent(lines));
            return;
        }
        var spooled = Spool(version, out var error);
        if (spooled is null) { Say(error!); return; }
        bool binary = LooksBinary(spooled);
        var viewing = new Viewing(title, version, layer, spooled) { Binary = binary, Hex = binary };
        OpenViewer(viewing, Content(viewing));
    }

    /// <summary>The version's bytes in a private temporary file, deleted when closed; null (and why) when they cannot be read.</summary>
    private FileStream? Spool(FileVersion version, out string? error)
    {
        error = null;
        var path = Path.Combine(Path.GetTempPath(), $"layerdive-view-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);
        try
        {
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.Delete(path); // the open handle keeps it: nothing is left behind, even if the process is killed
            }
            ReadContent!(version, file);
            file.Position = 0;
            return file;
        }
        catch (Exception ex) when (ex is ImageException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            file.Dispose();
            error = Texts.Format("Ui.NotViewed", ex.Message);
            return null;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pager.Content.Dispose();
            _viewing?.Bytes?.Dispose(); // the viewer's copy of a file, if it is still open
        }
        base.Dispose(disposing);
    }

    /// <summary>A NUL in the first 8000 bytes makes a file binary (as git and GNU diff decide).</summary>
    private static bool LooksBinary(Stream s)
    {
        var head = new byte[8000];
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        s.Position = 0;
        return head.AsSpan(0, n).Contains((byte)0);
    }

    /// <summary>The largest file the viewer diffs (both versions are held as lines).</summary>
    private const long DiffLimit = 16 << 20;

    private void ToggleDiff()
    {
        if (_viewing is not { Version: { } version, Bytes: { } bytes } viewing) { Say(Texts.Get("Ui.NoDiffHere")); return; }
        if (viewing.Diff)
        {
            var back = viewing with { Diff = false };
            OpenViewer(back, Content(back));
            return;
        }
        var node = _model.Find(version.Resolved);
        var record = node?.RecordIn(viewing.Layer);
        FileVersion? before = null;
        if (record is { Kind: ChangeKind.Modified } && viewing.Layer > 0)
        {
            try { before = FileContent.Locate(_model, version.Resolved, viewing.Layer - 1, follow: false); }
            catch (ImageException) { }
        }
        if (before is null || before.RemovedIn is not null || before.Attributes.Type != FileType.File)
        {
            Say(Texts.Format("Ui.NotModifiedHere", "/" + version.Resolved, viewing.Layer));
            return;
        }
        if (before.Size > DiffLimit || version.Size > DiffLimit) { Say(Texts.Format("Ui.TooLargeToDiff", Units.HumanBytes(DiffLimit))); return; }
        // the version below is copied from its layer; this one is the copy the viewer holds
        using var a = Spool(before, out var error);
        if (a is null) { Say(error!); return; }
        List<string> lines;
        List<LineKind> kinds;
        if (viewing.Binary || LooksBinary(a))
        {
            lines = [Texts.Format("Ui.BinaryDiffers", Units.HumanBytes(before.Size), Units.HumanBytes(version.Size))];
            kinds = [LineKind.Note];
        }
        else
        {
            (lines, kinds) = UnifiedDiff.Build(ReadAll(a), ReadAll(bytes), $"/{version.Resolved} ({Texts.Format("Ui.LayerN", before.Layer)})", $"/{version.Resolved} ({Texts.Format("Ui.LayerN", viewing.Layer)})");
            if (lines.Count <= 2)
            {
                lines.Add(Texts.Format("Ui.SameContent", before.Attributes.Diff(version.Attributes)));
                kinds.Add(LineKind.Note);
            }
        }
        OpenViewer(viewing with { Diff = true }, new ListContent(lines, kinds));
    }

    /// <summary>A copy's text from its start (the copy stays open for the views that share it).</summary>
    private static string ReadAll(Stream s)
    {
        s.Position = 0;
        using var reader = new StreamReader(s, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        return reader.ReadToEnd();
    }

    private void ToggleHex()
    {
        if (_viewing is not { Bytes: not null } viewing) { Say(Texts.Get("Ui.NoHexHere")); return; }
        var next = viewing with { Hex = !viewing.Hex, Diff = false };
        OpenViewer(next, Content(next));
    }

    protected override bool OnKeyDown(Key key)
    {
        switch (Mode)
        {
            case InputMode.Filter or InputMode.Search or InputMode.ExtractTo:
                return PromptKey(key);
        }
        var binding = _keys.Find(key, FocusedPane);
        if (binding is null)
        {
            // Esc closes overlays and prompts; it never quits. Nothing else unbound gets through in the viewer.
            return key == Key.Esc || Mode == InputMode.Viewer || base.OnKeyDown(key);
        }
        if (_message is not null) UpdateStatus(); // a message lasts until the next key
        LastAction = binding.Id;
        _actions[binding.Id]();
        return true;
    }

    /// <summary>A key while the prompt is open: Enter or the close keys end it; the rest is the prompt's text.</summary>
    private bool PromptKey(Key key)
    {
        bool close = key == Key.Esc || _keys.Is("CloseFilter", key);
        if (!close && key != Key.Enter) return false;
        var mode = Mode;
        Mode = _viewerFrame.Visible ? InputMode.Viewer : InputMode.Normal;
        _filter.Visible = false;
        string text = _filter.Text;
        (_viewerFrame.Visible ? _pager : (View)_tree).SetFocus();
        switch (mode)
        {
            case InputMode.ExtractTo:
                _filter.Text = "";
                if (key == Key.Enter && text.Length > 0 && _tree.Current is { } selected && Extract is not null)
                {
                    string said;
                    try { said = Extract(selected.Node.Path, _tree.Rows.Layer, text); }
                    catch (Exception ex) when (ex is ImageException or IOException or UnauthorizedAccessException) { said = Texts.Format("Ui.NotExtracted", ex.Message); }
                    Say(said);
                    return true;
                }
                break;
            case InputMode.Search:
                _filter.Text = "";
                break;
            case InputMode.Filter when close:
                _filter.Text = "";
                ApplyFilter("");
                break;
        }
        UpdateStatus();
        return true;
    }
}

/// <summary>A few lines of text, clipped to the pane.</summary>
public sealed class TextLinesView : View
{
    private IReadOnlyList<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get => _lines;
        set { _lines = value; SetNeedsDraw(); }
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        SetAttribute(normal);
        for (int i = 0; i < Viewport.Height; i++)
        {
            Move(0, i);
            AddStr(Clip(i < _lines.Count ? _lines[i] : "", Viewport.Width));
        }
        return true;
    }

    internal static string Clip(string s, int width)
    {
        s = PathText.Escape(s);
        return s.Length > width ? s[..Math.Max(0, width)] : s.PadRight(width);
    }
}

/// <summary>The bottom line: the focused pane's keys, active toggles highlighted.</summary>
public sealed class StatusLine : View
{
    private IReadOnlyList<(string Text, bool Active)> _items = [];

    public void Set(IReadOnlyList<(string, bool)> items)
    {
        _items = items;
        SetNeedsDraw();
    }

    public string Hints => string.Join(" ", _items.Select(i => i.Text));

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        var active = new Attr(normal.Background, normal.Foreground);
        Move(0, 0);
        int used = 0;
        foreach (var (text, on) in _items)
        {
            if (used + text.Length + 1 > Viewport.Width) break;
            SetAttribute(on ? active : normal);
            AddStr(text);
            SetAttribute(normal);
            AddStr(" ");
            used += text.Length + 1;
        }
        SetAttribute(normal);
        AddStr(new string(' ', Math.Max(0, Viewport.Width - used)));
        return true;
    }
}
