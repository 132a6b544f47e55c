namespace LayerDive.Core.Model;

/// <summary>
/// A <c>.wh.NAME</c> marker of a layer and what it hid: how many paths, their file bytes, and the sum
/// of the tar header sizes of what it hid under a directory (what dive counts for a whiteout).
/// </summary>
internal sealed record WhiteoutInfo(string MarkerPath, string HiddenPath, bool HidDirectory, int HiddenPaths, long HiddenBytes, bool Orphan, long HiddenHeaderBytes = 0);

/// <summary>One layer: where its bytes came from, whether they verified, and what it changed.</summary>
public sealed class LayerInfo
{
    public required int Index { get; init; }
    /// <summary>Digest of the stored blob (compressed bytes); for archives that name no blob digest, computed.</summary>
    public string? Digest { get; set; }
    /// <summary>The diff id: sha256 of the uncompressed tar, as computed.</summary>
    public string? DiffId { get; set; }
    /// <summary>The diff id the config expects.</summary>
    public string? ExpectedDiffId { get; init; }
    /// <summary>The blob digest the manifest expects, where it names one.</summary>
    public string? ExpectedDigest { get; init; }
    public string? MediaType { get; init; }
    /// <summary>Where the source found the blob (an archive member, a registry blob, a store layer, ...); null for a layer made by hand.</summary>
    internal Sources.LayerLocator? Locator { get; init; }
    /// <summary>An image's layer, or the read-write layer a container put on top.</summary>
    public LayerOrigin Origin { get; init; }
    public Compression Compression { get; set; }
    public bool EStargz { get; set; }
    public long CompressedSize { get; set; }
    public long UncompressedSize { get; set; }
    /// <summary>True when both digests were checked and matched; false when checking was switched off or impossible.</summary>
    public bool Verified { get; set; }
    /// <summary>The history entry that made this layer.</summary>
    public HistoryEntry? History { get; set; }
    public string CreatedBy => History?.CreatedBy ?? "";

    /// <summary>Number of tar entries (markers included).</summary>
    public int EntryCount { get; set; }
    /// <summary>Sum of the tar header sizes of the layer's entries (dive's layer size).</summary>
    public long Size { get; set; }

    public int Added { get; set; }
    public int Modified { get; set; }
    public int Removed { get; set; }
    public int Unmodified { get; set; }

    internal List<WhiteoutInfo> Whiteouts { get; } = [];
    /// <summary>Directories this layer made opaque (<c>DIR/.wh..wh..opq</c>), by path.</summary>
    public List<string> OpaqueDirectories { get; } = [];

    /// <summary>"sha256:abcd..." shortened, for display; the diff id when there is no blob digest.</summary>
    public string ShortId => Digest is null ? (DiffId is null ? $"#{Index}" : ImageException.ShortDigest(DiffId)) : ImageException.ShortDigest(Digest);
}
