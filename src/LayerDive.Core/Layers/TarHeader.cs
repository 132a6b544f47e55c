namespace LayerDive.Core.Layers;

/// <summary>One entry's header as <see cref="TarGuard"/> decoded it; one object per reader, refilled for each entry.</summary>
internal sealed class TarHeader
{
    // the name as bytes, copied out of the guard's buffers (which the next header reuses); decoded only when
    // a message or a name that normalisation changed asks for it, so an entry costs one string (its path)
    private byte[] _nameBytes = new byte[256];
    private int _nameLength;
    private string? _name;

    /// <summary>The type flag, as the header has it ('0', '5', ...; NUL read as '0' or, with a trailing '/', as '5').</summary>
    public byte Type;

    /// <summary>The full name's bytes: PAX path, GNU long name or prefix/name.</summary>
    public ReadOnlySpan<byte> NameBytes => _nameBytes.AsSpan(0, _nameLength);

    /// <summary>The full name, read by <see cref="PathText.FromBytes"/> (decoded the first time it is asked for).</summary>
    public string Name => _name ??= PathText.FromBytes(NameBytes);

    public string LinkName = "";
    /// <summary>The size the headers declare (PAX size= over the header's).</summary>
    public long Size;
    /// <summary>The data that follows: the size, or nothing for a link, directory, device or fifo (Go's archive/tar reads no data after those, whatever the size says).</summary>
    public long DataLength;
    public long Mode, Uid, Gid, DevMajor, DevMinor;
    /// <summary>Modification time, Unix seconds as given (before 1970 or far ahead too).</summary>
    public long MTime;
    /// <summary>PAX <c>SCHILY.xattr.trusted.overlay.opaque=y</c>.</summary>
    public bool OpaqueXattr;
    /// <summary>The name or link name holds bytes that are not UTF-8.</summary>
    public bool NotUtf8;
    /// <summary>A type-NUL header whose name ends in '/': an old-style directory.</summary>
    public bool OldStyleDirectory;
    /// <summary>The size came from a PAX record (where a hardlink may carry data, for GNU tar and libarchive).</summary>
    public bool PaxSize;

    /// <summary>Takes the entry's name (copied: the span may be a buffer the reader refills).</summary>
    public void SetName(ReadOnlySpan<byte> name)
    {
        if (name.Length > _nameBytes.Length) _nameBytes = new byte[Math.Max(name.Length, 2 * _nameBytes.Length)];
        name.CopyTo(_nameBytes);
        _nameLength = name.Length;
        _name = null;
    }

    /// <summary>
    /// Tells the header what its name decodes to, when the caller decoded the same bytes already (a name
    /// that normalisation kept as it was is its own path), so <see cref="Name"/> costs nothing more.
    /// </summary>
    public void KnowName(string name) => _name = name;
}
