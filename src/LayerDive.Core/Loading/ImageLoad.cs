using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Loading;

/// <summary>
/// A load under way: its model fills in layer by layer (<see cref="ImageModel.LayerMerged"/>, read it
/// meanwhile through <see cref="ImageModel.Read{T}"/>) and <see cref="Completion"/> ends it. It keeps
/// its source open until disposed, so that a layer's bytes can be read again (<see cref="ReadLayers"/>).
/// </summary>
public sealed class ImageLoad : IDisposable
{
    private readonly IImageSource _source;
    private readonly ResolvedImage _image;

    internal ImageLoad(ImageModel model, Task completion, IImageSource source, ResolvedImage image)
    {
        Model = model;
        Completion = completion;
        (_source, _image) = (source, image);
    }

    public ImageModel Model { get; }

    /// <summary>Whether the load verified the layers' digests; a layer read again is verified the same way.</summary>
    public bool Verify { get; init; } = true;

    /// <summary>
    /// Reads the blobs of <paramref name="indexes"/> again, handing each (with every layer it is) to
    /// <paramref name="onLayer"/> with a stream valid during the call; after the load has ended.
    /// </summary>
    public void ReadLayers(IEnumerable<int> indexes, Action<IReadOnlyList<int>, Stream> onLayer, CancellationToken ct = default)
    {
        var wanted = indexes.Distinct().Order().Select(i => _image.Layers[i]).ToList();
        _image.Blobs.ReadInOrder(wanted, (found, arrival) => onLayer(found, arrival.Stream
            ?? throw new ImageException(FaultKind.Unsupported, Strings.Stream_LayerPassedUnplaced, found[0])), ct);
    }

    /// <summary>The layer cache the load used (none without verifying).</summary>
    internal Cache.LayerCache? Cache { get; init; }

    /// <summary>
    /// Which of the advice's secret markers a file of a layer held (bit i: rule i's), when the layer cache
    /// knows it from the layer's one verified read; null when the file's bytes must be read to tell.
    /// </summary>
    internal ulong? KnownMarkers(int layer, string path) => Cache?.MarkersOf(_image.Layers[layer], path);

    public void Dispose() => _source.Dispose();

    /// <summary>Ends when every layer is merged, or with the first error.</summary>
    public Task Completion { get; }

    /// <summary>Waits for the end of the load; throws its first error.</summary>
    public ImageModel Wait()
    {
        Completion.GetAwaiter().GetResult();
        return Model;
    }
}
