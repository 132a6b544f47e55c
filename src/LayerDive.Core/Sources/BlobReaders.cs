using LayerDive.Core.Sources.OnePass;

namespace LayerDive.Core.Sources;

/// <summary>
/// Reads an image's layer blobs in the order the source holds them, one pass: what every source can do
/// (a compressed archive, a stream, an engine's export can do nothing else).
/// </summary>
internal interface IBlobReader
{
    /// <summary>
    /// Hands each of <paramref name="layers"/> to <paramref name="onLayer"/> as it comes, with the indexes
    /// of every layer it is (one blob may serve several layers). A layer whose identity was known only
    /// once its bytes were hashed comes already read (<see cref="LayerArrival.Held"/>). Ends when every
    /// layer was handed over; throws <see cref="ImageException"/> when one never comes.
    /// </summary>
    void ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct);

    /// <summary>
    /// Whether <paramref name="layer"/>'s blob is still the one read before, as far as that shows without
    /// reading it: throws as reading would when it is gone; false when its size is not the
    /// <paramref name="storedSize"/> bytes the blob had when read and verified (another form of the layer,
    /// or the blob changed since: it is read then). A layer taken from the cache is still looked for where
    /// that is cheap (a source on disk), so that a warm cache never hides a blob gone; sources with nothing
    /// cheap to look at (a registry: a request per layer) say true.
    /// </summary>
    bool CheckPresent(LayerDescriptor layer, long storedSize) => true;
}

/// <summary>A reader that opens any blob at any time, several at once (a folder, a file read in place, a registry).</summary>
internal interface IRandomAccessBlobs : IBlobReader
{
    /// <summary>A layer's blob as stored; streams are independent of each other.</summary>
    Stream Open(LayerDescriptor layer);

    /// <summary>One blob after the other, each opened on its own.</summary>
    void IBlobReader.ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
    {
        foreach (var l in layers)
        {
            ct.ThrowIfCancellationRequested();
            using var s = Open(l);
            onLayer([l.Index], LayerArrival.Of(s));
        }
    }
}

/// <summary>A layer as a one-pass reader hands it over: a stream to read now, or a layer read already.</summary>
internal sealed class LayerArrival
{
    private LayerArrival(Stream? stream, HeldLayer? held) => (Stream, Held) = (stream, held);

    /// <summary>The blob's bytes, valid during the call only.</summary>
    public Stream? Stream { get; }

    /// <summary>The layer read before it was known which layer it is: its entries and digests.</summary>
    public HeldLayer? Held { get; }

    public static LayerArrival Of(Stream stream) => new(stream, null);
    public static LayerArrival Of(HeldLayer held) => new(null, held);
}
