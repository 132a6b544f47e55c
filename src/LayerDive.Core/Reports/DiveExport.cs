using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Reports;

/// <summary>
/// The <c>--json</c> report: dive's export schema unchanged (<c>layer[]</c>, <c>image</c>), so that
/// existing consumers keep working, plus a <c>layerdive</c> object with everything else (SPEC §5).
/// </summary>
public static class DiveExport
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
        if (l.BlobPath.Length == 0 || l.BlobPath == l.ExpectedDiffId || l.BlobPath == l.ExpectedDigest) return digest; // a label, not a member
        var first = l.BlobPath.Split('/')[0];
        return first == "blobs" ? digest : first;
    }

    public static void Write(Stream output, ImageModel model, DiveMetricsResult dive, OverlayMetricsResult overlay, LayerFileLists files)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteStartArray("layer");
        foreach (var l in model.Layers)
        {
            w.WriteStartObject();
            w.WriteNumber("index", l.Index);
            w.WriteString("id", DiveLayerId(l));
            w.WriteString("digestId", l.DiffId ?? "");
            w.WriteNumber("sizeBytes", l.Size);
            w.WriteString("command", l.CreatedBy.StartsWith("/bin/sh -c ", StringComparison.Ordinal) ? l.CreatedBy["/bin/sh -c ".Length..] : l.CreatedBy);
            w.WriteStartArray("fileList");
            if (l.Index < files.Layers.Count)
                foreach (var f in files.Layers[l.Index])
                {
                    w.WriteStartObject();
                    w.WriteString("path", f.Path);
                    w.WriteNumber("typeFlag", f.TypeFlag);
                    w.WriteString("linkName", f.LinkName);
                    w.WriteNumber("size", f.Size);
                    w.WriteNumber("fileMode", f.FileMode);
                    w.WriteNumber("uid", f.Uid);
                    w.WriteNumber("gid", f.Gid);
                    w.WriteBoolean("isDir", f.IsDir);
                    w.WriteEndObject();
                }
            w.WriteEndArray();
            w.WriteEndObject();
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
        w.WriteNumber("userSizeBytes", dive.UserSizeBytes);
        CiReports.WriteRatio(w, "userWastedPercent", dive.UserWastedPercent);
        w.WriteStartArray("layers");
        foreach (var l in model.Layers)
        {
            w.WriteStartObject();
            w.WriteNumber("index", l.Index);
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
            foreach (var d in l.OpaqueDirectories) w.WriteStringValue("/" + d);
            w.WriteEndArray();
            w.WriteString("createdBy", l.CreatedBy);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("overlay");
        CiReports.WriteOverlay(w, overlay);
        w.WriteStartArray("problems");
        foreach (var p in model.Problems)
        {
            w.WriteStartObject();
            w.WriteNumber("layer", p.LayerIndex);
            w.WriteString("kind", p.Kind.ToString());
            w.WriteString("path", p.Path is null ? null : "/" + p.Path);
            w.WriteString("message", p.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteEndObject();
    }
}
