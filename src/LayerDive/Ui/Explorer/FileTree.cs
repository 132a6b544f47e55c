using LayerDive.Core.Model;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The file tree pane's state: its rows (<see cref="TreeRows"/> lays them out), the cursor, and how they
/// are shown. <see cref="FileTreeView"/> draws it; the explorer's commands move and fold it.
/// </summary>
public sealed class FileTree
{
    private readonly RowList _rows;

    public FileTree(ImageModel model)
    {
        Rows = new TreeRows(model) { Layer = model.TopLayer };
        _rows = new RowList(Rows);
    }

    /// <summary>The laid out rows as a list: a row is made when it is read (the view reads the rows on screen).</summary>
    private sealed class RowList(TreeRows rows) : IReadOnlyList<TreeRow>
    {
        public int Count => rows.Count;

        public TreeRow this[int index] => rows.RowAt(index);

        public IEnumerator<TreeRow> GetEnumerator() => rows.AllRows().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    public TreeRows Rows { get; }

    public bool ShowAttributes { get; set; } = true;

    /// <summary>Long rows continue on the next lines instead of being cut at the pane's edge.</summary>
    public bool Wrap { get; private set; }

    public IReadOnlyList<TreeRow> VisibleRows => _rows;

    /// <summary>The index of the row the cursor is on.</summary>
    public int Cursor { get; private set; }

    public TreeRow? Current => Cursor < _rows.Count ? _rows[Cursor] : null;

    /// <summary>How many rows a page moves (the pane's height, told by the view that draws it).</summary>
    public int PageRows { get; set; } = 1;

    /// <summary>The rows, the cursor or how they are shown changed.</summary>
    public event Action? Changed;

    /// <summary>Moves the cursor to the next (or previous) row whose path contains <paramref name="text"/>; false when none does.</summary>
    public bool Find(string text, bool forward = true, bool includeCurrent = false)
    {
        int count = _rows.Count;
        if (string.IsNullOrEmpty(text) || count == 0) return false;
        // the rows in the order a step at a time from the cursor would meet them, wrapping round, the cursor's own
        // first when it counts and last otherwise; matched against the path as the tree shows it (\xHH where a name is not UTF-8)
        int cursor = Cursor, at = -1;
        if (includeCurrent) at = Rows.FindRow(text, cursor, cursor + 1, last: false);
        if (at < 0 && forward)
        {
            at = Rows.FindRow(text, cursor + 1, count, last: false);
            if (at < 0) at = Rows.FindRow(text, 0, cursor, last: false);
        }
        else if (at < 0)
        {
            at = Rows.FindRow(text, 0, cursor, last: true);
            if (at < 0) at = Rows.FindRow(text, cursor + 1, count, last: true);
        }
        if (at < 0 && !includeCurrent) at = Rows.FindRow(text, cursor, cursor + 1, last: false);
        if (at < 0) return false;
        MoveTo(at);
        return true;
    }

    /// <summary>Lays the rows out again (the layer, a filter or a toggle changed), keeping the cursor on its path where it is still shown.</summary>
    public void Rebuild()
    {
        var keep = Current?.Node;
        Rows.Layout();
        int at = keep is null ? -1 : Rows.IndexOf(keep.Value);
        Cursor = at >= 0 ? at : Math.Min(Cursor, Math.Max(0, _rows.Count - 1));
        Changed?.Invoke();
    }

    public void MoveTo(int index)
    {
        Cursor = Math.Clamp(index, 0, Math.Max(0, _rows.Count - 1));
        Changed?.Invoke();
    }

    public void MoveBy(int rows) => MoveTo(Cursor + rows);

    /// <summary>A page up (-1) or down (1).</summary>
    public void Page(int direction) => MoveBy(direction * Math.Max(1, PageRows));

    /// <summary>Shows or hides the rows of one change status.</summary>
    public void ToggleHidden(RowStatus s)
    {
        if (!Rows.Hidden.Remove(s)) Rows.Hidden.Add(s);
        Rebuild();
    }

    /// <summary>Left: collapses an open directory, else goes to the parent.</summary>
    public void Parent()
    {
        var cur = Current;
        if (cur is { HasChildren: true, Collapsed: false }) { Rows.Toggle(cur.Node); Rebuild(); }
        else if (cur?.Node.Parent is { IsRoot: false } parent) MoveTo(Rows.IndexOf(parent));
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
        bool anyOpen = Rows.AnyOpen();
        Rows.SetAllCollapsed(anyOpen);
        Rebuild();
    }

    public void ToggleAttributes()
    {
        ShowAttributes = !ShowAttributes;
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
        Changed?.Invoke();
    }
}
