using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Merge;

/// <summary>
/// Sees each layer's entries on the merge's side of the load, a batch at a time right after the batch
/// is merged, and each layer's end: the way to compute per-layer figures in the same streaming pass
/// without keeping the entries. Calls come from the load's threads one at a time, in layer order and
/// tar order. A batch is seen after the load has let go of the model's lock (a reader of the model
/// waits for the merge only, not for the analyses) and before anything more is merged, so the tree
/// does not change while an observer reads it; what a later entry of the batch changed is undone for
/// the observer by <see cref="MergedBatch"/>, which shows each entry as it stood right after it merged.
/// </summary>
internal interface ILayerObserver
{
    /// <summary>A run of entries of <paramref name="layer"/>, in tar order, just merged.</summary>
    void OnEntries(LayerInfo layer, MergedBatch batch);

    /// <summary>The layer is merged and its figures (counts, whiteouts, sizes) are final.</summary>
    void OnLayerMerged(LayerInfo layer);
}

/// <summary>What the merge made of one entry, taken right after the entry merged (8 bytes).</summary>
internal struct MergedEntry
{
    /// <summary>The node the merge says the entry is about (<see cref="OverlayMerger.Add"/>), or <see cref="TreeStore.None"/>.</summary>
    public int Node;

    /// <summary>
    /// For an entry that wrote a path: the version (attributes index) the layer's record of the path had
    /// right after it (a later entry of the layer may replace it); otherwise <see cref="TreeStore.None"/>.
    /// </summary>
    public int Version;
}

/// <summary>
/// A batch of merged entries as each stood right after it merged. Only two things an entry's view can
/// lose to a later entry of its batch, and both are kept: the version the layer's record held (a later
/// entry may write the path again, make it the directory a path below implies, or remove it with its
/// directory), taken per entry; and a parent, which the tree forgets when a path made in this layer is
/// removed again (a file replacing its directory), kept by the merge as it removes it
/// (<see cref="OverlayMerger.DetachedParents"/>). Nodes are never renumbered nor moved, so the rest of
/// a node (its number, its name, the parents of paths still in the tree) is as it was.
/// </summary>
internal readonly ref struct MergedBatch
{
    private readonly TreeStore _tree;
    private readonly ReadOnlySpan<MergedEntry> _merged;
    private readonly Dictionary<int, int>? _detached;

    internal MergedBatch(TreeStore tree, ReadOnlySpan<RawEntry> entries, ReadOnlySpan<MergedEntry> merged, Dictionary<int, int>? detached)
    {
        if (entries.Length != merged.Length) throw new ArgumentException("one merged record an entry", nameof(merged));
        _tree = tree;
        Entries = entries;
        _merged = merged;
        _detached = detached;
    }

    /// <summary>The entries, in tar order.</summary>
    public ReadOnlySpan<RawEntry> Entries { get; }

    public int Count => Entries.Length;

    /// <summary>The node entry <paramref name="i"/> is about, or null (a skipped hardlink, a marker for a path that never existed).</summary>
    public TreeNode? Node(int i) => _merged[i].Node is var n and >= 0 ? _tree.Node(n) : null;

    /// <summary>The version entry <paramref name="i"/> wrote (an attributes index of the tree), or <see cref="TreeStore.None"/>.</summary>
    public int Version(int i) => _merged[i].Version;

    /// <summary>The node's parent as it was while the batch merged (null for the root).</summary>
    public TreeNode? Parent(TreeNode node)
    {
        int p = _tree.Parent(node.Number);
        if (p == TreeStore.None && _detached is { Count: > 0 } d && d.TryGetValue(node.Number, out int was)) p = was;
        return p >= 0 ? _tree.Node(p) : null;
    }
}
