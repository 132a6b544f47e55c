using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;

namespace LayerDive.Ui.Viewer;

/// <summary>Draws a <see cref="Pager"/>: the lines in view, numbered where the content has numbers, the search's match marked.</summary>
public sealed class PagerView : View
{
    private readonly Pager _pager;
    private readonly Palette _palette;

    public PagerView(Pager pager, Palette palette)
    {
        _pager = pager;
        _palette = palette;
    }

    protected override void OnViewportChanged(DrawEventArgs e) => _pager.Height = Viewport.Height;

    protected override bool OnDrawingContent(DrawContext? context)
    {
        _pager.Height = Viewport.Height;
        var content = _pager.Content;
        int top = _pager.Top;
        var normal = GetAttributeForRole(VisualRole.Normal);
        int width = Math.Max(1, Viewport.Width);
        // the numbers' width: enough for the last line in view
        int digits = content.Numbered ? Math.Max(4, (top + Viewport.Height).ToString().Length) : 0;
        for (int row = 0; row < Viewport.Height; row++)
        {
            int index = top + row;
            var line = content.Line(index);
            var kind = line is null ? LineKind.Normal : content.Kind(index);
            Move(0, row);
            // a note the viewer adds (the rest of a file not shown) is not a line of the file: no number
            string text = line is null ? "" : content.Numbered && kind != LineKind.Note ? $"{(index + 1).ToString().PadLeft(digits)} │ {line}" : line;
            var attr = line is null ? normal : _palette.ForLine(kind, normal);
            if (index == _pager.Match) attr = _palette.Cursor(attr);
            SetAttribute(attr);
            AddStr(TextLinesView.Clip(text, width));
        }
        return true;
    }
}
