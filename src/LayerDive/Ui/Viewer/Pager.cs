namespace LayerDive.Ui.Viewer;

/// <summary>
/// The viewer's position in what it shows: the first line in view, the last search match, and the
/// height of the view (told by <see cref="PagerView"/>, which draws it). Scrolling never goes past
/// the last screenful where the end is known; search goes round the end.
/// </summary>
public sealed class Pager
{
    private PagerContent _content = new ListContent([]);

    public PagerContent Content
    {
        get => _content;
        set { _content = value; Top = 0; Match = -1; }
    }

    /// <summary>The first line shown.</summary>
    public int Top { get; private set; }

    /// <summary>The line of the last search match, or -1.</summary>
    public int Match { get; private set; } = -1;

    /// <summary>The lines the view shows at once.</summary>
    public int Height { get; set; }

    public int PageSize => Math.Max(1, Height - 1);

    public void ScrollTo(int line)
    {
        Top = Math.Max(0, line);
        if (_content.KnownCount is int n) Top = Math.Min(Top, Math.Max(0, n - Height));
        else if (_content.Line(Top) is null) Top = Math.Max(0, _content.LastIndex() - Height + 1);
    }

    public void ScrollBy(int lines) => ScrollTo(Top + lines);

    public void End() => ScrollTo(_content.LastIndex() - Height + 1);

    /// <summary>
    /// The next (or previous) line after the last match (or the top line) that contains <paramref name="text"/>,
    /// case-insensitively, going round the end as the tree's search does; false when no line does.
    /// </summary>
    public bool Find(string text, bool forward = true, bool includeCurrent = false)
    {
        if (string.IsNullOrEmpty(text)) return false;
        int from = Match >= 0 ? Match : Top;
        int step = forward ? 1 : -1;
        int i = includeCurrent ? from : from + step;
        bool wrapped = false;
        while (true)
        {
            if (wrapped && (forward ? i > from : i < from)) return false;
            var line = i < 0 ? null : _content.Line(i);
            if (line is null)
            {
                if (wrapped) return false;
                wrapped = true;
                i = forward ? 0 : _content.LastIndex();
                continue;
            }
            if (line.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                Match = i;
                if (i < Top || i >= Top + Height) ScrollTo(i - Height / 3);
                return true;
            }
            i += step;
        }
    }
}
