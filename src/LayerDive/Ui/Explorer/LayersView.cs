using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using LayerDive.Core.Resources;
using LayerDive.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The layers pane: index, size, stored size, a bar of the layer's share, and the command; history
/// entries that made no layer (ENV, LABEL, CMD) are listed dimmed between the layers they sit between.
/// </summary>
public sealed class LayersView : View
{
    private readonly ExplorerViewModel _explorer;
    private readonly ImageModel _model;
    private readonly Palette _palette;
    private readonly List<(int? Layer, string Command)> _lines = [];
    private int _top;

    public LayersView(ExplorerViewModel explorer, Palette palette)
    {
        _explorer = explorer;
        _model = explorer.Model;
        _palette = palette;
        var model = _model;
        var history = model.Config.History.Count > 0 ? model.Config.History
            : model.Layers.Select(l => new HistoryEntry(l.Index, null, "", null, null, false) { LayerIndex = l.Index }).ToList();
        foreach (var h in history)
        {
            if (h.LayerIndex is int i && i < model.Layers.Count) _lines.Add((i, OneLine(model.Layers[i].CreatedBy)));
            else if (h.LayerIndex is null) _lines.Add((null, OneLine(h.CreatedBy)));
        }
        for (int i = 0; i < model.Layers.Count; i++)
            if (!_lines.Any(x => x.Layer == i)) _lines.Add((i, ""));
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
        return $"{i,3} {Units.HumanBytes(l.Size),8} {Units.HumanBytes(l.CompressedSize),8} {share} {kind,-5} {(_explorer.Shared.Contains(i) ? "= " : "")}{command}";
    }

    public static string Header => UiStrings.Ui_LayersHeader;

    /// <summary>The layer's kind, short (base, RUN, COPY, ctr).</summary>
    private string Kind(int layer) => layer < _model.Layers.Count ? Core.Text.Lookup(Strings.ResourceManager, "Kind_Short" + _explorer.KindOf(layer)) : "";

    public int SelectedLayer => _explorer.Layer;

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Replace("/bin/sh -c #(nop) ", "").Replace("/bin/sh -c ", "RUN ");

    protected override void OnViewportChanged(DrawEventArgs e) => _explorer.LayerPageRows = Math.Max(1, Viewport.Height - 2);

    protected override bool OnDrawingContent(DrawContext? context)
    {
        _explorer.LayerPageRows = Math.Max(1, Viewport.Height - 2);
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

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.IsSingleClicked && mouse.Position is { } p && p.Y >= 1 && _top + p.Y - 1 < _lines.Count)
        {
            SetFocus();
            if (_lines[_top + p.Y - 1].Layer is int layer) _explorer.SelectLayer(layer);
            return true;
        }
        if (mouse.IsWheel)
        {
            _explorer.SelectLayer(SelectedLayer + (mouse.Flags.HasFlag(MouseFlags.WheeledDown) ? 1 : -1));
            return true;
        }
        return false;
    }
}
