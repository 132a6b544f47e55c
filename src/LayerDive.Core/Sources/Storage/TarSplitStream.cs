using System.IO.Compression;
using System.Text;
using System.Text.Json;
using LayerDive.Core.Interop;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Storage;

/// <summary>
/// A layer's tar rebuilt from its tar-split (vbatts/tar-split: gzip'd JSON lines; type 2 a segment of
/// raw tar bytes, type 1 a file whose <c>size</c> bytes come from <c>name</c> under the layer's folder),
/// byte for byte the tar the layer was made from. Lines are parsed in place (no document, no string
/// for a segment), each at most <see cref="MaxLine"/> bytes, and a file is read through its handle,
/// opened beneath the layer's folder with no link followed (see <see cref="Folder"/>).
/// </summary>
internal sealed class TarSplitStream : ReadOnlyForwardStream
{
    /// <summary>
    /// The longest line read: a segment holds a header with its PAX records (Go's archive/tar reads
    /// at most 1 MiB of them), in base64; longer is damage, not a tar-split.
    /// </summary>
    public const int MaxLine = 4 << 20;

    private readonly Stream _split;
    private readonly Stream _lines;
    private readonly string _root;
    // the decompressed tar-split: lines are cut from this buffer
    private byte[] _buffer = new byte[1 << 16];
    private int _start, _end;
    private bool _eof;
    // the current segment's bytes (decoded base64), or the current file
    private byte[] _segment = new byte[1024];
    private int _segmentLength, _segmentAt;
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _file;
    private long _fileLeft, _fileSize;
    private long _line;

    /// <param name="split">The tar-split file (gzip'd), owned by the stream.</param>
    /// <param name="folder">The layer's folder, owned by the stream.</param>
    public TarSplitStream(Stream split, Folder folder)
    {
        _split = split;
        _lines = new GZipStream(split, CompressionMode.Decompress);
        _folder = folder;
        _root = folder.Path;
    }

    private readonly Folder _folder;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            if (_segmentAt < _segmentLength)
            {
                int n = Math.Min(buffer.Length, _segmentLength - _segmentAt);
                _segment.AsSpan(_segmentAt, n).CopyTo(buffer);
                _segmentAt += n;
                return n;
            }
            if (_file is not null)
            {
                if (_fileLeft > 0)
                {
                    int n;
                    try
                    {
                        n = HandleStream.Read(_file, buffer[..(int)Math.Min(buffer.Length, _fileLeft)], _fileSize - _fileLeft);
                    }
                    catch (IOException ex)
                    {
                        throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Storage_FileUnreadable, FileName(_name.AsSpan(0, _nameLength)), _root, ex.Message));
                    }
                    if (n <= 0) throw Damaged(Text.Fill(Strings.Storage_FileShort, FileName(_name.AsSpan(0, _nameLength)), _fileLeft));
                    _fileLeft -= n;
                    return n;
                }
                _file.Dispose();
                _file = null;
            }
            if (!Next()) return 0;
        }
    }

    /// <summary>The next line of the tar-split, without its newline; false at its end.</summary>
    private bool NextLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = _buffer.AsSpan(_start, nl);
                _start += nl + 1;
                return true;
            }
            if (_eof)
            {
                line = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                return line.Length > 0;
            }
            // keep the partial line, make room, read more
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= MaxLine)
                    throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Storage_TarSplitDamaged, _line + 1, Text.Fill(Strings.Storage_TarSplitLineTooLong, MaxLine >> 20)));
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            int n;
            try
            {
                n = _lines.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (InvalidDataException ex)
            {
                throw Damaged(ex.Message);
            }
            if (n <= 0) _eof = true;
            else _end += n;
        }
    }

    /// <summary>The next entry of the tar-split; false at its end.</summary>
    private bool Next()
    {
        if (!NextLine(out var line)) return false;
        _line++;
        if (line.IsEmpty) return true;
        int type = 0;
        long size = 0;
        int name = -1; // the name's length in _name, -1 when none
        bool payload = false;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Damaged(Text.Fill(Strings.Storage_TarSplitEntryType, "?"));
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type")) { reader.Read(); type = reader.GetInt32(); }
                else if (reader.ValueTextEquals("size")) { reader.Read(); size = reader.GetInt64(); }
                else if (reader.ValueTextEquals("name")) { reader.Read(); if (reader.TokenType == JsonTokenType.String) name = CopyName(ref reader, raw: false); }
                else if (reader.ValueTextEquals("name_raw")) { reader.Read(); if (reader.TokenType == JsonTokenType.String) name = CopyName(ref reader, raw: true); }
                else if (reader.ValueTextEquals("payload"))
                {
                    reader.Read();
                    payload = reader.TokenType == JsonTokenType.String;
                    if (payload) Decode(ref reader);
                }
                else reader.Skip();
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw Damaged(ex.Message);
        }
        if (type == 2)
        {
            if (!payload) _segmentLength = 0;
            _segmentAt = 0;
            return true;
        }
        _segmentLength = _segmentAt = 0; // a file's payload is its checksum, not tar bytes
        if (type != 1) throw Damaged(Text.Fill(Strings.Storage_TarSplitEntryType, type));
        if (size <= 0) return true;
        if (name < 0) throw Damaged(Strings.Storage_TarSplitNoName);
        OpenFile(_name.AsSpan(0, name), size);
        return true;
    }

    // a file's name as bytes, after the root's and a slash: the path given to open(2) is built here, with no string
    private byte[] _name = new byte[256];

    private int CopyName(ref Utf8JsonReader reader, bool raw)
    {
        int max = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (_name.Length < max + 1) _name = new byte[max * 2 + 1];
        if (!raw) return reader.CopyString(_name);
        var bytes = reader.GetBytesFromBase64();
        bytes.CopyTo(_name, 0);
        return bytes.Length;
    }

    /// <summary>A segment's payload, base64 in the line, decoded into the segment buffer.</summary>
    private void Decode(ref Utf8JsonReader reader)
    {
        var text = reader.ValueSpan;
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            var bytes = reader.GetBytesFromBase64();
            if (_segment.Length < bytes.Length) _segment = new byte[bytes.Length];
            bytes.CopyTo(_segment, 0);
            _segmentLength = bytes.Length;
            return;
        }
        int max = System.Buffers.Text.Base64.GetMaxDecodedFromUtf8Length(text.Length);
        if (_segment.Length < max) _segment = new byte[Math.Max(max, _segment.Length * 2)];
        var status = System.Buffers.Text.Base64.DecodeFromUtf8(text, _segment, out _, out int written);
        if (status != System.Buffers.OperationStatus.Done) throw new FormatException(Strings.Storage_TarSplitNotBase64);
        _segmentLength = written;
    }

    private void OpenFile(ReadOnlySpan<byte> name, long size)
    {
        // a name of the layer, relative and staying inside it: "a/b", "./a/b"; never "/a", "a/../../b", "a\0b"
        if (!Inside(name)) throw Damaged(Text.Fill(Strings.Storage_TarSplitNameOutside, PathText.Escape(Encoding.UTF8.GetString(name))));
        // the name must be the file itself, never through a link to something else on the host
        var opened = _folder.OpenFile(name, Links.Refused);
        _file = opened.Found switch
        {
            Found.Ok => opened.Handle!,
            Found.Link => throw Damaged(Text.Fill(Strings.Storage_FileIsLink, FileName(name))),
            Found.Outside => throw Damaged(Text.Fill(Strings.Storage_TarSplitNameOutside, FileName(name))),
            Found.WrongKind => throw Damaged(Text.Fill(Strings.Storage_FileNotRegular, FileName(name))),
            _ => throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Storage_FileUnreadable, FileName(name), _root,
                Libc.Error(opened.Found == Found.Missing ? Libc.ENoEnt : opened.Errno))),
        };
        _nameLength = name.Length;
        _fileLeft = _fileSize = size;
    }

    private int _nameLength;

    private string FileName(ReadOnlySpan<byte> name) => PathText.Escape(Encoding.UTF8.GetString(name));

    /// <summary>True when every component of the name is a plain one (no "..", no NUL, not absolute).</summary>
    private static bool Inside(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name[0] == (byte)'/' || name.Contains((byte)0)) return false;
        foreach (var range in name.Split((byte)'/'))
            if (name[range] is [(byte)'.', (byte)'.']) return false;
        return true;
    }

    private ImageException Damaged(string why) => new(FaultKind.Damaged, Text.Fill(Strings.Storage_TarSplitDamaged, _line, why));

    /// <summary>The store's read lock, released with the stream.</summary>
    public IDisposable? Lock { get; init; }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Lock?.Dispose();
            _file?.Dispose();
            _folder.Dispose();
            _lines.Dispose();
            _split.Dispose();
        }
        base.Dispose(disposing);
    }
}

