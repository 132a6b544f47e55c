using LayerDive.Core.Model;

namespace LayerDive.Core.Layers;

/// <summary>What a tar entry of a layer means for the merge.</summary>
internal enum RawKind : byte
{
    /// <summary>A file, directory, link or device to put in the tree.</summary>
    Entry,
    /// <summary><c>DIR/.wh.NAME</c>: hide <c>DIR/NAME</c> as the lower layers have it.</summary>
    Whiteout,
    /// <summary><c>DIR/.wh..wh..opq</c>: hide every lower child of <c>DIR</c>.</summary>
    Opaque,
}

/// <summary>
/// One decoded tar entry. <see cref="Path"/> is normalised; for a whiteout it is the hidden path, for
/// an opaque marker the directory. A hardlink carries its target in <see cref="HardlinkTarget"/> and
/// gets its content identity from the merge.
/// </summary>
internal readonly record struct RawEntry(RawKind Kind, string Path, EntryAttributes? Attributes, string? HardlinkTarget = null, string? MarkerPath = null);

/// <summary>Takes a layer's decoded entries, in tar order, as the reader decodes them.</summary>
internal interface IEntrySink
{
    void Add(in RawEntry entry);
}

/// <summary>
/// A sink that also takes the bytes of the regular files it chooses, copied as the reader reads and
/// hashes them, before the entry itself is added. A name a layer holds twice is opened twice: the
/// later entry is the one the merge keeps.
/// </summary>
internal interface IContentSink : IEntrySink
{
    /// <summary>Where to copy the data of the file entry at <paramref name="path"/> (normalised), or null to leave it.</summary>
    Stream? Open(string path);
}

/// <summary>Everything one pass over a layer blob produced (its entries only when no sink took them).</summary>
internal sealed class LayerContents
{
    public List<RawEntry> Entries { get; } = [];
    public List<Problem> Problems { get; } = [];
    public Compression Compression { get; set; }
    public bool EStargz { get; set; }
    /// <summary>sha256 of the blob as stored, when computed.</summary>
    public string? BlobDigest { get; set; }
    /// <summary>sha256 of the uncompressed tar (the diff id), when computed.</summary>
    public string? DiffId { get; set; }
    public long CompressedSize { get; set; }
    public long UncompressedSize { get; set; }
    /// <summary>Tar entries read (markers and metadata included).</summary>
    public int EntryCount { get; set; }
    /// <summary>Sum of the header sizes of the entries (dive's layer size).</summary>
    public long HeaderSizeTotal { get; set; }
}
