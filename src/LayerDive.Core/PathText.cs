using System.Text;

namespace LayerDive.Core;

/// <summary>Path helpers shared by every front end: normalisation of tar names and escaping for display.</summary>
internal static class PathText
{
    /// <summary>
    /// Escapes a name for one-line display, losslessly: a byte that is not part of valid UTF-8 (held as
    /// U+DC80+byte, see <see cref="FromBytes"/>), a backslash and the control characters (tab, newline,
    /// ...) are written <c>\xHH</c>, as the umoci ground-truth listings write them (Python's
    /// surrogateescape); <see cref="Unescape"/> reads the form back.
    /// </summary>
    public static string Escape(string s)
    {
        int i = s.AsSpan().IndexOfAny(EscapedChars);
        if (i < 0) return s;
        // the low half of a pair may fall in the raw-byte range (U+1F4A9: D83D DCA9): the slow path starts at the pair
        if (i > 0 && char.IsHighSurrogate(s[i - 1])) i--;
        var sb = new StringBuilder(s.Length + 8);
        sb.Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(c).Append(s[++i]); // a character outside the BMP, whole
                continue;
            }
            if (IsRawByte(c)) sb.Append("\\x").Append((c - RawBase).ToString("x2"));
            else if (c < 0x20 || c == 0x7f || c == '\\') sb.Append("\\x").Append(((int)c).ToString("x2"));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Writes <paramref name="s"/> as <see cref="Escape"/> gives it, without making a string where nothing is to
    /// be escaped (nearly always).
    /// </summary>
    public static void WriteEscaped(TextWriter w, ReadOnlySpan<char> s)
    {
        if (MayNeedEscape(s)) w.Write(Escape(s.ToString()));
        else w.Write(s);
    }

    /// <summary>False when <see cref="Escape"/> leaves <paramref name="s"/> as it is (true may still leave it: a pair whose low half lies in the raw-byte range).</summary>
    public static bool MayNeedEscape(ReadOnlySpan<char> s) => s.ContainsAny(EscapedChars);

    // what Escape may have to escape (a valid low surrogate of a pair may fall in the raw-byte range too: the slow
    // path, begun at the pair, tells them apart), searched for as a set
    private static readonly System.Buffers.SearchValues<char> EscapedChars = System.Buffers.SearchValues.Create(EscapedCharsOf());

    private static char[] EscapedCharsOf() => [.. Enumerable.Range(0, 0x20).Select(c => (char)c), '\x7f', '\\', .. RawCharsOf()];

    private const char RawFirst = '\uDC80', RawLast = '\uDCFF';
    // searched for as a set: the generic range search boxed its bounds in code not yet optimised (a million
    // paths of a --json report: 14 MB of garbage on the runtime build)
    private static readonly System.Buffers.SearchValues<char> RawChars = System.Buffers.SearchValues.Create(RawCharsOf());

    private static char[] RawCharsOf()
    {
        var chars = new char[RawLast - RawFirst + 1];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)(RawFirst + i);
        return chars;
    }
    private const int RawBase = 0xDC00;

    private static bool IsRawByte(char c) => c >= RawFirst && c <= RawLast;

    /// <summary>
    /// A name's bytes as a string, losslessly: UTF-8 where they are valid UTF-8, and each byte of an
    /// invalid sequence as the lone surrogate U+DC80+byte (Python's surrogateescape). Two different
    /// byte strings are always two different strings; <see cref="ToBytes"/> gives the bytes back.
    /// </summary>
    public static string FromBytes(ReadOnlySpan<byte> bytes) => FromBytes(bytes, out _);

    /// <inheritdoc cref="FromBytes(ReadOnlySpan{byte})"/>
    /// <param name="notUtf8">True when some bytes were not valid UTF-8 (the string holds raw bytes).</param>
    public static string FromBytes(ReadOnlySpan<byte> bytes, out bool notUtf8)
    {
        notUtf8 = !System.Text.Unicode.Utf8.IsValid(bytes);
        if (!notUtf8) return Encoding.UTF8.GetString(bytes);
        var sb = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out int consumed) == System.Buffers.OperationStatus.Done)
                sb.Append(rune.ToString());
            else
                foreach (byte b in bytes[..consumed]) sb.Append((char)(RawBase + b));
            bytes = bytes[consumed..];
        }
        return sb.ToString();
    }

    /// <summary>True when the string holds a byte that is not UTF-8 (see <see cref="FromBytes"/>).</summary>
    public static bool HasRawBytes(string s) => HasRawBytes(s.AsSpan());

    /// <inheritdoc cref="HasRawBytes(string)"/>
    public static bool HasRawBytes(ReadOnlySpan<char> s)
    {
        int i = s.IndexOfAny(RawChars);
        while (i >= 0)
        {
            if (i == 0 || !char.IsHighSurrogate(s[i - 1])) return true;
            int next = s[(i + 1)..].IndexOfAny(RawChars);
            i = next < 0 ? -1 : i + 1 + next;
        }
        return false;
    }

    /// <summary>The bytes a string of <see cref="FromBytes"/> stands for (UTF-8, raw bytes as they were).</summary>
    public static byte[] ToBytes(string s)
    {
        if (!HasRawBytes(s)) return Encoding.UTF8.GetBytes(s);
        var bytes = new List<byte>(s.Length + 8);
        AppendBytes(s, bytes);
        return [.. bytes];
    }

    private static void AppendBytes(ReadOnlySpan<char> s, List<byte> bytes)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                int n = new System.Text.Rune(c, s[++i]).EncodeToUtf8(utf8);
                for (int k = 0; k < n; k++) bytes.Add(utf8[k]);
            }
            else if (IsRawByte(c)) bytes.Add((byte)(c - RawBase));
            else
            {
                int n = (char.IsSurrogate(c) ? System.Text.Rune.ReplacementChar : new System.Text.Rune(c)).EncodeToUtf8(utf8);
                for (int k = 0; k < n; k++) bytes.Add(utf8[k]);
            }
        }
    }

    /// <summary>The length of <see cref="ToBytes"/>: what a file system counts of the name.</summary>
    public static int ByteCount(string s) => HasRawBytes(s) ? ToBytes(s).Length : Encoding.UTF8.GetByteCount(s);

    /// <summary>
    /// Reads the form <see cref="Escape"/> writes: each <c>\xHH</c> is the byte HH, everything else
    /// stands for itself (a backslash not followed by <c>x</c> and two hex digits too), and the bytes
    /// are read as <see cref="FromBytes"/> reads a name. So <c>\xd0\xd2</c> finds the KOI8-R name a
    /// listing shows that way, and <c>\xd0\x92</c> the UTF-8 "В".
    /// </summary>
    public static string Unescape(string s)
    {
        if (!s.Contains("\\x", StringComparison.Ordinal)) return s;
        var bytes = new List<byte>(s.Length);
        int start = 0;
        for (int i = 0; i + 3 < s.Length; i++)
        {
            if (s[i] == '\\' && s[i + 1] == 'x' && IsHex(s[i + 2]) && IsHex(s[i + 3]))
            {
                AppendBytes(s.AsSpan(start, i - start), bytes);
                bytes.Add((byte)Convert.ToInt32(s.Substring(i + 2, 2), 16));
                i += 3;
                start = i + 1;
            }
        }
        AppendBytes(s.AsSpan(start), bytes);
        return FromBytes(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));

        static bool IsHex(char c) => char.IsAsciiHexDigit(c);
    }

    /// <summary>What the JSON documents say of their paths (the key <c>pathEncoding</c>).</summary>
    public const string JsonPathEncoding = "utf-8; a byte that is not UTF-8 as the lone surrogate \\udc80+byte (Python's surrogateescape: os.fsencode gives the bytes back)";

    /// <summary>
    /// Writes a path (or link target) as a JSON string, losslessly: as any string where it is UTF-8,
    /// and each byte that is not as the escape <c>\udc80</c>+byte (JSON carries a lone surrogate where
    /// the writer would put U+FFFD), which Python reads back to the name's bytes with surrogateescape.
    /// </summary>
    public static void WriteJson(System.Text.Json.Utf8JsonWriter w, string property, string? value)
    {
        if (value is null || !HasRawBytes(value))
        {
            w.WriteString(property, value);
            return;
        }
        w.WritePropertyName(property);
        w.WriteRawValue(JsonWithRawBytes(value), skipInputValidation: true);
    }

    /// <inheritdoc cref="WriteJson(System.Text.Json.Utf8JsonWriter, string, string?)"/>
    public static void WriteJson(System.Text.Json.Utf8JsonWriter w, System.Text.Json.JsonEncodedText property, ReadOnlySpan<char> value)
    {
        if (!HasRawBytes(value))
        {
            w.WriteString(property, value);
            return;
        }
        w.WritePropertyName(property);
        w.WriteRawValue(JsonWithRawBytes(value.ToString()), skipInputValidation: true);
    }

    /// <summary>As <see cref="WriteJson(System.Text.Json.Utf8JsonWriter, string, string?)"/>, for an element of an array.</summary>
    public static void WriteJsonValue(System.Text.Json.Utf8JsonWriter w, string value)
    {
        if (!HasRawBytes(value)) w.WriteStringValue(value);
        else w.WriteRawValue(JsonWithRawBytes(value), skipInputValidation: true);
    }

    private static string JsonWithRawBytes(string s)
    {
        var encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        var sb = new StringBuilder(s.Length + 16).Append('"');
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (!IsRawByte(s[i]) || (i > 0 && char.IsHighSurrogate(s[i - 1]))) continue;
            sb.Append(System.Text.Json.JsonEncodedText.Encode(s.AsSpan(start, i - start), encoder).Value).Append("\\u").Append(((int)s[i]).ToString("x4"));
            start = i + 1;
        }
        return sb.Append(System.Text.Json.JsonEncodedText.Encode(s.AsSpan(start), encoder).Value).Append('"').ToString();
    }

    /// <summary>
    /// Normalises a tar entry name to a path relative to the root: leading "./" and "/" removed,
    /// "//" collapsed, "." segments dropped, ".." resolved, trailing "/" dropped. The root itself is "".
    /// Returns null when the name is empty, holds a NUL byte, or climbs above the root.
    /// </summary>
    public static string? Normalize(string name, out bool wasAbsolute)
    {
        wasAbsolute = name.Length > 0 && name[0] == '/';
        if (name.Length == 0 || name.Contains('\0')) return null;
        // Fast path: already clean (no "//", no "." or ".." segment, no leading/trailing '/').
        if (IsClean(name)) return name;
        var segments = new List<string>();
        foreach (var seg in name.Split('/'))
        {
            if (seg.Length == 0 || seg == ".") continue;
            if (seg == "..")
            {
                if (segments.Count == 0) return null;
                segments.RemoveAt(segments.Count - 1);
                continue;
            }
            segments.Add(seg);
        }
        return string.Join('/', segments);
    }

    /// <summary>
    /// <see cref="Normalize"/> of the name these bytes make (<see cref="FromBytes"/>), decoded once: the
    /// segments are the same in bytes, as '/', '.' and NUL are single bytes that no multi-byte sequence
    /// holds. A plain ASCII name that is already clean is decoded as it is (<paramref name="unchanged"/>:
    /// the path is also the name); any other is normalised in bytes and then decoded.
    /// </summary>
    public static string? Normalize(ReadOnlySpan<byte> name, out bool unchanged)
    {
        unchanged = false;
        if (name.IsEmpty || name.Contains((byte)0)) return null;
        if (System.Text.Ascii.IsValid(name) && IsClean(name))
        {
            unchanged = true;
            return Encoding.ASCII.GetString(name);
        }
        byte[]? rented = null;
        Span<byte> path = name.Length <= 512 ? stackalloc byte[512] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(name.Length));
        try
        {
            int length = 0;
            while (true)
            {
                int slash = name.IndexOf((byte)'/');
                var seg = slash < 0 ? name : name[..slash];
                if (seg.Length == 0 || (seg.Length == 1 && seg[0] == (byte)'.')) { }
                else if (seg.Length == 2 && seg[0] == (byte)'.' && seg[1] == (byte)'.')
                {
                    if (length == 0) return null;
                    length = Math.Max(0, path[..length].LastIndexOf((byte)'/'));
                }
                else
                {
                    if (length > 0) path[length++] = (byte)'/';
                    seg.CopyTo(path[length..]);
                    length += seg.Length;
                }
                if (slash < 0) break;
                name = name[(slash + 1)..];
            }
            return FromBytes(path[..length]);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool IsClean(ReadOnlySpan<byte> name)
    {
        if (name[0] == (byte)'/' || name[^1] == (byte)'/') return false;
        while (true)
        {
            int slash = name.IndexOf((byte)'/');
            int len = slash < 0 ? name.Length : slash;
            if (len == 0 || (name[0] == (byte)'.' && (len == 1 || (len == 2 && name[1] == (byte)'.')))) return false;
            if (slash < 0) return true;
            name = name[(slash + 1)..];
        }
    }

    private static bool IsClean(string name)
    {
        if (name[0] == '/' || name[^1] == '/') return false;
        int start = 0;
        while (start <= name.Length)
        {
            int end = name.IndexOf('/', start);
            if (end < 0) end = name.Length;
            int len = end - start;
            if (len == 0) return false;
            if (len == 1 && name[start] == '.') return false;
            if (len == 2 && name[start] == '.' && name[start + 1] == '.') return false;
            start = end + 1;
        }
        return true;
    }

    /// <summary>The last segment of a normalised path.</summary>
    public static string FileName(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    /// <summary>The parent of a normalised path ("" for a top-level name).</summary>
    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    /// <summary>Joins a parent and a name ("" parent = root).</summary>
    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    /// <summary>Comparison of the bytes two strings stand for (UTF-8, raw bytes as they were): the order of the ground-truth listings.</summary>
    public static int CompareUtf8(string a, string b) => CompareUtf8(a.AsSpan(), b.AsSpan());

    /// <inheritdoc cref="CompareUtf8(string, string)"/>
    public static int CompareUtf8(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        // UTF-16 ordinal order equals UTF-8 byte order except where surrogates meet: a pair sorts after
        // U+E000..U+FFFF, and a raw byte (U+DC80+byte) sorts as the byte it is
        int n = Math.Min(a.Length, b.Length);
        int i = a[..n].CommonPrefixLength(b[..n]);
        if (i == n) return a.Length.CompareTo(b.Length);
        char x = a[i], y = b[i];
        if (char.IsSurrogate(x) || char.IsSurrogate(y) || (i > 0 && char.IsHighSurrogate(a[i - 1])))
            return ToBytes(a.ToString()).AsSpan().SequenceCompareTo(ToBytes(b.ToString()));
        return x < y ? -1 : 1;
    }

    /// <summary>
    /// Tree order: paths compared segment by segment in UTF-8 byte order (a parent before its
    /// children), the order of a depth-first walk with sorted names, as Go's sort.Strings gives it.
    /// </summary>
    public static int CompareTreeOrder(string a, string b)
    {
        // the segments before the first difference are equal: start at the one it falls in
        int common = a.AsSpan().CommonPrefixLength(b);
        int i = common == 0 ? 0 : a.LastIndexOf('/', common - 1) + 1, j = i;
        while (i < a.Length && j < b.Length)
        {
            int ea = a.IndexOf('/', i), eb = b.IndexOf('/', j);
            if (ea < 0) ea = a.Length;
            if (eb < 0) eb = b.Length;
            int c = CompareUtf8(a.AsSpan(i, ea - i), b.AsSpan(j, eb - j));
            if (c != 0) return c;
            i = ea + 1;
            j = eb + 1;
        }
        return (a.Length - i).CompareTo(b.Length - j);
    }
}
