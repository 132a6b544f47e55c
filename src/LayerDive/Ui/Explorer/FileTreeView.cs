using LayerDive.Core;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The file tree pane: dive's columns (permission, uid:gid, size) and tree glyphs, coloured by change,
/// <c>→ target</c> for links, removed paths in red, opaque directories marked. It draws a
/// <see cref="FileTree"/>: only the rows in view, scrolled to keep the cursor's row in sight.
/// </summary>
public sealed class FileTreeView : View
{
    private readonly FileTree _tree;
    private readonly Palette _palette;
    private int _top;

    public FileTreeView(FileTree tree, Palette palette)
    {
        _tree = tree;
        _palette = palette;
        _tree.Changed += SetNeedsDraw;
    }

    /// <summary>Attribute columns are shown when asked for and when the pane is wide enough (as dive drops them).</summary>
    private bool AttributesShown => _tree.ShowAttributes && Viewport.Width >= 70;

    public const string AttributesHeader = "Permission     UID:GID       Size  Filetree";

    /// <summary>The text of one row, as drawn (without colour).</summary>
    public static string RowText(TreeRow r, bool attributes)
    {
        var a = r.Attributes;
        string glyph = r.Prefix();
        string collapsed = r.Collapsed ? "⊕ " : "";
        string link = a.Type == FileType.Symlink ? " → " + a.LinkTarget : a.HardlinkTarget is not null ? " → " + a.HardlinkTarget : "";
        string opaque = r.Opaque ? "  [opaque]" : "";
        string name = PathText.Escape(r.Node.Name);
        if (!attributes) return $"{glyph}{collapsed}{name}{PathText.Escape(link)}{opaque}";
        string size = Units.HumanBytes(r.Size);
        return $"{a.ModeString()} {a.Uid + ":" + a.Gid,11} {size,10}  {glyph}{collapsed}{name}{PathText.Escape(link)}{opaque}";
    }

    protected override void OnViewportChanged(DrawEventArgs e) => _tree.PageRows = Math.Max(1, Viewport.Height - 2);

    protected override bool OnDrawingContent(DrawContext? context)
    {
        _tree.PageRows = Math.Max(1, Viewport.Height - 2);
        var rows = _tree.VisibleRows;
        int cursor = _tree.Cursor;
        var normal = GetAttributeForRole(VisualRole.Normal);
        int height = Viewport.Height - 1;
        if (cursor < _top) _top = cursor;
        if (cursor >= _top + height) _top = cursor - height + 1;
        _top = Math.Max(0, _top);
        SetAttribute(normal);
        Move(0, 0);
        AddStr(TextLinesView.Clip(AttributesShown ? AttributesHeader : "Filetree", Viewport.Width));
        // with wrapping, a row may take several lines: keep the cursor's row (all of it) in view
        int width = Math.Max(1, Viewport.Width);
        int Lines(int i) => _tree.Wrap ? Math.Max(1, (RowText(rows[i], AttributesShown).Length + width - 1) / width) : 1;
        while (_tree.Wrap && _top < cursor && Enumerable.Range(_top, cursor - _top + 1).Sum(Lines) > height) _top++;
        int line = 0;
        for (int i = _top; line < height; i++)
        {
            if (i >= rows.Count)
            {
                Move(0, ++line);
                SetAttribute(normal);
                AddStr(new string(' ', width));
                continue;
            }
            var r = rows[i];
            var attr = _palette.For(r.Status, normal);
            if (i == cursor && HasFocus) attr = _palette.Cursor(attr);
            var text = RowText(r, AttributesShown);
            int pieces = _tree.Wrap ? Lines(i) : 1;
            for (int p = 0; p < pieces && line < height; p++)
            {
                Move(0, ++line);
                SetAttribute(attr);
                var piece = _tree.Wrap ? text.Substring(p * width, Math.Min(width, text.Length - p * width)) : text;
                AddStr(piece.Length > width ? piece[..width] : piece.PadRight(width));
            }
        }
        return true;
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.IsSingleClicked && mouse.Position is { } p && p.Y >= 1)
        {
            SetFocus();
            _tree.MoveTo(_top + p.Y - 1);
            return true;
        }
        if (mouse.IsDoubleClicked && _tree.Current is { HasChildren: true })
        {
            _tree.Fold();
            return true;
        }
        if (mouse.IsWheel)
        {
            _tree.MoveBy(mouse.Flags.HasFlag(MouseFlags.WheeledDown) ? 3 : -3);
            return true;
        }
        return false;
    }
}
