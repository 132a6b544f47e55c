using System.Text.RegularExpressions;
using LayerDive.Core.Loading;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attr = Terminal.Gui.Drawing.Attribute;
using Texts = LayerDive.Core.Text;

namespace LayerDive.Ui;

/// <summary>Colours by change status; none at all under NO_COLOR (the cursor is then shown reversed).</summary>
public sealed class Palette(bool color)
{
    public bool Color { get; } = color;

    public Attr For(RowStatus status, Attr normal) => !Color ? normal : status switch
    {
        RowStatus.Added => new Attr(Terminal.Gui.Drawing.Color.Green, normal.Background),
        RowStatus.Modified => new Attr(Terminal.Gui.Drawing.Color.Yellow, normal.Background),
        RowStatus.Removed => new Attr(Terminal.Gui.Drawing.Color.Red, normal.Background),
        _ => normal,
    };

    public Attr Cursor(Attr a) => new(a.Background, a.Foreground);

    public Attr Dim(Attr normal) => Color ? new Attr(Terminal.Gui.Drawing.Color.DarkGray, normal.Background) : normal;
}

/// <summary>The explorer: layers and details on the left, the merged file tree on the right (SPEC §6).</summary>
public sealed class ExplorerWindow : Window
{
    private readonly ImageModel _model;
    private readonly ImageModel? _compareWith;
    private readonly Palette _palette;
    private readonly LayersView _layers;
    private readonly FileTreeView _tree;
    private readonly TextLinesView _layerDetails;
    private readonly FrameView _layersFrame, _treeFrame, _layerDetailsFrame, _imageFrame;
    private readonly TextLinesView _imageDetails;
    private readonly StatusLine _status;
    private readonly TextField _filter;
    private readonly FrameView _help;
    private readonly FrameView _explain;
    private bool _searching;
    private string _search = "";
    private IReadOnlyList<RemovableItem> _removable = [];
    private int _merged;
    private LoadProgress? _progress;
    private readonly TextLinesView _explainText;

    /// <summary>Writes a path of the tree after a layer into a folder; returns what to tell the user.</summary>
    public Func<string, int, string, string>? Extract { get; init; }

    private bool _extracting;

    /// <summary>
    /// The explorer over <paramref name="model"/>, which may still be loading: then <paramref name="dive"/>
    /// is null, only the merged layers can be selected, and <see cref="Refresh"/> and <see cref="Completed"/>
    /// bring in the rest as the load goes on.
    /// </summary>
    public ExplorerWindow(ImageModel model, DiveMetricsResult? dive, bool color, ImageModel? compareWith = null)
    {
        _model = model;
        _compareWith = compareWith;
        _palette = new Palette(color);
        Title = compareWith is null ? $"LayerDive: {model.Name}" : $"LayerDive: {model.Name} ({Texts.Format("Ui.ComparedWith", compareWith.Name)})";
        BorderStyle = LineStyle.None;

        _layersFrame = new FrameView { Title = Texts.Get("Ui.Layers"), X = 0, Y = 0, Width = Dim.Percent(40), Height = Dim.Percent(45), TabStop = TabBehavior.TabStop };
        _layers = new LayersView(model, _palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        _layersFrame.Add(_layers);
        _layerDetailsFrame = new FrameView { Title = Texts.Get("Ui.LayerDetails"), X = 0, Y = Pos.Bottom(_layersFrame), Width = Dim.Percent(40), Height = Dim.Percent(30), CanFocus = false };
        _layerDetails = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        _layerDetailsFrame.Add(_layerDetails);
        _imageFrame = new FrameView { Title = Texts.Get("Ui.ImageDetails"), X = 0, Y = Pos.Bottom(_layerDetailsFrame), Width = Dim.Percent(40), Height = Dim.Fill(1), CanFocus = false };
        _imageDetails = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        _imageFrame.Add(_imageDetails);
        _treeFrame = new FrameView { Title = Texts.Format("Ui.CurrentLayer", 0), X = Pos.Right(_layersFrame), Y = 0, Width = Dim.Fill(), Height = Dim.Fill(1), TabStop = TabBehavior.TabStop };
        _tree = new FileTreeView(model, _palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        if (compareWith is not null)
        {
            _tree.Rows.CompareWith = compareWith;
            _layers.Shared = ImageDiff.SharedLayers(compareWith, model).Where(s => s.SameChain).Select(s => s.IndexB).ToHashSet();
        }
        _treeFrame.Add(_tree);
        _status = new StatusLine { X = 0, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1 };
        _filter = new TextField { X = 9, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1, Visible = false };
        _help = new FrameView { Title = Texts.Get("Ui.HelpTitle"), X = Pos.Center(), Y = Pos.Center(), Width = Dim.Percent(80), Height = KeyMap.All.Count + 2, Visible = false, CanFocus = false };
        _help.Add(new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill(), Lines = KeyMap.All.Select(k => $"{k.Keys,-16} {k.Action}{(k.Pane == Pane.Any ? "" : "  (" + Texts.Format("Ui.Pane", Texts.Get("Ui.Pane." + k.Pane)) + ")")}").ToList() });
        _explainText = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        _explain = new FrameView { Title = Texts.Format("Ui.ExplainTitle", ""), X = Pos.Center(), Y = Pos.Center(), Width = Dim.Percent(90), Height = Dim.Percent(70), Visible = false, CanFocus = false };
        _explain.Add(_explainText);
        Add(_layersFrame, _layerDetailsFrame, _imageFrame, _treeFrame, _status, _filter, _help, _explain);

        _layers.SelectionChanged += ShowLayer;
        _filter.TextChanged += (_, _) =>
        {
            if (_extracting) return;
            if (_searching) { _search = _filter.Text; _tree.Find(_search, includeCurrent: true); }
            else ApplyFilter(_filter.Text);
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

    /// <summary>The image is read: its efficiency, what the overlay merge makes removable, and what needs every layer.</summary>
    public void Completed(DiveMetricsResult dive)
    {
        var overlay = OverlayMetrics.Compute(_model);
        _removable = overlay.Items;
        _imageDetails.Lines = Explorer.ImageLines(_model, dive, overlay);
        _merged = _model.LayersMerged;
        IsComplete = true;
        _layers.SetNeedsDraw();
        UpdateStatus();
    }

    public FileTreeView Tree => _tree;
    public LayersView Layers => _layers;
    public bool HelpVisible => _help.Visible;
    public bool ExplainVisible => _explain.Visible;
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

    private void UpdateStatus()
    {
        if (_filter.Visible)
        {
            _status.Set([(Texts.Get(_searching ? "Ui.Search" : _extracting ? "Ui.ExtractTo" : "Ui.Filter"), false)]);
            return;
        }
        if (_message is not null)
        {
            _status.Set([(_message, true)]);
            _message = null;
            return;
        }
        bool treeFocused = _tree.HasFocus;
        var items = new List<(string, bool)>();
        var pane = treeFocused ? Pane.Tree : Pane.Layers;
        foreach (var k in KeyMap.All.Where(k => k.Pane == pane).Concat(KeyMap.All.Where(k => k.Pane == Pane.Any)))
        {
            if (k.Short is null) continue; // movement keys need no reminder
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
                _ => false,
            };
            items.Add(($"{k.Keys.Split(',')[0].Replace("Ctrl+", "^")} {k.Short}", active));
        }
        _status.Set(items);
    }


    protected override bool OnKeyDown(Key key)
    {
        if (_filter.Visible)
        {
            if (key == Key.Esc || key == Key.Enter)
            {
                _filter.Visible = false;
                if (_extracting)
                {
                    _extracting = false;
                    string folder = _filter.Text;
                    _filter.Text = "";
                    _tree.SetFocus();
                    if (key == Key.Enter && folder.Length > 0 && _tree.Current is { } selected && Extract is not null)
                    {
                        string said;
                        try { said = Extract(selected.Node.Path, _tree.Rows.Layer, folder); }
                        catch (Exception ex) when (ex is ImageException or IOException or UnauthorizedAccessException) { said = Texts.Format("Ui.NotExtracted", ex.Message); }
                        Say(said);
                    }
                    else UpdateStatus();
                    return true;
                }
                if (_searching) { _searching = false; _filter.Text = ""; }
                else if (key == Key.Esc) { _filter.Text = ""; ApplyFilter(""); }
                _tree.SetFocus();
                UpdateStatus();
                return true;
            }
            return false;
        }
        if (_explain.Visible)
        {
            if (key == Key.Esc || key == Key.E || key == Key.Q) { _explain.Visible = false; SetNeedsDraw(); }
            return true;
        }
        if (_help.Visible)
        {
            if (key == Key.Esc || key.AsRune.Value == '?' || key == Key.Q) { _help.Visible = false; SetNeedsDraw(); }
            return true;
        }
        if (key == Key.C.WithCtrl || key == Key.Q)
        {
            App?.RequestStop();
            return true;
        }
        if (key == Key.Esc) return true; // Esc closes overlays; it never quits
        if (!IsComplete && _tree.HasFocus && (key == Key.E || key == Key.W || key == Key.E.WithCtrl))
        {
            Say(Texts.Get("Ui.StillReading"));
            return true;
        }
        if (key == Key.E && _tree.HasFocus && _tree.Current is { } row)
        {
            var explanation = Explainer.Explain(_model, row.Node.Path);
            var lines = explanation is null ? [Texts.Get("Explain.NoLayer")] : Explainer.Describe(explanation).ToList();
            if (_compareWith is { } a)
            {
                // compare mode: the same path's story in A
                var before = Explainer.Explain(a, row.Node.Path);
                lines = [Texts.Format("Ui.InImage", "B", Label(_model)), .. lines, "", Texts.Format("Ui.InImage", "A", Label(a)), .. (before is null ? [Texts.Get("Explain.NoLayer")] : Explainer.Describe(before))];
            }
            _explainText.Lines = lines;
            _explain.Title = Texts.Format("Ui.ExplainTitle", "/" + row.Node.Path);
            _explain.Visible = true;
            SetNeedsDraw();
            return true;
        }
        if (_tree.HasFocus && key == Key.E.WithCtrl && Extract is not null)
        {
            _extracting = true;
            _filter.Text = "";
            _filter.X = 12;
            _filter.Visible = true;
            _filter.SetFocus();
            UpdateStatus();
            return true;
        }
        if (_tree.HasFocus && key.AsRune.Value == '/')
        {
            _searching = true;
            _filter.Text = "";
            _filter.X = 9;
            _filter.Visible = true;
            _filter.SetFocus();
            UpdateStatus();
            return true;
        }
        if (_tree.HasFocus && (key == Key.N || key == Key.N.WithShift))
        {
            if (!_tree.Find(_search, forward: key == Key.N)) Say(Texts.Format("Ui.NoMatch", _search));
            return true;
        }
        if (_tree.HasFocus && key == Key.W && _tree.Current is { } wasted)
        {
            var item = _removable.FirstOrDefault(i => i.Path == wasted.Node.Path);
            if (item is null) { Say(Texts.Format("Ui.NoWaste", "/" + wasted.Node.Path)); return true; }
            _layers.Select(item.StoredBy);
            _layers.SetFocus();
            string verb = Texts.Get("Ui.Waste." + item.Reason);
            Say(Texts.Format("Ui.Waste", item.StoredBy, Units.HumanBytes(item.Bytes), "/" + item.Path, item.WastedBy, verb));
            return true;
        }
        if (key.AsRune.Value == '?')
        {
            _help.Visible = true;
            SetNeedsDraw();
            return true;
        }
        if (key == Key.Tab || key == Key.Tab.WithShift)
        {
            (_tree.HasFocus ? (View)_layers : _tree).SetFocus();
            UpdateStatus();
            return true;
        }
        if (key == Key.F.WithCtrl || key == new Key('/').WithCtrl)
        {
            _filter.X = 9;
            _filter.Visible = true;
            _filter.SetFocus();
            UpdateStatus();
            return true;
        }
        if (_layers.HasFocus && (key == Key.L.WithCtrl || key == Key.A.WithCtrl))
        {
            _tree.Rows.Aggregate = key == Key.A.WithCtrl;
            ShowLayer(_layers.SelectedLayer);
            return true;
        }
        return base.OnKeyDown(key);
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
