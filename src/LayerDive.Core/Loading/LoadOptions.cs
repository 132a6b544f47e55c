using LayerDive.Core.Merge;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Loading;

/// <summary>What to load and how.</summary>
public sealed record LoadOptions
{
    public SourceOptions Source { get; init; } = new();
    /// <summary>Check every blob digest and diff id; a mismatch is an error.</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Take a SHA-256 of every regular file as well (ground-truth listings).</summary>
    public bool FileSha256 { get; init; }
    /// <summary>
    /// Layers read from their blobs at once; default: the number of cores. Layers the layer cache holds
    /// have as many readers again of their own (taking one from its file costs little beside a blob's read).
    /// </summary>
    public int? MaxParallelism { get; init; }
    /// <summary>Told after each layer is merged.</summary>
    public IProgress<LoadProgress>? Progress { get; init; }
    /// <summary>
    /// Handles <see cref="Model.ImageModel.LayerMerged"/> from the first layer on: attached to the model
    /// before any layer is read, so that no layer's event comes before it (one attached to a started
    /// load's model may have missed the first).
    /// </summary>
    public EventHandler<int>? LayerMerged { get; init; }
    /// <summary>Analyses that see each layer's entries a batch at a time, right after the batch is merged and with the model let go (dive metrics, export file lists).</summary>
    internal IReadOnlyList<ILayerObserver> Observers { get; init; } = [];
    /// <summary>Where layers read and verified are kept, and taken from by diff id without reading their blobs; none without verifying.</summary>
    internal Cache.LayerCache? Cache { get; init; }
}
