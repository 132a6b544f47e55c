namespace LayerDive.Cli;

/// <summary>
/// Holds what is written to another writer and passes it on 32K characters at a time, and when
/// disposed. For listings of a row per path: the console writer flushes on every call, which made
/// two write(2) calls of each row (a million rows: 2 million system calls).
/// </summary>
internal sealed class BufferedWriter : TextWriter
{
    private readonly TextWriter _inner;
    private readonly char[] _buffer = new char[1 << 15];
    private int _used;

    public BufferedWriter(TextWriter inner)
    {
        _inner = inner;
        NewLine = inner.NewLine;
    }

    public override System.Text.Encoding Encoding => _inner.Encoding;

    public override void Write(char value)
    {
        if (_used == _buffer.Length) Flush();
        _buffer[_used++] = value;
    }

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(string? value) => Write(value.AsSpan());

    public override void Write(ReadOnlySpan<char> value)
    {
        while (value.Length > 0)
        {
            if (_used == _buffer.Length) Flush();
            int n = Math.Min(value.Length, _buffer.Length - _used);
            value[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            value = value[n..];
        }
    }

    public override void WriteLine() => Write(CoreNewLine);

    public override void Flush()
    {
        if (_used > 0) _inner.Write(_buffer, 0, _used);
        _used = 0;
        _inner.Flush();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }
}
