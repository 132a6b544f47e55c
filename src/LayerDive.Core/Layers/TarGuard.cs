using LayerDive.Core;
using System.Buffers;
using System.Text;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Layers;

/// <summary>
/// Reads a layer's tar and checks its structure as strictly as GNU tar and Go's archive/tar do, and
/// reads what Go's archive/tar reads (the engines apply layers with it). Refused, as they refuse it:
/// a header whose checksum (the unsigned or the signed sum) does not hold or is zero (a reader that
/// takes a zero checksum for the end would lose the rest), a numeric field that is neither octal,
/// blank nor base-256, PAX and GNU long-name records over 1 MiB (Go's limit), a malformed PAX record
/// or a bad value of a key that places or sizes an entry, a V7 header whose name would lose its
/// prefix, tar headers after the end-of-archive block (an early end hides entries), GNU sparse files.
/// Read as Go reads them: a type-NUL header whose name ends in '/' is a directory with no data; a
/// hardlink, symlink, directory, device or fifo has no data whatever its size says; magic "ustar\0"
/// with any version (NUL NUL too) is ustar; a GNU long name or link beats a PAX path, and of two the
/// last wins (with a warning); an empty PAX path keeps the header's; PAX values are bytes (a binary
/// xattr may hold any byte). Names are bytes: they are decoded by <see cref="PathText.FromBytes"/>, so
/// names that are not UTF-8 stay distinct. Anything non-zero after the end is a warning. Every byte
/// read passes through here, in order, and nothing is read ahead of what the caller asks for.
/// </summary>
internal sealed partial class TarGuard(Stream inner) : IDisposable
{
    private const int Block = 512;
    private const int MaxSpecialSize = 1 << 20;
    private const string EStargzToc = "stargz.index.json";

    private readonly byte[] _block = new byte[Block];
    private byte[] _name = ArrayPool<byte>.Shared.Rent(Block); // the name as assembled from its parts
    private byte[]? _special;          // a PAX or GNU long-name record's data
    // the extended names, in buffers kept from entry to entry (rented as they grow); a length of 0 is "none"
    private byte[] _paxPath = [], _paxLink = [], _longName = [], _longLink = [];
    private int _paxPathLength, _paxLinkLength, _longNameLength, _longLinkLength;
    private bool _sawLongName, _sawLongLink; // a GNU long name (or link) record, even an empty one, came for this entry
    private long? _paxSize, _paxUid, _paxGid, _paxMTime;
    private bool _paxOpaque, _paxSparse;
    private long _dataLeft;            // bytes of the current entry's data not yet read
    private int _padding;              // then the padding to the next block
    private TarHeader? _last;          // the last entry read, whose name messages give
    private long _endAt = -1;          // offset of the end-of-archive block, once read
    private bool _ended;
    private readonly List<(string?, string)> _warnings = [];
    private long _position;

    /// <summary>True when an eStargz table of contents followed the end of the archive.</summary>
    public bool SawEStargzToc { get; private set; }

    /// <summary>What was odd but lost nothing (an entry path, or null for the layer; the message); call after draining.</summary>
    public IReadOnlyList<(string? Path, string Message)> Warnings() => _warnings;

    /// <summary>
    /// Reads the next entry's headers into <paramref name="h"/> (skipping what is left of the entry
    /// before); false at the end of the archive: its end-of-archive block, or the end of the stream
    /// right after an entry (old layers end so; GNU tar accepts them).
    /// </summary>
    /// <exception cref="ImageException">A damaged header.</exception>
    /// <exception cref="EndOfStreamException">The stream ends inside a header or an entry.</exception>
    public bool Next(TarHeader h)
    {
        if (_ended) return false;
        SkipRest();
        ClearExtended();
        long first = -1;
        while (true)
        {
            long at = _position;
            int n = ReadFull(_block);
            if (n == 0 && first < 0)
            {
                _ended = true;
                return false;
            }
            if (n < Block) throw new EndOfStreamException();
            if (first < 0) first = at;
            var b = _block.AsSpan();
            if (!b.ContainsAnyExcept((byte)0))
            {
                _endAt = at;
                _ended = true;
                return false;
            }
            if (!ChecksumHolds(b))
                throw Damaged(at, Numeric(b, 148, 8, out long stored) && stored == 0 ? Strings.Tar_ChecksumZero : Strings.Tar_ChecksumMismatch);
            var format = FormatOf(b);
            if (format == Format.V7 && b.Slice(257, 8).ContainsAnyExcept((byte)0))
            {
                // read as V7, as GNU tar and Go read it: harmless unless the name has a prefix a V7 header cannot hold
                var prefix = b.Slice(345, 155);
                if (prefix.ContainsAnyExcept((byte)0))
                    throw Damaged(at, Text.Fill(Strings.Tar_V7NameLosesPrefix, Printable(b.Slice(257, 8)), Printable(prefix.TrimEnd((byte)0))));
                _warnings.Add((PathText.FromBytes(CString(b[..100])), Text.Fill(Strings.Tar_V7Magic, Printable(b.Slice(257, 8)))));
            }
            long size = Field(b, at, "size", 124, 12, allowNegative: false);
            long mode = Field(b, at, "mode", 100, 8, allowNegative: false);
            long uid = Field(b, at, "uid", 108, 8, allowNegative: false);
            long gid = Field(b, at, "gid", 116, 8, allowNegative: false);
            long mtime = Field(b, at, "mtime", 136, 12, allowNegative: true);
            long major = 0, minor = 0;
            if (format != Format.V7)
            {
                major = Field(b, at, "devmajor", 329, 8, allowNegative: false);
                minor = Field(b, at, "devminor", 337, 8, allowNegative: false);
            }
            byte type = b[156];
            switch (type)
            {
                case (byte)'x' or (byte)'g':
                {
                    if (size > MaxSpecialSize) throw Damaged(at, Text.Fill(Strings.Tar_PaxRecordsTooLarge, size, MaxSpecialSize));
                    var data = ReadSpecial((int)size);
                    if (type == (byte)'x') ClearPax();
                    PaxRecords(data, at, global: type == (byte)'g');
                    continue;
                }
                case (byte)'L' or (byte)'K':
                {
                    if (size > MaxSpecialSize) throw Damaged(at, Text.Fill(Strings.Tar_GnuLongNameTooLarge, size, MaxSpecialSize));
                    var data = CString(ReadSpecial((int)size));
                    bool isName = type == (byte)'L';
                    if (isName ? _sawLongName : _sawLongLink)
                        _warnings.Add((PathText.FromBytes(data), Text.Fill(Strings.Tar_RepeatedLongName, isName ? "name" : "link", at)));
                    if (isName)
                    {
                        Keep(ref _longName, ref _longNameLength, data);
                        _sawLongName = true;
                    }
                    else
                    {
                        Keep(ref _longLink, ref _longLinkLength, data);
                        _sawLongLink = true;
                    }
                    continue;
                }
            }

            // an entry: its name and link from the header, then what the extended records say over them
            var name = AssembleName(b, format);
            if (_paxPathLength > 0) name = _paxPath.AsSpan(0, _paxPathLength);
            if (_longNameLength > 0) name = _longName.AsSpan(0, _longNameLength);
            var link = CString(b.Slice(157, 100));
            if (_paxLinkLength > 0) link = _paxLink.AsSpan(0, _paxLinkLength);
            if (_longLinkLength > 0) link = _longLink.AsSpan(0, _longLinkLength);
            bool oldStyleDirectory = type == 0 && name.Length > 0 && name[^1] == (byte)'/';
            if (type == 0) type = oldStyleDirectory ? (byte)'5' : (byte)'0'; // old-style directory (Go, Python, GNU tar)
            if (type == (byte)'S' || _paxSparse)
                throw new ImageException(FaultKind.Unsupported, Text.Fill(type == (byte)'S' ? Strings.Tar_SparseOldGnu : Strings.Tar_SparsePax, first), entryName: PathText.FromBytes(name));
            // the name stays bytes here: the reader decodes it once, to its path
            h.SetName(name);
            bool linkNotUtf8 = false;
            h.LinkName = link.IsEmpty ? "" : PathText.FromBytes(link, out linkNotUtf8);
            h.NotUtf8 = !System.Text.Unicode.Utf8.IsValid(name) || linkNotUtf8;
            h.OldStyleDirectory = oldStyleDirectory;
            h.Type = type;
            h.Size = _paxSize ?? size;
            h.PaxSize = _paxSize is not null;
            h.Mode = mode;
            h.Uid = _paxUid ?? uid;
            h.Gid = _paxGid ?? gid;
            h.MTime = _paxMTime ?? mtime;
            h.DevMajor = major;
            h.DevMinor = minor;
            h.OpaqueXattr = _paxOpaque;
            h.DataLength = type is (byte)'1' or (byte)'2' or (byte)'3' or (byte)'4' or (byte)'5' or (byte)'6' ? 0 : h.Size;
            _dataLeft = h.DataLength;
            _padding = (int)(-h.DataLength & (Block - 1));
            _last = h;
            ClearExtended();
            return true;
        }
    }

    /// <summary>Reads the current entry's data; 0 at its end, or where the stream ends before it (the reader then finds the entry short of its size).</summary>
    public int ReadData(Span<byte> buffer)
    {
        if (_dataLeft <= 0 || buffer.IsEmpty) return 0;
        if (buffer.Length > _dataLeft) buffer = buffer[..(int)_dataLeft];
        int n = inner.Read(buffer);
        _position += n;
        _dataLeft -= n;
        return n;
    }

    /// <summary>Skips what is left of the current entry's data and its padding.</summary>
    private void SkipRest()
    {
        if (_dataLeft > 0)
        {
            // data the caller left (the reader reads every file's data itself, so this is rare)
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                while (_dataLeft > 0)
                    if (ReadData(buffer.AsSpan(0, (int)Math.Min(buffer.Length, _dataLeft))) == 0) throw new EndOfStreamException();
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
        if (_padding > 0)
        {
            // the padding is there whole: an end of stream may follow it (old layers end without the end blocks), not cut it
            int padding = _padding;
            _padding = 0;
            if (ReadFull(_block.AsSpan(0, padding)) < padding) throw new EndOfStreamException();
        }
    }

    /// <summary>
    /// Reads past the end of the archive to the end of the stream (the diff id covers the padding after
    /// the end-of-archive blocks): zeros are fine, a table of contents of eStargz is noted, tar headers
    /// are an error (an early end hides them) and anything else a warning.
    /// </summary>
    public void Drain()
    {
        if (!_ended)
        {
            var rest = new TarHeader();
            while (Next(rest)) { }
        }
        long trailingFrom = -1;
        while (true)
        {
            long at = _position;
            int n = ReadFull(_block);
            if (n == 0) break;
            var b = _block.AsSpan(0, n);
            bool zero = !b.ContainsAnyExcept((byte)0);
            if (zero || trailingFrom >= 0) continue;
            if (n == Block && ChecksumHolds(b))
            {
                if (PathText.FromBytes(CString(b[..100])) == EStargzToc && Numeric(b, 124, 12, out long tocSize) && tocSize is >= 0 and <= MaxSpecialSize * 64)
                {
                    // eStargz puts its table of contents after the end, where tar readers do not look
                    SawEStargzToc = true;
                    Skip((tocSize + Block - 1) & ~(long)(Block - 1));
                    continue;
                }
                throw Damaged(at, Text.Fill(Strings.Tar_EmptyBlockEndsEarly, _endAt, Printable(CString(b[..100]))));
            }
            trailingFrom = at;
        }
        if (trailingFrom >= 0)
            _warnings.Add((null, Text.Fill(Strings.Tar_TrailingData, _position - trailingFrom, _endAt)));
    }

    private void Skip(long bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (bytes > 0)
            {
                int n = inner.Read(buffer.AsSpan(0, (int)Math.Min(buffer.Length, bytes)));
                if (n == 0) return;
                _position += n;
                bytes -= n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private int ReadFull(Span<byte> into)
    {
        int total = 0;
        while (total < into.Length)
        {
            int n = inner.Read(into[total..]);
            if (n == 0) break;
            total += n;
        }
        _position += total;
        return total;
    }

    /// <summary>The data of a PAX or GNU long-name record, whole, and its padding.</summary>
    private ReadOnlySpan<byte> ReadSpecial(int size)
    {
        if (_special is null || _special.Length < size)
        {
            if (_special is not null) ArrayPool<byte>.Shared.Return(_special);
            _special = ArrayPool<byte>.Shared.Rent(Math.Max(size, Block));
        }
        if (ReadFull(_special.AsSpan(0, size)) < size) throw new EndOfStreamException();
        int padding = -size & (Block - 1);
        if (ReadFull(_block.AsSpan(0, padding)) < padding) throw new EndOfStreamException();
        return _special.AsSpan(0, size);
    }

    /// <summary>Copies an extended name into its buffer, which is kept for the next entries (grown from the pool when too small).</summary>
    private static void Keep(ref byte[] buffer, ref int length, ReadOnlySpan<byte> value)
    {
        if (buffer.Length < value.Length || buffer.Length == 0)
        {
            Release(ref buffer);
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(value.Length, 256));
        }
        value.CopyTo(buffer);
        length = value.Length;
    }

    private static void Release(ref byte[] buffer)
    {
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        buffer = [];
    }

    private void ClearPax()
    {
        _paxPathLength = _paxLinkLength = 0;
        _paxSize = _paxUid = _paxGid = _paxMTime = null;
        _paxOpaque = _paxSparse = false;
    }

    private void ClearExtended()
    {
        ClearPax();
        _longNameLength = _longLinkLength = 0;
        _sawLongName = _sawLongLink = false;
    }

    /// <summary>A header GNU tar and Go's archive/tar would reject: the layer's entries cannot be trusted past it.</summary>
    private ImageException Damaged(long at, string what)
    {
        string previous = _last?.Name ?? "";
        return new(FaultKind.Damaged, previous.Length > 0 ? Text.Fill(Strings.Tar_HeaderDamaged, at, PathText.Escape(previous), what) : Text.Fill(Strings.Tar_FirstHeaderDamaged, at, what));
    }

    public void Dispose()
    {
        Release(ref _paxPath);
        Release(ref _paxLink);
        Release(ref _longName);
        Release(ref _longLink);
        _paxPathLength = _paxLinkLength = _longNameLength = _longLinkLength = 0;
        if (_special is not null) ArrayPool<byte>.Shared.Return(_special);
        _special = null;
        if (_name.Length > 0) ArrayPool<byte>.Shared.Return(_name);
        _name = [];
    }
}
