using LayerDive.Core;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace LayerDive.Core.Layers;

/// <summary>
/// Checks the structure of a tar stream as it passes to the tar reader, block by block, so that damage
/// the reader takes in its stride is told instead of silently changing the tree. The runtime's
/// TarReader reads a header with a zero checksum as the end of the archive (the rest of the layer
/// vanishes), does not check a checksum otherwise, reads a header whose magic is not ustar as a V7
/// header (its prefix field, and so part of the name, ignored), skips PAX records it cannot parse and
/// takes GNU sparse records in a PAX header for file content. Each of these is refused here as GNU tar
/// and Go's archive/tar refuse them: every header's checksum (the unsigned or the signed sum, as GNU
/// tar accepts), its magic, every numeric field (octal, blank, or base-256), the size of PAX and GNU
/// long-name records (at most 1 MiB, Go's limit), every PAX record's framing and the values of the
/// keys the merge reads. After the end-of-archive block, tar headers are an error (an early end hides
/// entries) and anything else non-zero a warning. It reads nothing ahead: it sees exactly what the
/// reader reads, and what <see cref="ReadOnlyForwardStream.Drain"/> reads after it.
/// </summary>
internal sealed class TarGuard(Stream inner) : ReadOnlyForwardStream
{
    private const int Block = 512;
    private const int MaxSpecialSize = 1 << 20;

    private readonly byte[] _header = new byte[Block];
    private int _headerFill;
    private long _dataLeft;            // bytes until the next header (the entry's data and its padding)
    private byte[]? _special;          // a PAX header's records, collected as they pass
    private int _specialFill, _specialSize;
    private bool _specialGlobal;
    private long _specialAt;           // the PAX header's offset, for messages
    private long? _paxSize;            // PAX size=, the data length of the next entry
    private string? _paxPath;
    private string _previous = "";     // the last entry's name, for messages
    private long _endAt = -1;          // offset of the end-of-archive block, once read
    private long _trailingFrom = -1;   // offset of the first non-zero block after it
    private readonly List<(string?, string)> _warnings = [];

    private const string EStargzToc = "stargz.index.json";
    private long _position;

    /// <summary>True when an eStargz table of contents followed the end of the archive.</summary>
    public bool SawEStargzToc { get; private set; }

    /// <summary>Bytes passed so far.</summary>
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        if (n > 0)
        {
            Inspect(buffer[..n]);
            _position += n;
        }
        return n;
    }

    /// <summary>What was odd but lost nothing (an entry path, or null for the layer; the message); call after draining.</summary>
    public IReadOnlyList<(string? Path, string Message)> Warnings()
    {
        if (_endAt >= 0 && _headerFill > 0 && _trailingFrom < 0 && _header.AsSpan(0, _headerFill).ContainsAnyExcept((byte)0))
            _trailingFrom = Position - _headerFill;
        if (_trailingFrom >= 0)
        {
            _warnings.Add((null, Text.Format("Warning.TarTrailingData", Position - _trailingFrom, _endAt)));
            _trailingFrom = -1;
        }
        return _warnings;
    }

    private void Inspect(ReadOnlySpan<byte> bytes)
    {
        long offset = Position;
        while (!bytes.IsEmpty)
        {
            if (_dataLeft > 0)
            {
                int take = (int)Math.Min(_dataLeft, bytes.Length);
                if (_special is not null)
                {
                    int keep = Math.Min(take, _specialSize - _specialFill);
                    bytes[..keep].CopyTo(_special.AsSpan(_specialFill));
                    _specialFill += keep;
                    if (_specialFill == _specialSize) PaxRecords();
                }
                _dataLeft -= take;
                bytes = bytes[take..];
                offset += take;
                continue;
            }
            int part = Math.Min(Block - _headerFill, bytes.Length);
            bytes[..part].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += part;
            bytes = bytes[part..];
            offset += part;
            if (_headerFill == Block)
            {
                _headerFill = 0;
                Header(offset - Block);
            }
        }
    }

    private void Header(long at)
    {
        var h = _header.AsSpan();
        bool zero = !h.ContainsAnyExcept((byte)0);
        if (_endAt >= 0)
        {
            // after the end: zero padding, or garbage (a warning), or headers an early end would hide (an error)
            if (zero || _trailingFrom >= 0) return;
            if (ChecksumHolds(h) && Name(h) == EStargzToc && Numeric(h, 124, 12, out long tocSize) && tocSize is >= 0 and <= MaxSpecialSize * 64)
            {
                // eStargz puts its table of contents after the end, where tar readers do not look
                SawEStargzToc = true;
                _dataLeft = (tocSize + Block - 1) & ~(long)(Block - 1);
                return;
            }
            if (ChecksumHolds(h))
                throw Damaged(at, Text.Format("Error.AnEmptyBlockAtOffsetEnds", _endAt, Name(h)));
            _trailingFrom = at;
            return;
        }
        if (zero)
        {
            _endAt = at;
            return;
        }
        if (!ChecksumHolds(h))
            throw Damaged(at, Text.Get(Numeric(h, 148, 8, out long stored) && stored == 0 ? "Error.ChecksumZero" : "Error.ChecksumMismatch"));

        var magic = h.Slice(257, 8);
        bool ustar = magic[..6].SequenceEqual("ustar\0"u8);
        bool gnu = magic.SequenceEqual("ustar  \0"u8);
        if (!ustar && !gnu && magic.ContainsAnyExcept((byte)0))
        {
            // read as V7, as GNU tar and Go read it: harmless unless the name has a prefix a V7 header cannot hold
            var prefix = h.Slice(345, 155);
            if (prefix.ContainsAnyExcept((byte)0))
                throw Damaged(at, Text.Format("Error.ItsMagicIsNeitherUstarNor", Printable(magic), Printable(prefix.TrimEnd((byte)0))));
            _warnings.Add((Name(h), Text.Format("Warning.V7Magic", Printable(magic))));
        }

        long size = Field(h, at, "size", 124, 12, allowNegative: false);
        Field(h, at, "mode", 100, 8, allowNegative: false);
        Field(h, at, "uid", 108, 8, allowNegative: false);
        Field(h, at, "gid", 116, 8, allowNegative: false);
        Field(h, at, "mtime", 136, 12, allowNegative: true);
        if (ustar || gnu)
        {
            Field(h, at, "devmajor", 329, 8, allowNegative: false);
            Field(h, at, "devminor", 337, 8, allowNegative: false);
        }

        char type = (char)h[156];
        switch (type)
        {
            case 'x' or 'g':
                if (size > MaxSpecialSize) throw Damaged(at, Text.Format("Error.ItsPAXRecordsClaimBytesAt", size, MaxSpecialSize));
                _special = ArrayPool<byte>.Shared.Rent(Math.Max(1, (int)size));
                _specialSize = (int)size;
                _specialFill = 0;
                _specialGlobal = type == 'g';
                _specialAt = at;
                if (size == 0) PaxRecords();
                break;
            case 'L' or 'K':
                if (size > MaxSpecialSize) throw Damaged(at, Text.Format("Error.ItsGNULongNameClaimsBytes", size, MaxSpecialSize));
                break;
            case 'S':
                throw new ImageException(Text.Get("Error.OldGNUSparseEntriesAreNot"));
            default:
                // an entry: PAX size= overrides the header's
                if (_paxSize is { } s) size = s;
                _previous = _paxPath ?? Name(h);
                _paxSize = null;
                _paxPath = null;
                break;
        }
        _dataLeft = (size + Block - 1) & ~(long)(Block - 1);
    }

    /// <summary>Checks a PAX header's records: framing, and the values of the keys that place or size an entry.</summary>
    private void PaxRecords()
    {
        var data = _special.AsSpan(0, _specialSize);
        long at = _specialAt;
        try
        {
            while (!data.IsEmpty)
            {
                int space = data.IndexOf((byte)' ');
                if (space <= 0 || !int.TryParse(data[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                    || length <= space + 1 || length > data.Length || data[length - 1] != (byte)'\n')
                    throw Damaged(at, Text.Format("Error.ItsPAXRecordIsMalformed", Printable(data[..Math.Min(data.Length, 40)])));
                var record = data[(space + 1)..(length - 1)];
                int eq = record.IndexOf((byte)'=');
                if (eq <= 0) throw Damaged(at, Text.Format("Error.ItsPAXRecordHasNoKey", Printable(record)));
                string key = Encoding.UTF8.GetString(record[..eq]);
                var value = record[(eq + 1)..];
                if (key.StartsWith("GNU.sparse.", StringComparison.Ordinal))
                    throw new ImageException(Text.Get("Error.GNUSparseEntriesPAXFormAre"));
                switch (key)
                {
                    case "size" or "uid" or "gid":
                        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
                            throw Damaged(at, Text.Format("Error.ItsPAXRecordIsNotA", key, Printable(value)));
                        if (key == "size" && !_specialGlobal) _paxSize = number;
                        break;
                    case "mtime" or "atime" or "ctime":
                        if (!IsPaxTime(value))
                            throw Damaged(at, Text.Format("Error.ItsPAXRecordIsNotA2", key, Printable(value)));
                        break;
                    case "path" when !_specialGlobal:
                        _paxPath = Encoding.UTF8.GetString(value);
                        break;
                }
                data = data[length..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_special!);
            _special = null;
        }
    }

    private static bool IsPaxTime(ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty && value[0] == (byte)'-') value = value[1..];
        int dot = value.IndexOf((byte)'.');
        var whole = dot < 0 ? value : value[..dot];
        var fraction = dot < 0 ? default : value[(dot + 1)..];
        return !whole.IsEmpty && !whole.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            && (dot < 0 || (!fraction.IsEmpty && !fraction.ContainsAnyExceptInRange((byte)'0', (byte)'9')));
    }

    private static bool ChecksumHolds(ReadOnlySpan<byte> h)
    {
        if (!Numeric(h, 148, 8, out long stored)) return false;
        long unsigned = 0, signed = 0;
        for (int i = 0; i < Block; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : h[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        return stored == unsigned || stored == signed;
    }

    private long Field(ReadOnlySpan<byte> h, long at, string name, int offset, int length, bool allowNegative)
    {
        if (!Numeric(h, offset, length, out long value) || (value < 0 && !allowNegative))
            throw Damaged(at, Text.Format("Error.ItsFieldIsNotANumber", name, Printable(h.Slice(offset, length))));
        return value;
    }

    /// <summary>A numeric header field: octal digits between optional spaces and NULs, blank (0), or base-256 (a leading 0x80 or 0xff).</summary>
    private static bool Numeric(ReadOnlySpan<byte> h, int offset, int length, out long value)
    {
        var field = h.Slice(offset, length);
        value = 0;
        if (field[0] is 0x80 or 0xff)
        {
            bool negative = field[0] == 0xff;
            // the number is the field's bits, two's complement: at most 8 bytes of it may carry any
            var digits = field[1..];
            int significant = digits.Length - 8;
            for (int i = 0; i < significant; i++)
                if (digits[i] != (negative ? 0xff : 0)) return false;
            ulong bits = negative ? ulong.MaxValue : 0;
            foreach (byte b in digits[Math.Max(0, significant)..]) bits = (bits << 8) | b;
            value = (long)bits;
            return negative == value < 0;
        }
        field = field.TrimStart(" \0"u8);
        int end = field.IndexOfAny(" \0"u8);
        var digitsText = end < 0 ? field : field[..end];
        if (end >= 0 && field[end..].ContainsAnyExcept(" \0"u8)) return false;
        foreach (byte b in digitsText)
        {
            if (b is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3)) return false;
            value = (value << 3) | (long)(b - '0');
        }
        return true;
    }

    private static string Name(ReadOnlySpan<byte> h)
    {
        static string Text(ReadOnlySpan<byte> f) { int nul = f.IndexOf((byte)0); return Encoding.UTF8.GetString(nul < 0 ? f : f[..nul]); }
        string name = Text(h[..100]);
        string prefix = h.Slice(257, 6).SequenceEqual("ustar\0"u8) ? Text(h.Slice(345, 155)) : "";
        return PathText.Escape(prefix.Length > 0 ? prefix + "/" + name : name);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes) sb.Append(b is >= 0x20 and < 0x7f ? (char)b : b == 0 ? "\\0" : $"\\x{b:x2}");
        return sb.ToString();
    }

    /// <summary>A header GNU tar and Go's archive/tar would reject: the layer's entries cannot be trusted past it.</summary>
    private ImageException Damaged(long at, string what) =>
        new(_previous.Length > 0 ? Text.Format("Error.DamagedTarHeaderAfter", at, _previous, what) : Text.Format("Error.DamagedFirstTarHeader", at, what));

    protected override void Dispose(bool disposing)
    {
        if (_special is not null)
        {
            ArrayPool<byte>.Shared.Return(_special);
            _special = null;
        }
        base.Dispose(disposing);
    }
}
