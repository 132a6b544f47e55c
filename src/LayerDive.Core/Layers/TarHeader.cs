namespace LayerDive.Core.Layers;

/// <summary>One entry's header as <see cref="TarGuard"/> decoded it; one object per reader, refilled for each entry.</summary>
internal sealed class TarHeader
{
    /// <summary>The type flag, as the header has it ('0', '5', ...; NUL read as '0' or, with a trailing '/', as '5').</summary>
    public byte Type;
    /// <summary>The full name: PAX path, GNU long name or prefix/name, as bytes read by <see cref="PathText.FromBytes"/>.</summary>
    public string Name = "";
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
}
