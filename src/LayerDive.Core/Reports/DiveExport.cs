using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Reports;

/// <summary>
/// The <c>--json</c> report: dive's export schema unchanged (<c>layer[]</c>, <c>image</c>), so that
/// existing consumers keep working, plus a <c>layerdive</c> object with everything else (docs/cli.md).
/// </summary>
internal static class DiveExport
{
    /// <summary>
    /// dive's layer id: the first folder of the layer's member in the archive (a docker save's
    /// <c>&lt;v1 id&gt;/layer.tar</c> gives the v1 id; a top-level member is its own name). Where dive
    /// writes the placeholder <c>blobs</c> (an OCI layout) or the blob has no member (an engine, a
    /// registry), the layer's digest.
    /// </summary>
    public static string DiveLayerId(LayerInfo l)
    {
        var digest = l.Digest ?? l.DiffId ?? "";
        var first = l.Locator switch
        {
            LayerLocator.Member m => m.Path.Split('/')[0],
            LayerLocator.StoreLayer or LayerLocator.ContainerUpper => l.Locator.ToString(),
            _ => null, // found by a digest: no member to name it
        };
        return first is null or "" or "blobs" ? digest : first;
    }

}

/// <summary>
/// Writes the <c>--json</c> report while the image loads: each layer's object (and dive's file list of
/// it) as soon as the layer is merged, in dive's order, then <see cref="Finish"/> writes the image's
/// figures. Memory stays that of one layer's own tree, whatever the number of layers. The merge's thread
/// only walks a merged layer's list into blocks of steps; a thread of the writer's own turns them into
/// JSON and writes it, a few blocks behind at most (the merge waits when it is further ahead).
/// </summary>
internal sealed class DiveExportWriter : IDisposable, IFileListSink
{
    // blocks between the merge and the writer (16k steps, 0.5 MB): the writer keeps up, held back only by
    // the cores the readers take
    private const int InFlight = 8;

    private readonly Utf8JsonWriter _w;
    private readonly LayerFileLists _lists;
    private readonly FileListWriter _items = new();
    private readonly System.Collections.Concurrent.BlockingCollection<FileListBlock> _queue = new(InFlight);
    private readonly Stack<FileListBlock> _free = new();
    private readonly Task _writer;
    private Exception? _failed;
    private int _written;

    public DiveExportWriter(Stream output)
    {
        _w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _lists = new LayerFileLists(this);
        _w.WriteStartObject();
        _w.WriteStartArray("layer");
        _writer = Task.Factory.StartNew(WriteBlocks, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The observer to attach to the load (<see cref="Loading.LoadOptions.Observers"/>).</summary>
    public ILayerObserver Observer => _lists;

    FileListBlock IFileListSink.Rent()
    {
        lock (_free) return _free.TryPop(out var b) ? b : new FileListBlock();
    }

    void IFileListSink.Post(FileListBlock block) => _queue.Add(block);

    /// <summary>The writer's thread: the blocks in order; after an error (a full disk), they are only given back, so the merge never waits on it.</summary>
    private void WriteBlocks()
    {
        foreach (var b in _queue.GetConsumingEnumerable())
        {
            try
            {
                if (_failed is null)
                {
                    if (b.Layer is { } l) BeginLayer(l);
                    _items.Write(_w, b);
                    if (b.Ends) EndLayer();
                }
            }
            catch (Exception ex)
            {
                _failed = ex;
            }
            b.Begin(null, null);
            lock (_free) _free.Push(b);
        }
    }

    private void BeginLayer(LayerInfo l)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteNumber("index", l.Index);
        w.WriteString("id", DiveExport.DiveLayerId(l));
        w.WriteString("digestId", l.DiffId ?? "");
        w.WriteNumber("sizeBytes", l.Size);
        w.WriteString("command", l.CreatedBy.StartsWith("/bin/sh -c ", StringComparison.Ordinal) ? l.CreatedBy["/bin/sh -c ".Length..] : l.CreatedBy);
        w.WriteStartArray("fileList");
        _written = l.Index + 1;
    }

    private void EndLayer()
    {
        _w.WriteEndArray();
        _w.WriteEndObject();
        _w.Flush();
    }

    /// <summary>Waits for the writer's thread to write what it was given; its error, if any, is thrown here.</summary>
    private void Drain()
    {
        if (!_queue.IsAddingCompleted) _queue.CompleteAdding();
        _writer.GetAwaiter().GetResult();
        if (_failed is { } ex) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);
    }

    /// <summary>Ends the layers (any the load did not merge with empty lists) and writes the image's figures.</summary>
    public void Finish(ImageModel model, DiveMetricsResult dive, OverlayMetricsResult overlay, Analysis.Advice.AdviceResult? advice = null)
    {
        Drain();
        var w = _w;
        foreach (var l in model.Layers.Skip(_written))
        {
            BeginLayer(l);
            EndLayer();
        }
        w.WriteEndArray();

        w.WriteStartObject("image");
        w.WriteNumber("sizeBytes", dive.SizeBytes);
        w.WriteNumber("inefficientBytes", dive.WastedBytes);
        w.WriteNumber("efficiencyScore", dive.Efficiency);
        CiReports.WriteFileReferences(w, "fileReference", dive.Inefficiencies);
        w.WriteEndObject();

        w.WriteStartObject("layerdive");
        w.WriteString("name", model.Name);
        w.WriteString("source", model.Source);
        w.WriteString("sourceKind", model.SourceKind);
        w.WriteString("platform", model.Config.Platform);
        w.WriteString("config", model.Config.Digest);
        w.WriteString("pathEncoding", PathText.JsonPathEncoding);
        w.WriteNumber("userSizeBytes", dive.UserSizeBytes);
        CiReports.WriteRatio(w, "userWastedPercent", dive.UserWastedPercent);
        w.WriteStartArray("layers");
        var kinds = Analysis.LayerKinds.Of(model);
        foreach (var l in model.Layers)
        {
            w.WriteStartObject();
            w.WriteNumber("index", l.Index);
            w.WriteString("kind", kinds[l.Index].ToString().ToLowerInvariant());
            w.WriteString("digest", l.Digest);
            w.WriteString("diffId", l.DiffId);
            w.WriteString("mediaType", l.MediaType);
            w.WriteString("compression", Decompression.Name(l.Compression));
            w.WriteBoolean("estargz", l.EStargz);
            w.WriteNumber("compressedSize", l.CompressedSize);
            w.WriteNumber("uncompressedSize", l.UncompressedSize);
            w.WriteBoolean("verified", l.Verified);
            w.WriteNumber("entries", l.EntryCount);
            w.WriteNumber("added", l.Added);
            w.WriteNumber("modified", l.Modified);
            w.WriteNumber("removed", l.Removed);
            w.WriteNumber("unmodified", l.Unmodified);
            w.WriteNumber("whiteouts", l.Whiteouts.Count);
            w.WriteStartArray("opaqueDirectories");
            foreach (var d in l.OpaqueDirectories) PathText.WriteJsonValue(w, "/" + d);
            w.WriteEndArray();
            w.WriteString("createdBy", l.CreatedBy);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("overlay");
        CiReports.WriteOverlay(w, overlay);
        if (advice is not null)
        {
            // what layerdive advise finds, finding by finding (as advise --format json writes its "findings")
            w.WritePropertyName("advice");
            Analysis.Advice.AdviceReport.WriteFindings(w, advice);
        }
        w.WriteStartArray("problems");
        foreach (var p in model.Problems)
        {
            w.WriteStartObject();
            w.WriteNumber("layer", p.LayerIndex);
            w.WriteString("kind", p.Kind.ToString());
            PathText.WriteJson(w, "path", p.Path is null ? null : "/" + p.Path);
            w.WriteString("message", p.Message);
            w.WriteEndObject();
            CiReports.FlushSome(w);
        }
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteEndObject();
        w.Flush();
    }

    public void Dispose()
    {
        // a load that failed: what was handed over is written (or given up after an error), then the file is let go
        if (!_queue.IsAddingCompleted) _queue.CompleteAdding();
        _writer.Wait();
        _queue.Dispose();
        try
        {
            _w.Dispose();
        }
        catch (IOException)
        {
            // only a report that was not finished has bytes left to write here (Finish flushes the rest): its
            // load failed, and that error is the one to tell, not the report's (/dev/full would hide it)
        }
    }
}
