using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Analysis;

/// <summary>What to load and how.</summary>
public sealed record LoadOptions
{
    public SourceOptions Source { get; init; } = new();
    /// <summary>Check every blob digest and diff id; a mismatch is an error.</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Take a SHA-256 of every regular file as well (ground-truth listings).</summary>
    public bool FileSha256 { get; init; }
    /// <summary>Layers read at once; default: the number of cores.</summary>
    public int? MaxParallelism { get; init; }
    /// <summary>Told after each layer is merged.</summary>
    public IProgress<LoadProgress>? Progress { get; init; }
    /// <summary>Analyses that see each layer's entries right after it is merged (dive metrics, export file lists).</summary>
    public IReadOnlyList<ILayerObserver> Observers { get; init; } = [];
}

/// <summary>
/// Sees each layer's decoded entries once, on the merge thread, right after the layer is merged:
/// the way to compute per-layer figures in the same streaming pass without keeping the entries.
/// </summary>
public interface ILayerObserver
{
    void OnLayerMerged(LayerInfo layer, LayerContents contents);
}

/// <summary>How far loading has come.</summary>
public sealed record LoadProgress(int LayersMerged, int LayerCount, long BytesRead, long BytesTotal);

/// <summary>
/// Opens an image and builds its model: layers are read (decompressed, hashed, decoded) in parallel,
/// one per core, and merged in order as soon as each one and all below it are read.
/// </summary>
public static class ImageLoader
{
    public static ImageModel Load(string reference, LoadOptions options, CancellationToken ct = default)
    {
        using var source = ImageSource.Open(reference, options.Source with { Verify = options.Verify });
        var candidate = source.Select(options.Source, out var others);
        var image = candidate.Resolve();
        return Load(source, image, others, options, ct);
    }

    public static ImageModel Load(ImageSource source, ResolvedImage image, IReadOnlyList<string> others, LoadOptions options, CancellationToken ct = default)
    {
        var store = source.Store;
        var layers = new List<LayerInfo>(image.Layers.Count);
        var resolved = new string[image.Layers.Count];
        foreach (var r in image.Layers)
        {
            var path = store.Resolve(r.BlobPath)
                ?? throw new ImageException($"the blob '{r.BlobPath}' named by the manifest is missing", r.Index, r.Digest ?? r.DiffId);
            resolved[r.Index] = path;
            var history = image.Config.History.FirstOrDefault(h => h.LayerIndex == r.Index);
            layers.Add(new LayerInfo
            {
                Index = r.Index, BlobPath = r.BlobPath, MediaType = r.MediaType,
                ExpectedDigest = r.Digest, ExpectedDiffId = r.DiffId, History = history,
                CompressedSize = r.Size ?? 0,
            });
        }

        long total = image.Layers.Sum(l => l.Size ?? 0);
        var merger = new OverlayMerger();
        long bytesRead = 0;

        void Merge(int i, LayerContents contents)
        {
            var layer = layers[i];
            Finish(layer, image.Layers[i], contents, options.Verify);
            merger.Apply(layer, contents);
            foreach (var observer in options.Observers) observer.OnLayerMerged(layer, contents);
            bytesRead += contents.CompressedSize;
            options.Progress?.Report(new LoadProgress(i + 1, layers.Count, bytesRead, Math.Max(total, bytesRead)));
        }

        if (store.IsSequential)
            ReadSequential(store, image, resolved, options, Merge, ct);
        else
            ReadParallel(store, image, resolved, options, Merge, ct);

        merger.Complete(layers);
        return new ImageModel
        {
            Source = source.Path,
            SourceKind = source.Kind,
            Name = image.Name,
            Config = image.Config,
            Layers = layers,
            Root = merger.Root,
            Problems = merger.Problems,
            OtherImages = others,
        };
    }

    private static LayerReadOptions ReadOptions(LayerRef r, LoadOptions options) => new()
    {
        ComputeDigests = options.Verify,
        FileSha256 = options.FileSha256,
        LayerIndex = r.Index,
        BlobDigestAlgorithm = r.Digest?.StartsWith("sha512:", StringComparison.Ordinal) == true ? "sha512" : "sha256",
    };

    private static LayerContents ReadOne(Stream blob, LayerRef r, LoadOptions options, CancellationToken ct)
    {
        try
        {
            return LayerReader.Read(blob, ReadOptions(r, options), ct);
        }
        catch (ImageException ex)
        {
            throw ex.InLayer(r.Index, r.Digest ?? r.DiffId);
        }
    }

    /// <summary>
    /// Random-access stores: read layers in parallel, one per core, started in layer order (so the
    /// lowest unmerged layer is always among those being read), and merge each as soon as it and all
    /// below it are read.
    /// </summary>
    private static void ReadParallel(BlobStore store, ResolvedImage image, string[] resolved, LoadOptions options, Action<int, LayerContents> merge, CancellationToken ct)
    {
        int parallelism = Math.Max(1, options.MaxParallelism ?? Environment.ProcessorCount);
        using var gate = new SemaphoreSlim(parallelism);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var results = new TaskCompletionSource<LayerContents>[image.Layers.Count];
        for (int i = 0; i < results.Length; i++) results[i] = new TaskCompletionSource<LayerContents>(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = Task.Run(async () =>
        {
            for (int i = 0; i < results.Length; i++)
            {
                try { await gate.WaitAsync(cts.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { for (int j = i; j < results.Length; j++) results[j].TrySetCanceled(); return; }
                var (r, path, done) = (image.Layers[i], resolved[i], results[i]);
                _ = Task.Run(() =>
                {
                    try
                    {
                        using var blob = store.Open(path);
                        done.TrySetResult(ReadOne(blob, r, options, cts.Token));
                    }
                    catch (Exception ex) { done.TrySetException(ex); }
                    finally { gate.Release(); }
                });
            }
        });
        try
        {
            for (int i = 0; i < results.Length; i++)
            {
                var contents = results[i].Task.GetAwaiter().GetResult();
                results[i] = null!; // let the entries go once merged
                merge(i, contents);
            }
        }
        catch
        {
            cts.Cancel();
            try { dispatcher.Wait(); } catch (AggregateException) { /* the first error is the one reported */ }
            throw;
        }
        dispatcher.GetAwaiter().GetResult();
    }

    /// <summary>Compressed whole archives: read layers in the archive's order, merge in layer order.</summary>
    private static void ReadSequential(BlobStore store, ResolvedImage image, string[] resolved, LoadOptions options, Action<int, LayerContents> merge, CancellationToken ct)
    {
        var byPath = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < resolved.Length; i++)
            (byPath.TryGetValue(resolved[i], out var l) ? l : byPath[resolved[i]] = []).Add(i);
        var ready = new LayerContents?[resolved.Length];
        int next = 0;
        store.ReadInArchiveOrder(byPath.Keys, (path, stream) =>
        {
            var indices = byPath[path];
            var first = image.Layers[indices[0]];
            var contents = ReadOne(stream, first, options, ct);
            foreach (var i in indices) ready[i] = contents;
            while (next < ready.Length && ready[next] is { } c)
            {
                ready[next] = null;
                merge(next, c);
                next++;
            }
        }, ct);
    }

    private static void Finish(LayerInfo layer, LayerRef r, LayerContents contents, bool verify)
    {
        layer.Compression = contents.Compression;
        layer.EStargz = contents.EStargz || r.EStargzAnnotation;
        layer.CompressedSize = contents.CompressedSize;
        layer.UncompressedSize = contents.UncompressedSize;
        layer.EntryCount = contents.EntryCount;
        layer.Size = contents.HeaderSizeTotal;
        layer.Digest = r.Digest ?? (contents.Compression == Compression.None ? null : contents.BlobDigest);
        layer.DiffId = contents.DiffId ?? r.DiffId;
        if (Decompression.FromMediaType(r.MediaType) is { } declared && declared != contents.Compression)
            contents.Problems.Add(new Problem(ProblemKind.MediaTypeMismatch, r.Index, null,
                $"media type {r.MediaType} says {Decompression.Name(declared)} but the bytes are {Decompression.Name(contents.Compression)}"));
        if (!verify) return;
        string id = r.Digest ?? r.DiffId ?? layer.BlobPath;
        if (r.Digest is not null && !string.Equals(r.Digest, contents.BlobDigest, StringComparison.OrdinalIgnoreCase))
            throw new ImageException($"blob digest mismatch: expected {r.Digest}, got {contents.BlobDigest}", r.Index, id);
        if (r.DiffId is not null && !string.Equals(r.DiffId, contents.DiffId, StringComparison.OrdinalIgnoreCase))
            throw new ImageException($"diff id mismatch: the config expects {r.DiffId}, the layer's tar is {contents.DiffId}", r.Index, id);
        layer.Verified = r.DiffId is not null || r.Digest is not null;
    }
}
