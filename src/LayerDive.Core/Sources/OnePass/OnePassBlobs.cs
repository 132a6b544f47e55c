namespace LayerDive.Core.Sources.OnePass;

/// <summary>
/// The blob reader of a one-pass source: the archive read so far, then, for a later pass (extraction),
/// a new one from <paramref name="again"/>, whose members are known by what the first pass learned.
/// </summary>
internal sealed class OnePassBlobs(OnePassArchive first, Func<OnePassArchive>? again) : IBlobReader
{
    private bool _firstUsed;

    public void ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
    {
        if (!_firstUsed || again is null)
        {
            _firstUsed = true;
            first.ReadInOrder(layers, onLayer, ct); // a second time, without "again": says it was read already
            return;
        }
        using var later = again();
        foreach (var (member, indexes) in first.Identified) later.Identified[member] = indexes;
        later.ReadInOrder(layers, onLayer, ct);
    }
}
