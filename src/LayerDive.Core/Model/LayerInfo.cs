namespace LayerDive.Core.Model;

/// <summary>
/// A <c>.wh.NAME</c> marker of a layer and what it hid: how many paths, their file bytes, and the sum
/// of the tar header sizes of what it hid under a directory (what dive counts for a whiteout).
/// </summary>
internal sealed record WhiteoutInfo(string MarkerPath, string HiddenPath, bool HidDirectory, int HiddenPaths, long HiddenBytes, bool Orphan, long HiddenHeaderBytes = 0);

/// <summary>
/// One layer: where its bytes came from, whether they verified, and what it changed. What the manifest
/// and config say is there from the start; what reading and merging the layer found is set once, by the
/// load, when the layer is merged (<see cref="ImageModel.LayersMerged"/> counts it).
/// </summary>
public sealed class LayerInfo
{
    private bool _read, _counted;
    private long _compressedSize;

    public required int Index { get; init; }
    /// <summary>Digest of the stored blob (compressed bytes); for archives that name no blob digest, computed.</summary>
    public string? Digest { get; private set; }
    /// <summary>The diff id: sha256 of the uncompressed tar, as computed.</summary>
    public string? DiffId { get; private set; }
    /// <summary>The diff id the config expects.</summary>
    public string? ExpectedDiffId { get; init; }
    /// <summary>The blob digest the manifest expects, where it names one.</summary>
    public string? ExpectedDigest { get; init; }
    public string? MediaType { get; init; }
    /// <summary>Where the source found the blob (an archive member, a registry blob, a store layer, ...); null for a layer made by hand.</summary>
    internal Sources.LayerLocator? Locator { get; init; }
    /// <summary>An image's layer, or the read-write layer a container put on top.</summary>
    public LayerOrigin Origin { get; init; }
    public Compression Compression { get; private set; }
    public bool EStargz { get; private set; }
    /// <summary>The blob's size: the one the manifest declares until the layer is read, then the bytes read.</summary>
    public long CompressedSize { get => _compressedSize; internal init => _compressedSize = value; }
    public long UncompressedSize { get; private set; }
    /// <summary>True when both digests were checked and matched; false when checking was switched off or impossible.</summary>
    public bool Verified { get; private set; }
    /// <summary>The history entry that made this layer.</summary>
    public HistoryEntry? History { get; internal init; }
    public string CreatedBy => History?.CreatedBy ?? "";

    /// <summary>Number of tar entries (markers included).</summary>
    public int EntryCount { get; private set; }
    /// <summary>Sum of the tar header sizes of the layer's entries (dive's layer size).</summary>
    public long Size { get; private set; }

    public int Added { get; private set; }
    public int Modified { get; private set; }
    public int Removed { get; private set; }
    public int Unmodified { get; private set; }

    /// <summary>What reading the layer found: set once, by the load, before the layer counts as merged.</summary>
    internal void SetRead(Compression compression, bool eStargz, long compressedSize, long uncompressedSize, int entryCount, long size,
        string? digest, string? diffId, bool verified)
    {
        if (_read) throw new InvalidOperationException($"layer {Index} was read already");
        _read = true;
        (Compression, EStargz, _compressedSize, UncompressedSize, EntryCount, Size) = (compression, eStargz, compressedSize, uncompressedSize, entryCount, size);
        (Digest, DiffId, Verified) = (digest, diffId, verified);
    }

    /// <summary>What the merge counted (<see cref="Merge.OverlayMerger.EndLayer"/>): set once, when the layer's entries are all merged.</summary>
    internal void SetChanges(int added, int modified, int removed, int unmodified)
    {
        if (_counted) throw new InvalidOperationException($"layer {Index} was counted already");
        _counted = true;
        (Added, Modified, Removed, Unmodified) = (added, modified, removed, unmodified);
    }

    internal List<WhiteoutInfo> Whiteouts { get; } = [];
    /// <summary>Directories this layer made opaque (<c>DIR/.wh..wh..opq</c>), by path.</summary>
    public List<string> OpaqueDirectories { get; } = [];

    /// <summary>"sha256:abcd..." shortened, for display; the diff id when there is no blob digest.</summary>
    public string ShortId => Digest is null ? (DiffId is null ? $"#{Index}" : ImageException.ShortDigest(DiffId)) : ImageException.ShortDigest(Digest);
}
