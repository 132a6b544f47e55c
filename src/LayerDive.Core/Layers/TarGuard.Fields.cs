using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Layers;

/// <summary>The header fields: formats, names, PAX records, numbers and checksums, read as Go's archive/tar reads them.</summary>
internal sealed partial class TarGuard
{
    private enum Format { V7, Ustar, Star, Gnu }

    /// <summary>The header's format by its magic, as Go tells it: "ustar\0" with any version is ustar (or star with its trailer), "ustar  \0" GNU, anything else V7.</summary>
    private static Format FormatOf(ReadOnlySpan<byte> b)
    {
        var magic = b.Slice(257, 6);
        if (magic.SequenceEqual("ustar\0"u8)) return b.Slice(508, 4).SequenceEqual("tar\0"u8) ? Format.Star : Format.Ustar;
        if (b.Slice(257, 8).SequenceEqual("ustar  \0"u8)) return Format.Gnu;
        return Format.V7;
    }

    /// <summary>The header's name: ustar's prefix, '/', and the name field (GNU and V7 headers have no prefix).</summary>
    private ReadOnlySpan<byte> AssembleName(ReadOnlySpan<byte> b, Format format)
    {
        var name = CString(b[..100]);
        if (format is not (Format.Ustar or Format.Star)) return name;
        var prefix = CString(b.Slice(345, format == Format.Star ? 131 : 155));
        if (prefix.IsEmpty) return name;
        prefix.CopyTo(_name);
        _name[prefix.Length] = (byte)'/';
        name.CopyTo(_name.AsSpan(prefix.Length + 1));
        return _name.AsSpan(0, prefix.Length + 1 + name.Length);
    }

    /// <summary>A field's bytes up to its first NUL.</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return nul < 0 ? field : field[..nul];
    }

    /// <summary>Reads a PAX header's records: framing, the values of the keys that place or size an entry, and the opaque xattr.</summary>
    private void PaxRecords(ReadOnlySpan<byte> data, long at, bool global)
    {
        while (!data.IsEmpty)
        {
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(data[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length <= space + 1 || length > data.Length || data[length - 1] != (byte)'\n')
                throw Damaged(at, Text.Fill(Strings.Tar_PaxRecordMalformed, Printable(data[..Math.Min(data.Length, 40)])));
            var record = data[(space + 1)..(length - 1)];
            data = data[length..];
            int eq = record.IndexOf((byte)'=');
            if (eq <= 0) throw Damaged(at, Text.Fill(Strings.Tar_PaxRecordNoKey, Printable(record[..Math.Min(record.Length, 40)])));
            var key = record[..eq];
            var value = record[(eq + 1)..];
            if (key.StartsWith("GNU.sparse."u8))
            {
                if (!global) _paxSparse = true; // refused at its entry, whose name it may still change
                continue;
            }
            if (key.Contains((byte)0))
                throw Damaged(at, Text.Fill(Strings.Tar_PaxRecordNoKey, Printable(record[..Math.Min(record.Length, 40)])));
            if (key.SequenceEqual("size"u8) || key.SequenceEqual("uid"u8) || key.SequenceEqual("gid"u8))
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
                    throw Damaged(at, Text.Fill(Strings.Tar_PaxRecordNotNumber, Encoding.ASCII.GetString(key), Printable(value)));
                if (global) continue;
                if (key[0] == (byte)'s') _paxSize = number;
                else if (key[0] == (byte)'u') _paxUid = number;
                else _paxGid = number;
            }
            else if (key.SequenceEqual("mtime"u8) || key.SequenceEqual("atime"u8) || key.SequenceEqual("ctime"u8))
            {
                if (!PaxTime(value, out long seconds))
                    throw Damaged(at, Text.Fill(Strings.Tar_PaxRecordNotTime, Encoding.ASCII.GetString(key), Printable(value)));
                if (!global && key[0] == (byte)'m') _paxMTime = seconds;
            }
            else if (key.SequenceEqual("path"u8) || key.SequenceEqual("linkpath"u8))
            {
                // Go refuses a NUL in a name record; a name is cut at nothing else
                if (value.Contains((byte)0)) throw new ImageException(FaultKind.Damaged, Strings.Tar_NameHoldsNul, entryName: PathText.FromBytes(value).Replace('\0', '@'));
                if (global) continue;
                if (key[0] == (byte)'p') Keep(ref _paxPath, ref _paxPathLength, value);
                else Keep(ref _paxLink, ref _paxLinkLength, value);
            }
            else if (!global && key.SequenceEqual("SCHILY.xattr.trusted.overlay.opaque"u8))
                _paxOpaque = value.SequenceEqual("y"u8);
        }
    }

    /// <summary>A PAX time, "[-]seconds[.fraction]", as whole seconds (rounded down, as ls shows a time).</summary>
    private static bool PaxTime(ReadOnlySpan<byte> value, out long seconds)
    {
        seconds = 0;
        bool negative = !value.IsEmpty && value[0] == (byte)'-';
        if (negative) value = value[1..];
        int dot = value.IndexOf((byte)'.');
        var whole = dot < 0 ? value : value[..dot];
        var fraction = dot < 0 ? default : value[(dot + 1)..];
        if (whole.IsEmpty || whole.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            || (dot >= 0 && (fraction.IsEmpty || fraction.ContainsAnyExceptInRange((byte)'0', (byte)'9'))))
            return false;
        if (!long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out seconds)) return false;
        if (negative) seconds = fraction.ContainsAnyExcept((byte)'0') ? -seconds - 1 : -seconds;
        return true;
    }

    /// <summary>
    /// The checksum holds when the field (octal only) is the sum of the header's bytes with the field
    /// itself counted as eight spaces: the unsigned sum, or the signed sum old Sun tar wrote. Go's
    /// archive/tar (reader.go, validateChecksum) and GNU tar accept either.
    /// </summary>
    internal static bool ChecksumHolds(ReadOnlySpan<byte> h)
    {
        if ((h[148] & 0x80) != 0 || !Numeric(h, 148, 8, out long stored)) return false; // octal only
        var (unsigned, signed) = Sums(h);
        return stored == unsigned || stored == signed;
    }

    /// <summary>
    /// The header's unsigned and signed byte sums, the checksum field counted as eight spaces, a vector
    /// at a time: the signed sum is the unsigned one less 256 for every byte of 0x80 or more.
    /// </summary>
    internal static (long Unsigned, long Signed) Sums(ReadOnlySpan<byte> h) =>
        Vector128.IsHardwareAccelerated ? Sums128(h) : PlainSums(h); // 16 bytes at a time: the native build's target (x86-64 v1, arm64) has them, and the checksum is 1% of a read

    /// <inheritdoc cref="Sums"/>
    internal static (long Unsigned, long Signed) Sums128(ReadOnlySpan<byte> h)
    {
        h = h[..Block];
        ref byte start = ref MemoryMarshal.GetReference(h);
        // 32 vectors, each adding at most 2 x 255 to a 16-bit lane and 1 to a byte lane of the high count: none overflows
        var sums = Vector128<ushort>.Zero;
        var highs = Vector128<byte>.Zero;
        for (nuint i = 0; i < Block; i += (nuint)Vector128<byte>.Count)
        {
            var v = Vector128.LoadUnsafe(ref start, i);
            var (lower, upper) = Vector128.Widen(v);
            sums += lower + upper;
            highs -= Vector128.LessThan(v.AsSByte(), Vector128<sbyte>.Zero).AsByte(); // all ones (-1) where the top bit is set
        }
        var (a, b) = Vector128.Widen(sums);
        var (c, d) = Vector128.Widen(highs);
        return WithoutChecksumField(h, Vector128.Sum(a + b), Vector128.Sum(c + d));
    }

    /// <summary>The sums from those of all 512 bytes: the checksum field's own bytes out, eight spaces (below 0x80) in.</summary>
    private static (long Unsigned, long Signed) WithoutChecksumField(ReadOnlySpan<byte> h, long total, int high)
    {
        foreach (byte c in h.Slice(148, 8))
        {
            total -= c;
            if (c >= 0x80) high--;
        }
        total += 8 * ' ';
        return (total, total - 256L * high);
    }

    /// <summary>The sums as the format defines them, a byte at a time (the reference for <see cref="Sums"/>).</summary>
    internal static (long Unsigned, long Signed) PlainSums(ReadOnlySpan<byte> h)
    {
        long unsigned = 0, signed = 0;
        for (int i = 0; i < Block; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : h[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        return (unsigned, signed);
    }

    private long Field(ReadOnlySpan<byte> h, long at, string name, int offset, int length, bool allowNegative)
    {
        if (!Numeric(h, offset, length, out long value) || (value < 0 && !allowNegative))
            throw Damaged(at, Text.Fill(Strings.Tar_FieldNotNumber, name, Printable(h.Slice(offset, length))));
        return value;
    }

    /// <summary>
    /// A numeric header field: octal digits between optional spaces and NULs, blank (0), or base-256
    /// (a first byte 0x80 or 0xff, then a two's complement big-endian number, as GNU tar reads it; Go
    /// also takes other first bytes with the top bit set, which only damage writes).
    /// </summary>
    internal static bool Numeric(ReadOnlySpan<byte> h, int offset, int length, out long value)
    {
        var field = h.Slice(offset, length);
        // what writers write, eight bytes at a time: blank, or all digits but a last NUL or space ("%07o\0", "%011o\0")
        if (field.Length == 8)
        {
            ulong x = BinaryPrimitives.ReadUInt64LittleEndian(field);
            if (x == 0)
            {
                value = 0;
                return true;
            }
            if ((x >> 56) is 0 or ' ' && OctalDigits((x << 8) | '0', out value)) return true; // a '0' before the seven digits
        }
        else if (field.Length == 12)
        {
            ulong x = BinaryPrimitives.ReadUInt64LittleEndian(field);
            uint y = BinaryPrimitives.ReadUInt32LittleEndian(field[8..]);
            // the last three digits after five '0's
            if ((y >> 24) is 0 or ' ' && OctalDigits(x, out long high) && OctalDigits(0x30303030UL | ((ulong)((y << 8) | '0') << 32), out long low))
            {
                value = (high << 9) | low;
                return true;
            }
        }
        // octal digits from the first byte, then only NULs and spaces (up to 20 digits: no overflow)
        if (field.Length <= 20)
        {
            long v = 0;
            int i = 0;
            for (; i < field.Length; i++)
            {
                uint digit = (uint)(field[i] - '0');
                if (digit > 7) break;
                v = (v << 3) | digit;
            }
            if (i > 0)
            {
                int j = i;
                while (j < field.Length && field[j] is 0 or (byte)' ') j++;
                if (j == field.Length)
                {
                    value = v;
                    return true;
                }
            }
        }
        return PlainNumeric(field, out value);
    }

    /// <summary>
    /// Eight octal digits, the first in the lowest byte, as a number (false unless every byte is '0' to
    /// '7'): pairs of digits are joined, then pairs of pairs, then the two halves, within one word.
    /// </summary>
    private static bool OctalDigits(ulong digits, out long value)
    {
        ulong v = digits ^ 0x3030303030303030UL; // '0'..'7' is 0x30..0x37: 0..7 with no other bit
        if ((v & 0xF8F8F8F8F8F8F8F8UL) != 0)
        {
            value = 0;
            return false;
        }
        v = ((v & 0x00FF00FF00FF00FFUL) << 3) + ((v >> 8) & 0x00FF00FF00FF00FFUL);
        v = ((v & 0x0000FFFF0000FFFFUL) << 6) + ((v >> 16) & 0x0000FFFF0000FFFFUL);
        value = (long)(((v & 0xFFFFFFFFUL) << 12) + (v >> 32));
        return true;
    }

    /// <summary>Every form of <see cref="Numeric"/>, a byte at a time (the reference for its fast path).</summary>
    internal static bool PlainNumeric(ReadOnlySpan<byte> field, out long value)
    {
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

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes) sb.Append(b is >= 0x20 and < 0x7f ? (char)b : b == 0 ? "\\0" : $"\\x{b:x2}");
        return sb.ToString();
    }
}
