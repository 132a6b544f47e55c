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
/// figures. Memory stays that of one layer's own tree, whatever the number of layers.
/// </summary>
internal sealed class DiveExportWriter : IDisposable
{
    private readonly Utf8JsonWriter _w;
    private readonly LayerFileLists _lists;
    private int _written;

    public DiveExportWriter(Stream output)
    {
        _w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _lists = new LayerFileLists((layer, lists) => WriteLayer(layer, lists));
        _w.WriteStartObject();
        _w.WriteStartArray("layer");
    }

    /// <summary>The observer to attach to the load (<see cref="Loading.LoadOptions.Observers"/>).</summary>
    public ILayerObserver Observer => _lists;

    private void WriteLayer(LayerInfo l, LayerFileLists? lists)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteNumber("index", l.Index);
        w.WriteString("id", DiveExport.DiveLayerId(l));
        w.WriteString("digestId", l.DiffId ?? "");
        w.WriteNumber("sizeBytes", l.Size);
        w.WriteString("command", l.CreatedBy.StartsWith("/bin/sh -c ", StringComparison.Ordinal) ? l.CreatedBy["/bin/sh -c ".Length..] : l.CreatedBy);
        w.WriteStartArray("fileList");
        lists?.WriteFileList(w);
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        _written = l.Index + 1;
    }

    /// <summary>Ends the layers (any the load did not merge with empty lists) and writes the image's figures.</summary>
    public void Finish(ImageModel model, DiveMetricsResult dive, OverlayMetricsResult overlay, Analysis.Advice.AdviceResult? advice = null)
    {
        var w = _w;
        foreach (var l in model.Layers.Skip(_written)) WriteLayer(l, null);
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

    public void Dispose() => _w.Dispose();
}
