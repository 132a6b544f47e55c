namespace LayerDive.Core.Layers;

/// <summary>
/// The file names a layer tar uses for what OverlayFS keeps as a 0/0 character device (a whiteout) or
/// an xattr (an opaque directory), and the AUFS metadata names a layer may carry and nobody reads.
/// The one place they are spelled, as containerd's <c>pkg/archive</c> keeps them; the rules are the
/// OCI image spec's: https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts
/// </summary>
internal static class OverlayMarkers
{
    /// <summary><c>DIR/.wh.NAME</c> hides <c>DIR/NAME</c> as the lower layers have it.</summary>
    public const string WhiteoutPrefix = ".wh.";
    /// <summary><c>.wh..wh.</c>: a name with a meaning of its own (AUFS's <c>.wh..wh.plnk</c>, <c>.wh..wh.aufs</c>), not a removal.</summary>
    public const string AufsMetaPrefix = WhiteoutPrefix + WhiteoutPrefix;
    /// <summary><c>DIR/.wh..wh..opq</c> hides every lower child of <c>DIR</c>.</summary>
    public const string Opaque = AufsMetaPrefix + ".opq";

    /// <summary>The marker that removes <paramref name="path"/>: <c>a/b</c> gives <c>a/.wh.b</c>.</summary>
    public static string WhiteoutFor(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? WhiteoutPrefix + path : string.Concat(path.AsSpan(0, slash + 1), WhiteoutPrefix, path.AsSpan(slash + 1));
    }

    /// <summary>The marker that makes <paramref name="dir"/> opaque (<c>""</c> is the root).</summary>
    public static string OpaqueFor(string dir) => PathText.Join(dir, Opaque);

    /// <summary>True when <paramref name="fileName"/> (one name, no slash) is the opaque marker.</summary>
    public static bool IsOpaque(ReadOnlySpan<char> fileName) => fileName.SequenceEqual(Opaque);

    /// <summary>
    /// True when <paramref name="fileName"/> (one name, no slash) is a whiteout other than the opaque
    /// marker; <paramref name="hidden"/> is the name it hides. Ask <see cref="IsUnderAufsMeta"/> first:
    /// <c>.wh..wh.plnk</c> would pass as hiding <c>.wh.plnk</c>.
    /// </summary>
    public static bool IsWhiteout(ReadOnlySpan<char> fileName, out ReadOnlySpan<char> hidden)
    {
        hidden = default;
        if (!fileName.StartsWith(WhiteoutPrefix, StringComparison.Ordinal) || IsOpaque(fileName)) return false;
        hidden = fileName[WhiteoutPrefix.Length..];
        return true;
    }

    /// <summary>True when a name of <paramref name="path"/> is AUFS metadata (<c>.wh..wh.*</c> but the opaque marker), or under it.</summary>
    public static bool IsUnderAufsMeta(ReadOnlySpan<char> path)
    {
        int start = 0;
        while (true)
        {
            int found = path[start..].IndexOf(AufsMetaPrefix.AsSpan());
            if (found < 0) return false;
            int idx = start + found;
            if (idx == 0 || path[idx - 1] == '/')
            {
                int end = path[idx..].IndexOf('/');
                if (!IsOpaque(end < 0 ? path[idx..] : path.Slice(idx, end))) return true;
            }
            start = idx + 1;
        }
    }
}
