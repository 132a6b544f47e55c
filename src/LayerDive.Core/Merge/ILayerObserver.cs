using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Merge;

/// <summary>
/// Sees each layer's entries on the merge's side of the load, right after each is merged, and each
/// layer's end: the way to compute per-layer figures in the same streaming pass without keeping the
/// entries. Calls come from the load's threads one at a time, in layer order and tar order.
/// </summary>
internal interface ILayerObserver
{
    /// <summary>An entry of <paramref name="layer"/>, just merged; <paramref name="node"/> is what the merge says it is about (<see cref="OverlayMerger.Add"/>).</summary>
    void OnEntry(LayerInfo layer, in RawEntry entry, TreeNode? node);

    /// <summary>The layer is merged and its figures (counts, whiteouts, sizes) are final.</summary>
    void OnLayerMerged(LayerInfo layer);
}
