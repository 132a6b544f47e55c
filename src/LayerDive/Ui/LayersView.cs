using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace LayerDive.Ui;

/// <summary>
/// The layers pane: index, size, stored size, a bar of the layer's share, and the command; history
/// entries that made no layer (ENV, LABEL, CMD) are listed dimmed between the layers they sit between.
/// </summary>
public sealed class LayersView : View
{
    private readonly ImageModel _model;
    private readonly Palette _palette;
    private readonly List<(int? Layer, string Command)> _lines = [];
    private int _top;

    public LayersView(ImageModel model, Palette palette)
    {
        _model = model;
        _palette = palette;
        var history = model.Config.History.Count > 0 ? model.Config.History
            : model.Layers.Select(l => new HistoryEntry(l.Index, null, "", null, null, false) { LayerIndex = l.Index }).ToList();
        foreach (var h in history)
        {
            if (h.LayerIndex is int i && i < model.Layers.Count) _lines.Add((i, OneLine(model.Layers[i].CreatedBy)));
            else if (h.LayerIndex is null) _lines.Add((null, OneLine(h.CreatedBy)));
        }
        for (int i = 0; i < model.Layers.Count; i++)
            if (!_lines.Any(x => x.Layer == i)) _lines.Add((i, ""));
        SelectedLayer = model.Layers.Count > 0 ? 0 : -1;
    }

    /// <summary>A line of the pane: a layer's figures (once it is merged) and command, or a step that made no layer.</summary>
    private string LineText(int? layer, string command)
    {
        if (layer is not int i) return $"    {"",8} {"",8}       {"",-5} {command}";
        if (i >= _model.LayersMerged) return $"{i,3} {"…",8} {"…",8}       {Kind(i),-5} {command}";
        var l = _model.Layers[i];
        // a layer's share of the image is known once every layer is
        int bar = _model.IsComplete ? (int)Math.Round(5.0 * l.Size / Math.Max(1, _model.SizeBytes)) : 0;
        string share = _model.IsComplete ? new string('█', bar) + new string('·', 5 - bar) : "     ";
        // the kind column says RUN or COPY: the command goes on without saying it again
        var kind = Kind(i);
        if (kind.Length > 1 && command.StartsWith(kind + " ", StringComparison.Ordinal)) command = command[(kind.Length + 1)..];
        return $"{i,3} {Units.HumanBytes(l.Size),8} {Units.HumanBytes(l.CompressedSize),8} {share} {kind,-5} {(Shared.Contains(i) ? "= " : "")}{command}";
    }

    public static string Header => LayerDive.Core.Text.Get("Ui.LayersHeader");

    private IReadOnlyList<Core.Analysis.LayerKind>? _kinds;

    /// <summary>Each layer's kind, from the history (known before the layers are read), worked out once.</summary>
    public Core.Analysis.LayerKind KindOf(int layer) => (_kinds ??= Core.Analysis.LayerKinds.Of(_model))[layer];

    /// <summary>The layer's kind, short (base, RUN, COPY, ctr).</summary>
    private string Kind(int layer) => layer < _model.Layers.Count ? LayerDive.Core.Text.Get("Kind.Short." + KindOf(layer)) : "";

    /// <summary>Compare mode: the layers image A shares on the same base (stored once by an engine), marked "=".</summary>
    public IReadOnlySet<int> Shared { get; set; } = new HashSet<int>();

    public int SelectedLayer { get; private set; }

    public event Action<int>? SelectionChanged;

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Replace("/bin/sh -c #(nop) ", "").Replace("/bin/sh -c ", "RUN ");

    /// <summary>Selects a layer; only a merged one can be (the image may still be being read).</summary>
    public void Select(int layer)
    {
        if (layer < 0 || layer >= _model.LayersMerged || layer == SelectedLayer) return;
        SelectedLayer = layer;
        SetNeedsDraw();
        SelectionChanged?.Invoke(layer);
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        int height = Viewport.Height - 1;
        int cursor = _lines.FindIndex(x => x.Layer == SelectedLayer);
        if (cursor < _top) _top = cursor;
        if (cursor >= _top + height) _top = cursor - height + 1;
        _top = Math.Max(0, _top);
        SetAttribute(normal);
        Move(0, 0);
        AddStr(TextLinesView.Clip(Header, Viewport.Width));
        for (int row = 0; row < height; row++)
        {
            int i = _top + row;
            Move(0, row + 1);
            if (i >= _lines.Count) { SetAttribute(normal); AddStr(new string(' ', Viewport.Width)); continue; }
            var (layer, command) = _lines[i];
            string text = LineText(layer, command);
            var attr = layer is null || layer >= _model.LayersMerged ? _palette.Dim(normal) : normal;
            if (layer == SelectedLayer) attr = HasFocus ? _palette.Cursor(normal) : _palette.Selected(normal);
            SetAttribute(attr);
            AddStr(TextLinesView.Clip(text, Viewport.Width));
        }
        return true;
    }

    /// <summary>Moves the selection by <paramref name="layers"/> (the explorer's key table calls it).</summary>
    public void MoveBy(int layers) => Select(Math.Clamp(SelectedLayer + layers, 0, Math.Max(0, _model.LayersMerged - 1)));

    /// <summary>A page of the pane, up (-1) or down (1).</summary>
    public void Page(int direction) => MoveBy(direction * Math.Max(1, Viewport.Height - 2));

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.IsSingleClicked && mouse.Position is { } p && p.Y >= 1 && _top + p.Y - 1 < _lines.Count)
        {
            SetFocus();
            if (_lines[_top + p.Y - 1].Layer is int layer) Select(layer);
            return true;
        }
        if (mouse.IsWheel)
        {
            Select(SelectedLayer + (mouse.Flags.HasFlag(MouseFlags.WheeledDown) ? 1 : -1));
            return true;
        }
        return false;
    }
}
