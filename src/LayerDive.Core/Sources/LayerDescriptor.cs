using LayerDive.Core.Model;

namespace LayerDive.Core.Sources;

/// <summary>
/// Where a source finds a layer's blob. Each source locates layers its own way, and each way is a type
/// here, so a reader of the code never has to guess what a string means.
/// </summary>
internal abstract record LayerLocator
{
    private LayerLocator() { }

    /// <summary>A file in an archive or a layout folder, by its path (the archive's links are followed when it is opened).</summary>
    public sealed record Member(string Path) : LayerLocator
    {
        public override string ToString() => Path;
    }

    /// <summary>A blob fetched by its digest, where the source serves content by its address (a registry).</summary>
    public sealed record Blob(string Digest) : LayerLocator
    {
        public override string ToString() => Digest;
    }

    /// <summary>
    /// A layer known only by its diff id: an engine's export names its members by ids nothing else
    /// gives, so each member is placed by the diff id its bytes hash to.
    /// </summary>
    public sealed record ByDiffId(string DiffId) : LayerLocator
    {
        public override string ToString() => DiffId;
    }

    /// <summary>A layer of a containers-storage store, by its id (its tar is rebuilt from the store's files).</summary>
    public sealed record StoreLayer(string Id) : LayerLocator
    {
        public override string ToString() => Id;
    }

    /// <summary>A container's read-write layer (its upper directory, or the engine's list of changes).</summary>
    public sealed record ContainerUpper(string ContainerId) : LayerLocator
    {
        public override string ToString() => "container:" + ContainerId;
    }

    /// <summary>A layer read from the folder of its committed snapshot (containerd, when its blob is gone from the content store).</summary>
    public sealed record Snapshot(string Folder) : LayerLocator
    {
        public override string ToString() => Folder;
    }
}

/// <summary>
/// One layer as the image names it: its place, where its blob is found, its digests as the manifest and
/// the config give them (either may be absent), and where it came from.
/// </summary>
internal sealed record LayerDescriptor(int Index, LayerLocator Locator, string? MediaType, string? Digest, long? Size, string? DiffId)
{
    /// <summary>The manifest marks the blob as eStargz (a lazily pulled layer).</summary>
    public bool EStargzAnnotation { get; init; }

    /// <summary>An image's layer, or the read-write layer a container put on top.</summary>
    public LayerOrigin Origin { get; init; } = LayerOrigin.Image;

    /// <summary>How messages name the layer: its blob digest, else its diff id, else where it was looked for.</summary>
    public string Id => Digest ?? DiffId ?? Locator.ToString();

    /// <summary>
    /// The history comment of a container's layer: <c>container://</c> writes it, so that the layer stays
    /// a container's in an image saved from that view (the bundled lesson <c>container-layer</c> is one).
    /// </summary>
    public const string ContainerComment = "layerdive:container-layer";

    /// <summary>Where the layer came from: the source says so, or the history entry that made it keeps the mark.</summary>
    public LayerOrigin OriginWith(Model.HistoryEntry? history) =>
        Origin == LayerOrigin.Container || history?.Comment == ContainerComment ? LayerOrigin.Container : LayerOrigin.Image;
}
