using LayerDive.Core;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace LayerDive.Ui;

/// <summary>
/// The file tree pane: dive's columns (permission, uid:gid, size) and tree glyphs, coloured by change,
/// <c>→ target</c> for links, removed paths in red, opaque directories marked. Only the rows in view
/// are drawn; the row list is rebuilt when the layer, a filter or a toggle changes.
/// </summary>
public sealed class FileTreeView : View
{
    private readonly Palette _palette;
    private List<TreeRow> _rows = [];
    private int _cursor, _top;

    public FileTreeView(ImageModel model, Palette palette)
    {
        _palette = palette;
        Rows = new TreeRows(model) { Layer = model.TopLayer };
    }

    public TreeRows Rows { get; }
    public bool ShowAttributes { get; set; } = true;
    /// <summary>Long rows continue on the next lines instead of being cut at the pane's edge.</summary>
    public bool Wrap { get; private set; }
    public IReadOnlyList<TreeRow> VisibleRows => _rows;
    public TreeRow? Current => _cursor < _rows.Count ? _rows[_cursor] : null;

    public event Action? Changed;

    /// <summary>Moves the cursor to the next (or previous) row whose path contains <paramref name="text"/>; false when none does.</summary>
    public bool Find(string text, bool forward = true, bool includeCurrent = false)
    {
        if (string.IsNullOrEmpty(text) || _rows.Count == 0) return false;
        for (int step = includeCurrent ? 0 : 1; step <= _rows.Count; step++)
        {
            int i = ((forward ? _cursor + step : _cursor - step) % _rows.Count + _rows.Count) % _rows.Count;
            if (_rows[i].Node.Path.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                MoveTo(i);
                return true;
            }
        }
        return false;
    }

    /// <summary>Attribute columns are shown when asked for and when the pane is wide enough (as dive drops them).</summary>
    private bool AttributesShown => ShowAttributes && Viewport.Width >= 70;

    public const string AttributesHeader = "Permission     UID:GID       Size  Filetree";

    public void Rebuild()
    {
        var keep = Current?.Node;
        _rows = Rows.Build();
        int at = keep is null ? -1 : _rows.FindIndex(r => r.Node == keep);
        _cursor = at >= 0 ? at : Math.Min(_cursor, Math.Max(0, _rows.Count - 1));
        SetNeedsDraw();
        Changed?.Invoke();
    }

    /// <summary>The text of one row, as drawn (without colour).</summary>
    public string RowText(TreeRow r, bool attributes)
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

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        int height = Viewport.Height - 1;
        if (_cursor < _top) _top = _cursor;
        if (_cursor >= _top + height) _top = _cursor - height + 1;
        _top = Math.Max(0, _top);
        SetAttribute(normal);
        Move(0, 0);
        AddStr(TextLinesView.Clip(AttributesShown ? AttributesHeader : "Filetree", Viewport.Width));
        // with wrapping, a row may take several lines: keep the cursor's row (all of it) in view
        int width = Math.Max(1, Viewport.Width);
        int Lines(int i) => Wrap ? Math.Max(1, (RowText(_rows[i], AttributesShown).Length + width - 1) / width) : 1;
        while (Wrap && _top < _cursor && Enumerable.Range(_top, _cursor - _top + 1).Sum(Lines) > height) _top++;
        int line = 0;
        for (int i = _top; line < height; i++)
        {
            if (i >= _rows.Count)
            {
                Move(0, ++line);
                SetAttribute(normal);
                AddStr(new string(' ', width));
                continue;
            }
            var r = _rows[i];
            var attr = _palette.For(r.Status, normal);
            if (i == _cursor && HasFocus) attr = _palette.Cursor(attr);
            var text = RowText(r, AttributesShown);
            int pieces = Wrap ? Lines(i) : 1;
            for (int p = 0; p < pieces && line < height; p++)
            {
                Move(0, ++line);
                SetAttribute(attr);
                var piece = Wrap ? text.Substring(p * width, Math.Min(width, text.Length - p * width)) : text;
                AddStr(piece.Length > width ? piece[..width] : piece.PadRight(width));
            }
        }
        return true;
    }

    private void MoveTo(int index)
    {
        _cursor = Math.Clamp(index, 0, Math.Max(0, _rows.Count - 1));
        SetNeedsDraw();
        Changed?.Invoke();
    }

    /// <summary>Shows or hides the rows of one change status (the explorer's key table calls these).</summary>
    public void ToggleHidden(RowStatus s)
    {
        if (!Rows.Hidden.Remove(s)) Rows.Hidden.Add(s);
        Rebuild();
    }

    public void MoveBy(int rows) => MoveTo(_cursor + rows);

    public void Page(int direction) => MoveBy(direction * Math.Max(1, Viewport.Height - 2));

    /// <summary>Left: collapses an open directory, else goes to the parent.</summary>
    public void Parent()
    {
        var cur = Current;
        if (cur is { HasChildren: true, Collapsed: false }) { Rows.Toggle(cur.Node); Rebuild(); }
        else if (cur?.Node.Parent is { IsRoot: false } parent) MoveTo(_rows.FindIndex(r => r.Node == parent));
    }

    /// <summary>Right: expands a collapsed directory.</summary>
    public void Expand()
    {
        if (Current is { Collapsed: true } cur) { Rows.Toggle(cur.Node); Rebuild(); }
    }

    public void Fold()
    {
        if (Current is { HasChildren: true } cur) { Rows.Toggle(cur.Node); Rebuild(); }
    }

    public void FoldAll()
    {
        bool anyOpen = _rows.Any(r => r.HasChildren && !r.Collapsed);
        Rows.SetAllCollapsed(anyOpen);
        Rebuild();
    }

    public void ToggleAttributes()
    {
        ShowAttributes = !ShowAttributes;
        SetNeedsDraw();
        Changed?.Invoke();
    }

    public void ToggleSort()
    {
        Rows.SortBySize = !Rows.SortBySize;
        Rebuild();
    }

    public void ToggleWrap()
    {
        Wrap = !Wrap;
        SetNeedsDraw();
        Changed?.Invoke();
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.IsSingleClicked && mouse.Position is { } p && p.Y >= 1)
        {
            SetFocus();
            MoveTo(_top + p.Y - 1);
            return true;
        }
        if (mouse.IsDoubleClicked && Current is { HasChildren: true } c)
        {
            Rows.Toggle(c.Node);
            Rebuild();
            return true;
        }
        if (mouse.IsWheel)
        {
            MoveTo(_cursor + (mouse.Flags.HasFlag(MouseFlags.WheeledDown) ? 3 : -3));
            return true;
        }
        return false;
    }
}
