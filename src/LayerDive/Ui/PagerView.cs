using System.Text;
using LayerDive.Core;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;

namespace LayerDive.Ui;

/// <summary>How a line of the pager is coloured (a diff's added and removed lines, its hunk headers).</summary>
public enum LineKind
{
    Normal,
    Added,
    Removed,
    Hunk,
    Note,
}

/// <summary>What the pager shows: lines asked for one at a time, so that a large file is read only as far as it is looked at.</summary>
public abstract class PagerContent : IDisposable
{
    /// <summary>The line at <paramref name="index"/>, or null past the end.</summary>
    public abstract string? Line(int index);

    public virtual LineKind Kind(int index) => LineKind.Normal;

    /// <summary>Lines are numbered (a text file's are; a diff's and hex's are not).</summary>
    public virtual bool Numbered => false;

    /// <summary>The number of lines where known without reading to the end; else null.</summary>
    public virtual int? KnownCount => null;

    /// <summary>The index of the last line (reads to the end).</summary>
    public virtual int LastIndex()
    {
        if (KnownCount is int n) return Math.Max(0, n - 1);
        int i = 0;
        for (int step = 1 << 16; step > 0; step >>= 1)
            while (Line(i + step) is not null) i += step;
        return i;
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>Lines held in memory (an explanation, the image's config, the problems, a diff).</summary>
public sealed class ListContent(IReadOnlyList<string> lines, IReadOnlyList<LineKind>? kinds = null) : PagerContent
{
    public override string? Line(int index) => index >= 0 && index < lines.Count ? lines[index] : null;
    public override LineKind Kind(int index) => kinds is not null && index >= 0 && index < kinds.Count ? kinds[index] : LineKind.Normal;
    public override int? KnownCount => lines.Count;
}

/// <summary>
/// A text file read from a copy of its bytes (spooled from the layer, owned by the caller), a line at a time: the start of
/// every 64th line is remembered as far as the reader has looked (a 100 MB file of short lines keeps a
/// few hundred kB of them), and a line is found from the nearest one before it.
/// </summary>
public sealed class TextFileContent(Stream file) : PagerContent
{
    private const int MaxLineBytes = 4096;
    private const int Every = 64;
    private readonly List<long> _checkpoints = [0]; // start of line i * Every
    private long _scanned; // how far the file has been read for checkpoints
    private int _lines; // lines started before _scanned
    private bool _ended;
    private readonly byte[] _chunk = new byte[65536];
    // the last line found, to make the next one (a screenful, a search) cheap
    private int _lastLine = -1;
    private long _lastStart, _lastEnd;

    public override bool Numbered => true;

    public override int? KnownCount => _ended ? _lines : null;

    public override int LastIndex()
    {
        CheckpointTo(int.MaxValue - 2 * Every);
        return Math.Max(0, _lines - 1);
    }

    /// <summary>Reads on until line <paramref name="line"/>'s checkpoint is known, or the file ends.</summary>
    private void CheckpointTo(int line)
    {
        while (!_ended && _checkpoints.Count <= line / Every + 1)
        {
            file.Position = _scanned;
            int n = file.Read(_chunk);
            if (n <= 0)
            {
                _ended = true;
                // a last line without a newline still counts
                if (_scanned > 0 && LastByte() != (byte)'\n') _lines++;
                break;
            }
            for (int i = 0; i < n; i++)
            {
                if (_chunk[i] != (byte)'\n') continue;
                _lines++;
                if (_lines % Every == 0) _checkpoints.Add(_scanned + i + 1);
            }
            _scanned += n;
        }
    }

    private byte LastByte()
    {
        file.Position = file.Length - 1;
        return (byte)file.ReadByte();
    }

    /// <summary>The byte range of line <paramref name="index"/> (its newline excluded), or null past the end.</summary>
    private (long Start, long End)? Find(int index)
    {
        CheckpointTo(index);
        if (_ended && index >= _lines) return null;
        long pos;
        int line;
        if (_lastLine >= 0 && _lastLine <= index && index - _lastLine < Every)
        {
            if (_lastLine == index) return (_lastStart, _lastEnd);
            (line, pos) = (_lastLine + 1, _lastEnd + 1); // the next line starts after the last one's newline
        }
        else { line = index / Every * Every; pos = _checkpoints[index / Every]; }
        while (true)
        {
            if (pos > file.Length) return null;
            long end = EndOfLine(pos);
            if (line == index)
            {
                (_lastLine, _lastStart, _lastEnd) = (line, pos, end);
                return (pos, end);
            }
            if (end >= file.Length) return null;
            pos = end + 1;
            line++;
        }
    }

    // a window of the file for reading lines one after another
    private readonly byte[] _window = new byte[65536];
    private long _windowStart = -1;
    private int _windowLength;

    /// <summary>Makes the window hold the bytes from <paramref name="pos"/> on, unless it already does; false at the end.</summary>
    private bool Cover(long pos)
    {
        if (pos >= _windowStart && pos < _windowStart + _windowLength) return true;
        file.Position = pos;
        _windowStart = pos;
        _windowLength = file.ReadAtLeast(_window, _window.Length, throwOnEndOfStream: false);
        return _windowLength > 0;
    }

    /// <summary>The position of the newline that ends the line starting at <paramref name="start"/>, or the file's length.</summary>
    private long EndOfLine(long start)
    {
        long pos = start;
        while (Cover(pos))
        {
            int offset = (int)(pos - _windowStart);
            int at = _window.AsSpan(offset, _windowLength - offset).IndexOf((byte)'\n');
            if (at >= 0) return pos + at;
            pos = _windowStart + _windowLength;
        }
        return file.Length;
    }

    public override string? Line(int index)
    {
        if (index < 0 || Find(index) is not { } range) return null;
        int length = (int)Math.Min(range.End - range.Start, MaxLineBytes);
        string text;
        if (Cover(range.Start) && range.Start + length <= _windowStart + _windowLength)
            text = Encoding.UTF8.GetString(_window, (int)(range.Start - _windowStart), length);
        else
        {
            var bytes = new byte[length];
            file.Position = range.Start;
            file.ReadExactly(bytes);
            text = Encoding.UTF8.GetString(bytes);
        }
        text = text.TrimEnd('\r');
        if (text.Contains('\t')) text = text.Replace("\t", "    ");
        return text + (range.End - range.Start > MaxLineBytes ? " …" : "");
    }

}

/// <summary>A file's bytes as hex, 16 to a line, with their ASCII beside (binary files; any file with the hex key); the stream is the caller's.</summary>
public sealed class HexContent(Stream file) : PagerContent
{
    private readonly byte[] _row = new byte[16];

    public override int? KnownCount => (int)Math.Min(int.MaxValue, (file.Length + 15) / 16);

    public override string? Line(int index)
    {
        long offset = (long)index * 16;
        if (index < 0 || offset >= file.Length) return null;
        file.Position = offset;
        int n = file.ReadAtLeast(_row, _row.Length, throwOnEndOfStream: false);
        var sb = new StringBuilder(80);
        sb.Append(offset.ToString("x8")).Append("  ");
        for (int i = 0; i < 16; i++)
        {
            sb.Append(i < n ? _row[i].ToString("x2") : "  ").Append(' ');
            if (i == 7) sb.Append(' ');
        }
        sb.Append(" |");
        for (int i = 0; i < n; i++) sb.Append(_row[i] is >= 0x20 and < 0x7f ? (char)_row[i] : '.');
        return sb.Append('|').ToString();
    }
}

/// <summary>A scrolling view of a <see cref="PagerContent"/>, with line numbers where the content has them and the match of a search marked.</summary>
public sealed class PagerView : View
{
    private readonly Palette _palette;
    private PagerContent _content = new ListContent([]);
    private int _top;

    public PagerView(Palette palette) => _palette = palette;

    public PagerContent Content
    {
        get => _content;
        set { _content = value; _top = 0; Match = -1; SetNeedsDraw(); }
    }

    /// <summary>The first line shown.</summary>
    public int Top => _top;

    /// <summary>The line of the last search match, or -1.</summary>
    public int Match { get; private set; } = -1;

    public void ScrollTo(int line)
    {
        _top = Math.Max(0, line);
        // never past the last screenful where the end is known
        if (_content.KnownCount is int n) _top = Math.Min(_top, Math.Max(0, n - Viewport.Height));
        else if (_content.Line(_top) is null) _top = Math.Max(0, _content.LastIndex() - Viewport.Height + 1);
        SetNeedsDraw();
    }

    public void ScrollBy(int lines) => ScrollTo(_top + lines);

    public int PageSize => Math.Max(1, Viewport.Height - 1);

    public void End() => ScrollTo(_content.LastIndex() - Viewport.Height + 1);

    /// <summary>
    /// The next (or previous) line after the last match (or the top line) that contains <paramref name="text"/>,
    /// case-insensitively, going round the end as the tree's search does; false when no line does.
    /// </summary>
    public bool Find(string text, bool forward = true, bool includeCurrent = false)
    {
        if (string.IsNullOrEmpty(text)) return false;
        int from = Match >= 0 ? Match : _top;
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
                if (i < _top || i >= _top + Viewport.Height) ScrollTo(i - Viewport.Height / 3);
                SetNeedsDraw();
                return true;
            }
            i += step;
        }
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        int width = Math.Max(1, Viewport.Width);
        // the numbers' width: enough for the last line in view
        int digits = _content.Numbered ? Math.Max(4, (_top + Viewport.Height).ToString().Length) : 0;
        for (int row = 0; row < Viewport.Height; row++)
        {
            int index = _top + row;
            var line = _content.Line(index);
            Move(0, row);
            string text = line is null ? "" : _content.Numbered ? $"{(index + 1).ToString().PadLeft(digits)} │ {line}" : line;
            var attr = line is null ? normal : _palette.ForLine(_content.Kind(index), normal);
            if (index == Match) attr = _palette.Cursor(attr);
            SetAttribute(attr);
            AddStr(TextLinesView.Clip(text, width));
        }
        return true;
    }
}
