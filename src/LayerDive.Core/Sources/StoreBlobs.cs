using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>The blob readers of an archive or layout on disk: layers are members, found by their paths after the archive's links.</summary>
internal static class StoreBlobs
{
    /// <summary>A folder or an uncompressed archive opens any member at any time; a compressed archive reads them in its order.</summary>
    public static IBlobReader For(BlobStore store) => store.IsSequential ? new InArchiveOrder(store) : new Random(store);

    /// <summary>The member that holds a layer's blob.</summary>
    private static string Member(BlobStore store, LayerDescriptor layer)
    {
        var path = layer.Locator is LayerLocator.Member m ? m.Path : layer.Locator.ToString();
        return store.Resolve(path) ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Archive_BlobMissing, path), layer.Index, layer.Digest ?? layer.DiffId);
    }

    /// <summary>The member is there (else the error reading gives), and of the size it had when read where the store knows it without reading.</summary>
    private static bool Check(BlobStore store, LayerDescriptor layer, long storedSize) =>
        store.SizeOf(Member(store, layer)) is not long actual || actual == storedSize;

    private sealed class Random(BlobStore store) : IRandomAccessBlobs
    {
        public Stream Open(LayerDescriptor layer) => store.Open(Member(store, layer));

        public bool CheckPresent(LayerDescriptor layer, long storedSize) => Check(store, layer, storedSize);
    }

    private sealed class InArchiveOrder(BlobStore store) : IBlobReader
    {
        public bool CheckPresent(LayerDescriptor layer, long storedSize) => Check(store, layer, storedSize);

        public void ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
        {
            // one member may be several layers (an image that adds the same layer twice): it is read once for all
            var byPath = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            foreach (var l in layers)
            {
                var path = Member(store, l);
                (byPath.TryGetValue(path, out var list) ? list : byPath[path] = []).Add(l.Index);
            }
            store.ReadInArchiveOrder(byPath.Keys, (path, stream) => onLayer(byPath[path], LayerArrival.Of(stream)), ct);
        }
    }
}
