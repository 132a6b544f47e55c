using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Cache;

/// <summary>
/// The bytes of one layer's cache file (little-endian; docs/cli.md, "The layer cache"):
/// <code>
/// header   "LDLC" | u16 version | u16 flags (1: file SHA-256s kept) | str diff id | str blob digest | str language of the texts
///          | str the LayerDive build that wrote it (its version and commit)
/// entries  one record each, in the reader's order, then the byte 0xFF
/// footer   records | compression (1) | eStargz (1) | stored size | tar size | tar entries | header sizes | problems
/// trailer  u64 XxHash3 of every byte before it
/// </code>
/// Numbers are LEB128 varints (signed ones zigzagged); a string is a varint n (0: none; else
/// ((bytes &lt;&lt; 1) | utf16) + 1) and its bytes, UTF-8 unless the text is not valid UTF-16.
/// A record: a tag (kind | type &lt;&lt; 2 | 0x20 attributes | 0x40 marker path | 0x80 hardlink target);
/// the path as the characters it shares with the record before and the rest; with attributes a flags
/// byte (1 size and content hash, 2 file number, 4 overlay-native marker, 8 rare fields, 16 implicit,
/// 32 content markers), mode, uid, gid, mtime, [size, 16-byte XxHash128], [file number], [rare flags byte
/// (1 SHA-256, 2 link target, 4 hardlink target, 8 major, 16 minor, 32 header size, 64 inode) and those
/// present], [content markers: a varint whose bit i says the file's first bytes hold the marker of the advice's
/// secret rule i, the rule its name falls to; kept for the files whose name a secret rule names, so the advice
/// never reads the blob again for them; only which marker matched is kept, never a byte of the content];
/// then the marker path and hardlink target when tagged.
/// </summary>
internal static class CacheFormat
{
    public static ReadOnlySpan<byte> Magic => "LDLC"u8;
    public const ushort Version = 3;

    /// <summary>
    /// The build that reads layers now (its version and commit): a file another build wrote is a miss, as
    /// a later reader may decode, name or judge entries differently, and what a user sees must not depend
    /// on which build read a layer first.
    /// </summary>
    public static string Build { get; } =
        System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(CacheFormat).Assembly)?.InformationalVersion ?? "";
    public const ushort FlagSha256 = 1;
    public const byte EndOfEntries = 0xFF;
    public const int TrailerLength = 8;

    public static ulong Checksum(ReadOnlySpan<byte> bytes) => XxHash3.HashToUInt64(bytes);
}

/// <summary>Writes a cache file's bytes to a stream, hashing them as they go.</summary>
internal sealed class CacheWriter(Stream output)
{
    private readonly XxHash3 _hash = new();
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _used;
    private string _previousPath = "";

    public long Written { get; private set; }

    public void Header(string diffId, string blobDigest, bool sha256)
    {
        Bytes(CacheFormat.Magic);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(b, CacheFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], sha256 ? CacheFormat.FlagSha256 : (ushort)0);
        Bytes(b);
        String(diffId);
        String(blobDigest);
        String(System.Globalization.CultureInfo.CurrentUICulture.Name);
        String(CacheFormat.Build);
    }

    /// <summary>One record; false when the entry holds something this format cannot give back as it was (nothing is written then).</summary>
    public bool Entry(in RawEntry e, int layerIndex, ulong? markers = null)
    {
        byte tag = (byte)e.Kind;
        byte flags = 0;
        long number = 0;
        if (e.Attributes is { } a)
        {
            tag |= (byte)((byte)a.Type << 2 | 0x20);
            if (a.Size != 0 || a.ContentHash != UInt128.Zero) flags |= 1;
            if (a.Inode != 0)
            {
                // the reader numbers a layer's files (layer + 1) << 32 | the entry's place: the place is kept, the layer is the reader's
                if (a.Inode >> 32 != layerIndex + 1L) return false;
                number = a.Inode & 0xFFFF_FFFF;
                flags |= 2;
            }
            if (a.OverlayNativeMarker) flags |= 4;
            if (a.RareFields is not null) flags |= 8;
            if (a.Implicit) flags |= 16;
            if (markers is not null) flags |= 32;
        }
        if (e.MarkerPath is not null) tag |= 0x40;
        if (e.HardlinkTarget is not null) tag |= 0x80;
        Byte(tag);
        Path(e.Path);
        if (e.Attributes is { } attributes)
        {
            Byte(flags);
            Signed(attributes.Mode);
            Signed(attributes.Uid);
            Signed(attributes.Gid);
            Signed(attributes.MTime);
            if ((flags & 1) != 0)
            {
                Signed(attributes.Size);
                Span<byte> h = stackalloc byte[16];
                BinaryPrimitives.WriteUInt128LittleEndian(h, attributes.ContentHash);
                Bytes(h);
            }
            if ((flags & 2) != 0) Unsigned((ulong)number);
            if (attributes.RareFields is { } r) Rare(r);
            if (markers is { } m) Unsigned(m);
        }
        if (e.MarkerPath is not null) String(e.MarkerPath);
        if (e.HardlinkTarget is not null) String(e.HardlinkTarget);
        return true;
    }

    private void Rare(RareAttributes r)
    {
        byte f = 0;
        if (r.Sha256 is not null) f |= 1;
        if (r.LinkTarget is not null) f |= 2;
        if (r.HardlinkTarget is not null) f |= 4;
        if (r.DevMajor != 0) f |= 8;
        if (r.DevMinor != 0) f |= 16;
        if (r.HeaderSize is not null) f |= 32;
        if (r.Inode != 0) f |= 64;
        Byte(f);
        if (r.Sha256 is { } sha)
        {
            Unsigned((ulong)sha.Length);
            Bytes(sha);
        }
        if (r.LinkTarget is not null) String(r.LinkTarget);
        if (r.HardlinkTarget is not null) String(r.HardlinkTarget);
        if (r.DevMajor != 0) Signed(r.DevMajor);
        if (r.DevMinor != 0) Signed(r.DevMinor);
        if (r.HeaderSize is { } hs) Signed(hs);
        if (r.Inode != 0) Signed(r.Inode);
    }

    public void Footer(long records, LayerContents c, IReadOnlyList<Problem> problems)
    {
        Byte(CacheFormat.EndOfEntries);
        Unsigned((ulong)records);
        Byte((byte)c.Compression);
        Byte(c.EStargz ? (byte)1 : (byte)0);
        Signed(c.CompressedSize);
        Signed(c.UncompressedSize);
        Signed(c.EntryCount);
        Signed(c.HeaderSizeTotal);
        Unsigned((ulong)problems.Count);
        foreach (var p in problems)
        {
            Byte((byte)p.Kind);
            String(p.Path);
            String(p.Message);
        }
        Flush();
        Span<byte> sum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(sum, _hash.GetCurrentHashAsUInt64());
        output.Write(sum);
        Written += 8;
    }

    private void Path(string path)
    {
        // tar order walks a tree: a path mostly repeats the one before it up to its last name
        int shared = 0, max = Math.Min(path.Length, _previousPath.Length);
        while (shared < max && path[shared] == _previousPath[shared]) shared++;
        if (shared > 0 && char.IsHighSurrogate(path[shared - 1])) shared--; // never split a pair
        Unsigned((ulong)shared);
        String(path.Substring(shared));
        _previousPath = path;
    }

    private void String(string? s)
    {
        if (s is null)
        {
            Unsigned(0);
            return;
        }
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        byte[]? rented = null;
        Span<byte> bytes = max <= 1024 ? stackalloc byte[1024] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(max, s.Length * 2)));
        try
        {
            // a name that is not valid UTF-16 (a lone surrogate) keeps its exact characters as UTF-16
            var status = System.Text.Unicode.Utf8.FromUtf16(s, bytes, out _, out int written, replaceInvalidSequences: false);
            if (status == System.Buffers.OperationStatus.Done)
            {
                Unsigned(((ulong)written << 1) + 1);
                Bytes(bytes[..written]);
            }
            else
            {
                var utf16 = System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.AsSpan());
                Unsigned(((ulong)utf16.Length << 1 | 1) + 1);
                Bytes(utf16);
            }
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Signed(long v) => Unsigned((ulong)((v << 1) ^ (v >> 63)));

    private void Unsigned(ulong v)
    {
        if (_buffer.Length - _used < 10) Flush();
        while (v >= 0x80)
        {
            _buffer[_used++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buffer[_used++] = (byte)v;
    }

    private void Byte(byte b)
    {
        if (_used == _buffer.Length) Flush();
        _buffer[_used++] = b;
    }

    private void Bytes(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            if (_used == _buffer.Length) Flush();
            int n = Math.Min(bytes.Length, _buffer.Length - _used);
            bytes[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            bytes = bytes[n..];
        }
    }

    private void Flush()
    {
        if (_used == 0) return;
        _hash.Append(_buffer.AsSpan(0, _used));
        output.Write(_buffer, 0, _used);
        Written += _used;
        _used = 0;
    }
}

/// <summary>A cache file's bytes do not decode: a fault of the file, never of the image.</summary>
internal sealed class CacheFormatException(string message) : Exception(message);

/// <summary>Reads a cache file's bytes (checked against their checksum first).</summary>
internal ref struct CacheReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _at;
    private string _previousPath = "";
    private int _previousLength; // what SkipEntry keeps of the path before

    public readonly int Position => _at;

    public byte Byte() => _at < _bytes.Length ? _bytes[_at++] : throw Short();

    public ReadOnlySpan<byte> Bytes(int n)
    {
        if (n < 0 || n > _bytes.Length - _at) throw Short();
        var s = _bytes.Slice(_at, n);
        _at += n;
        return s;
    }

    public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));

    public ulong Unsigned()
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = Byte();
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new CacheFormatException("a number runs on");
    }

    public long Signed()
    {
        ulong u = Unsigned();
        return (long)(u >> 1) ^ -(long)(u & 1);
    }

    public int Int32() => checked((int)Signed());

    public string? String() => Text(out var bytes) is not { } utf16 ? null
        : utf16 ? new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(bytes)) : Encoding.UTF8.GetString(bytes);

    /// <summary>A string's bytes and whether they are UTF-16 (else UTF-8), or null for none.</summary>
    private bool? Text(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        ulong n = Unsigned();
        if (n == 0) return null;
        n--;
        if (n >> 1 > int.MaxValue) throw Short();
        bytes = Bytes((int)(n >> 1));
        if ((n & 1) != 0 && bytes.Length % 2 != 0) throw new CacheFormatException("a text of odd length");
        return (n & 1) != 0;
    }

    public string Path()
    {
        ulong shared = Unsigned();
        if (shared > (ulong)_previousPath.Length) throw new CacheFormatException("a path shares more than the one before it has");
        var rest = String() ?? throw new CacheFormatException("a path is missing");
        var path = shared == 0 ? rest : string.Concat(_previousPath.AsSpan(0, (int)shared), rest);
        _previousPath = path;
        return path;
    }

    /// <summary>The next record, or false at the end of the entries.</summary>
    public bool Entry(int layerIndex, out RawEntry entry) => Entry(layerIndex, out entry, out _);

    /// <summary>The next record and the content markers it keeps (null when none were kept), or false at the end of the entries.</summary>
    public bool Entry(int layerIndex, out RawEntry entry, out ulong? markers)
    {
        markers = null;
        byte tag = Byte();
        if (tag == CacheFormat.EndOfEntries)
        {
            entry = default;
            return false;
        }
        var kind = (RawKind)(tag & 3);
        if (kind > RawKind.Opaque) throw new CacheFormatException("an entry of no known kind");
        string path = Path();
        EntryAttributes? attributes = null;
        if ((tag & 0x20) != 0)
        {
            var type = (FileType)(tag >> 2 & 7);
            if (type > FileType.Fifo) throw new CacheFormatException("an entry of no known type");
            byte flags = Byte();
            int mode = Int32(), uid = Int32(), gid = Int32();
            long mtime = Signed(), size = 0, inode = 0;
            UInt128 hash = UInt128.Zero;
            if ((flags & 1) != 0)
            {
                size = Signed();
                hash = BinaryPrimitives.ReadUInt128LittleEndian(Bytes(16));
            }
            if ((flags & 2) != 0) inode = (long)(layerIndex + 1) << 32 | (long)(uint)Unsigned();
            RareAttributes? rare = (flags & 8) != 0 ? Rare() : null;
            if ((flags & 32) != 0) markers = Unsigned();
            attributes = new EntryAttributes
            {
                Type = type, Mode = mode, Uid = uid, Gid = gid, MTime = mtime, Size = size, ContentHash = hash, Inode = inode,
                OverlayNativeMarker = (flags & 4) != 0, Implicit = (flags & 16) != 0, RareFields = rare,
            };
        }
        string? marker = (tag & 0x40) != 0 ? String() : null;
        string? hardlink = (tag & 0x80) != 0 ? String() : null;
        entry = new RawEntry(kind, path, attributes, hardlink, marker);
        return true;
    }

    /// <summary>
    /// Steps over the next record, checking everything <see cref="Entry(int, out RawEntry, out ulong?)"/>
    /// would refuse, without making its strings and attributes; false at the end of the entries.
    /// </summary>
    public bool SkipEntry()
    {
        byte tag = Byte();
        if (tag == CacheFormat.EndOfEntries) return false;
        if ((RawKind)(tag & 3) > RawKind.Opaque) throw new CacheFormatException("an entry of no known kind");
        ulong shared = Unsigned();
        if (shared > (ulong)_previousLength) throw new CacheFormatException("a path shares more than the one before it has");
        _previousLength = (int)shared + (SkipString() ?? throw new CacheFormatException("a path is missing"));
        if ((tag & 0x20) != 0)
        {
            if ((FileType)(tag >> 2 & 7) > FileType.Fifo) throw new CacheFormatException("an entry of no known type");
            byte flags = Byte();
            Int32(); Int32(); Int32();
            Signed();
            if ((flags & 1) != 0)
            {
                Signed();
                Bytes(16);
            }
            if ((flags & 2) != 0) Unsigned();
            if ((flags & 8) != 0)
            {
                byte f = Byte();
                if ((f & 1) != 0) Bytes(checked((int)Unsigned()));
                if ((f & 2) != 0) SkipString();
                if ((f & 4) != 0) SkipString();
                if ((f & 8) != 0) Int32();
                if ((f & 16) != 0) Int32();
                if ((f & 32) != 0) Signed();
                if ((f & 64) != 0) Signed();
            }
            if ((flags & 32) != 0) Unsigned();
        }
        if ((tag & 0x40) != 0) SkipString();
        if ((tag & 0x80) != 0) SkipString();
        return true;
    }

    /// <summary>Steps over a string as <see cref="String"/> reads it: its length in characters, or null for none.</summary>
    private int? SkipString() => Text(out var bytes) is not { } utf16 ? null : utf16 ? bytes.Length / 2 : Encoding.UTF8.GetCharCount(bytes);

    private RareAttributes Rare()
    {
        byte f = Byte();
        var r = new RareAttributes();
        if ((f & 1) != 0) r.Sha256 = Bytes(checked((int)Unsigned())).ToArray();
        if ((f & 2) != 0) r.LinkTarget = String();
        if ((f & 4) != 0) r.HardlinkTarget = String();
        if ((f & 8) != 0) r.DevMajor = Int32();
        if ((f & 16) != 0) r.DevMinor = Int32();
        if ((f & 32) != 0) r.HeaderSize = Signed();
        if ((f & 64) != 0) r.Inode = Signed();
        return r;
    }

    private static CacheFormatException Short() => new("it ends early");
}
