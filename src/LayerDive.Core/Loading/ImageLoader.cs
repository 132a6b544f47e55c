using LayerDive.Core.Merge;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Loading;

/// <summary>
/// Opens an image and builds its model. Layers are read (decompressed, hashed, decoded) in parallel,
/// one per core, started in layer order. The lowest layer not yet merged streams its entries straight
/// into the merge as they are decoded; a layer above it holds its entries until every layer below is
/// merged (up to a bound, then its reader waits), and then streams too. No layer's entries are kept
/// once merged, so memory follows the tree, not the size of a layer.
/// </summary>
public static class ImageLoader
{
    /// <summary>Loads the whole image; the source is closed at the end.</summary>
    public static ImageModel Load(string reference, LoadOptions options, CancellationToken ct = default)
    {
        using var load = Start(reference, options, ct);
        return load.Wait();
    }

    /// <summary>
    /// Opens the image and starts reading it; the model is there at once and fills in as layers are
    /// merged. A one-pass source (an engine's export, standard input) may read a long way before the
    /// model can be made: progress then follows its stream from the start, four times a second.
    /// </summary>
    public static ImageLoad Start(string reference, LoadOptions options, CancellationToken ct = default)
    {
        // every digest is checked: without OpenSSL the runtime would abort at the first hash
        if (!Interop.OpenSsl.Available) throw new ImageException(FaultKind.Unsupported, Strings.Runtime_NoOpenSsl);
        var counter = new ReadCounter();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LoadRun? run = null;
        using var ticker = options.Progress is not { } progress ? null : new Timer(_ =>
        {
            if (counter.BytesRead > 0 && Volatile.Read(ref run) is null)
                progress.Report(new LoadProgress(0, 0, counter.BytesRead, counter.BytesExpected, clock.Elapsed));
        }, null, 250, 250);
        var source = SourceCatalog.Open(reference, options.Source with { Verify = options.Verify, FileSha256 = options.FileSha256, Counter = counter }, ct);
        try
        {
            var candidate = source.Select(options.Source, out var others);
            var image = candidate.ResolveFor(options.Source, ct);
            var load = Start(source, image, others, options, counter, clock, ct, out var started);
            Volatile.Write(ref run, started);
            return load;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Starts reading the resolved image.</summary>
    private static ImageLoad Start(IImageSource source, ResolvedImage image, IReadOnlyList<string> others, LoadOptions options,
        ReadCounter counter, System.Diagnostics.Stopwatch clock, CancellationToken ct, out LoadRun run)
    {
        var layers = new List<LayerInfo>(image.Layers.Count);
        foreach (var r in image.Layers)
        {
            var history = image.Config.History.FirstOrDefault(h => h.LayerIndex == r.Index);
            layers.Add(new LayerInfo
            {
                Index = r.Index, Locator = r.Locator, Origin = r.OriginWith(history), MediaType = r.MediaType,
                ExpectedDigest = r.Digest, ExpectedDiffId = r.DiffId, History = history,
                CompressedSize = r.Size ?? 0,
            });
        }
        var merger = new OverlayMerger();
        var model = new ImageModel
        {
            Source = source.Location,
            SourceKind = source.Kind,
            SourceNote = source.Note,
            Storage = source.Storage,
            Name = image.Name,
            Config = image.Config,
            Layers = layers,
            Root = merger.Root,
            Problems = merger.Problems,
            OtherImages = others,
        };
        if (options.LayerMerged is { } merged) model.LayerMerged += merged;
        run = new LoadRun(model, merger, image, options, counter, clock, ct);
        return new ImageLoad(model, run.RunAsync(), source, image) { Verify = options.Verify, Cache = options.Verify ? options.Cache : null };
    }
}
