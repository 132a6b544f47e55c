using System.Text;

namespace LayerDive.Ui.Viewer;

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
