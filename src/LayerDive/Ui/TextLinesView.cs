using LayerDive.Core;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;

namespace LayerDive.Ui;

/// <summary>A few lines of text, clipped to the pane.</summary>
public sealed class TextLinesView : View
{
    private IReadOnlyList<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get => _lines;
        set
        {
            if (ReferenceEquals(value, _lines)) return;
            _lines = value;
            SetNeedsDraw();
        }
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

    /// <summary>A line as a pane shows it: control characters escaped, cut or padded to the width.</summary>
    internal static string Clip(string s, int width)
    {
        s = PathText.Escape(s);
        return s.Length > width ? s[..Math.Max(0, width)] : s.PadRight(width);
    }
}
