using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Attr = Terminal.Gui.Drawing.Attribute;

namespace LayerDive.Ui.Explorer;

/// <summary>The bottom line: the items <see cref="ExplorerViewModel.Status"/> gives, active toggles highlighted.</summary>
public sealed class StatusLine : View
{
    private IReadOnlyList<StatusItem> _items = [];

    public void Set(IReadOnlyList<StatusItem> items)
    {
        if (items.SequenceEqual(_items)) return;
        _items = items;
        SetNeedsDraw();
    }

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
