using System.Text;

namespace LayerDive.Core;

/// <summary>Path helpers shared by every front end: normalisation of tar names and escaping for display.</summary>
public static class PathText
{
    /// <summary>
    /// Escapes a name for one-line display: backslash, control characters (tab, newline, ...) and
    /// U+FFFD (what an invalid UTF-8 byte decodes to) are written as <c>\xHH</c> / <c>\u{FFFD}</c>,
    /// the same convention as the umoci ground-truth listings.
    /// </summary>
    public static string Escape(string s)
    {
        int i = 0;
        for (; i < s.Length; i++)
            if (NeedsEscape(s[i])) break;
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 8);
        sb.Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (NeedsEscape(c))
            {
                if (c == '\uFFFD') sb.Append("\\u{fffd}");
                else sb.Append("\\x").Append(((int)c).ToString("x2"));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) => c < 0x20 || c == 0x7f || c == '\\' || c == '\uFFFD';

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

    /// <summary>Ordinal comparison of the UTF-8 bytes of two strings (the order of the ground-truth listings).</summary>
    public static int CompareUtf8(string a, string b)
    {
        // UTF-16 ordinal order equals UTF-8 byte order except where surrogates meet U+E000..U+FFFF.
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            if (x >= 0xD800 && y >= 0xD800)
            {
                // surrogates (D800-DFFF) sort after E000-FFFF in UTF-8
                bool xs = x <= 0xDFFF, ys = y <= 0xDFFF;
                if (xs != ys) return xs ? 1 : -1;
            }
            return x < y ? -1 : 1;
        }
        return a.Length.CompareTo(b.Length);
    }

    /// <summary>
    /// Tree order: paths compared segment by segment in UTF-8 byte order (a parent before its
    /// children), the order of a depth-first walk with sorted names, as Go's sort.Strings gives it.
    /// </summary>
    public static int CompareTreeOrder(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            int ea = a.IndexOf('/', i), eb = b.IndexOf('/', j);
            if (ea < 0) ea = a.Length;
            if (eb < 0) eb = b.Length;
            int c = CompareUtf8(a[i..ea], b[j..eb]);
            if (c != 0) return c;
            i = ea + 1;
            j = eb + 1;
        }
        return (a.Length - i).CompareTo(b.Length - j);
    }
}
