using System.Globalization;
using System.Text;
using System.Text.Json;
using LayerDive.Core;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>A layer of a scanned image: its blob digest (else diff id) and the bytes its blob takes where it is stored.</summary>
internal sealed record ScanLayer(string Id, long StoredBytes);

/// <summary>A path that one image wastes: dive's figure for it (every copy the layers hold) and how many copies.</summary>
internal sealed record ScanWaste(string Path, long Bytes, int Count);

/// <summary>What a scan learnt of one image; the fleet's figures (sharing, totals) are worked out from these.</summary>
internal sealed record ScanImage(string Name, string? Digest, IReadOnlyList<ScanLayer> Layers, long SizeBytes, double Efficiency,
    long WastedBytes, double UserWastedPercent, long RemovableBytes, bool? Pass, IReadOnlyList<ScanWaste> Wasted)
{
    public long StoredBytes => Layers.Sum(l => l.StoredBytes);
}

/// <summary>An image the scan could not read, and why.</summary>
internal sealed record ScanFailure(string Name, string Error);

/// <summary>
/// A scan's report: the images and failures, and what follows from them together (the layers they
/// share, the paths the fleet wastes most, the totals). Everything derived is worked out here from the
/// images alone, so that shards merged give the very report one run gives.
/// </summary>
internal sealed class ScanReport(string source, IReadOnlyList<ScanImage> images, IReadOnlyList<ScanFailure> failures)
{
    /// <summary>The paths each image keeps for the fleet's list of the most wasted.</summary>
    public const int WastedPerImage = 100;
    private const int FleetWasted = 20;

    public string Source { get; } = source;
    public IReadOnlyList<ScanImage> Images { get; } = images.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    public IReadOnlyList<ScanFailure> Failures { get; } = failures.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Every distinct layer, with its stored bytes and the number of images that hold it: an image is its
    /// manifest's digest (two tags of one manifest are one image, and share nothing with each other), else its name.
    /// </summary>
    public IReadOnlyList<(string Id, long StoredBytes, int Images)> Layers => _layers ??= Images
        .SelectMany(i => i.Layers.DistinctBy(l => l.Id).Select(l => (l.Id, l.StoredBytes, Name: i.Digest ?? i.Name)))
        .GroupBy(l => l.Id)
        .Select(g => (g.Key, g.First().StoredBytes, g.Select(x => x.Name).Distinct().Count()))
        .OrderByDescending(l => l.Item3).ThenBy(l => l.Key, StringComparer.Ordinal).ToList();
    private IReadOnlyList<(string, long, int)>? _layers;

    private Dictionary<string, int> ShareCounts => _shares ??= Layers.ToDictionary(l => l.Id, l => l.Images);
    private Dictionary<string, int>? _shares;

    /// <summary>Bytes of the image's layers no other image holds.</summary>
    public long UniqueBytes(ScanImage i) => i.Layers.DistinctBy(l => l.Id).Where(l => ShareCounts[l.Id] == 1).Sum(l => l.StoredBytes);

    /// <summary>Bytes of the image's layers that other images hold too.</summary>
    public long SharedBytes(ScanImage i) => i.Layers.DistinctBy(l => l.Id).Where(l => ShareCounts[l.Id] > 1).Sum(l => l.StoredBytes);

    /// <summary>The paths the fleet wastes most: each path's bytes over every image, and in how many.</summary>
    public IReadOnlyList<(string Path, long Bytes, int Images)> Wasted => Images
        .SelectMany(i => i.Wasted.Select(w => (w.Path, w.Bytes, i.Name)))
        .GroupBy(w => w.Path, StringComparer.Ordinal)
        .Select(g => (g.Key, g.Sum(x => x.Bytes), g.Select(x => x.Name).Distinct().Count()))
        .OrderByDescending(w => w.Item2).ThenBy(w => w.Key, StringComparer.Ordinal).Take(FleetWasted).ToList();

    /// <summary>What the registry stores (each layer once).</summary>
    public long StoredBytes => Layers.Sum(l => l.StoredBytes);
    /// <summary>What the images would take stored apart (each image's layers).</summary>
    public long ImagesStoredBytes => Images.Sum(i => i.StoredBytes);
    public long WastedBytes => Images.Sum(i => i.WastedBytes);
    public long RemovableBytes => Images.Sum(i => i.RemovableBytes);
    public bool AnyRuleFailed => Images.Any(i => i.Pass == false);

    public static readonly string[] Formats = ["text", "tsv", "json", "markdown", "html"];

    public string Render(string format) => format switch
    {
        "json" => Json(),
        "tsv" => Tsv(),
        "markdown" => Markdown(),
        "html" => Html(),
        _ => Text(),
    };

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Pct(double v) => double.IsFinite(v) ? (v * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "-";
    private static string Verdict(bool? pass) => pass switch { true => "pass", false => "FAIL", null => "-" };

    private string[][] ImageRows() => Images.Select(i => new[]
    {
        Printable.OneLine(i.Name), N(i.SizeBytes), N(i.StoredBytes), Pct(i.Efficiency), N(i.WastedBytes), N(i.RemovableBytes),
        N(UniqueBytes(i)), N(SharedBytes(i)), N(i.Layers.Count), Verdict(i.Pass),
    }).ToArray();

    private static readonly string[] ImageColumns = ["IMAGE", "SIZE", "STORED", "EFFICIENCY", "WASTED", "REMOVABLE", "UNIQUE", "SHARED", "LAYERS", "CI"];

    public string Tsv()
    {
        var sb = new StringBuilder();
        sb.Append(string.Join('\t', ImageColumns)).Append('\n');
        foreach (var r in ImageRows()) sb.Append(string.Join('\t', r)).Append('\n');
        // an image the scan could not read is a row too, its figures empty and its CI column "error"
        // (stderr says why): a table that leaves it out would read as a fleet without it
        foreach (var f in Failures) sb.Append(Printable.OneLine(f.Name)).Append('\t', ImageColumns.Length - 1).Append("error\n");
        return sb.ToString();
    }

    public string Text()
    {
        var sb = new StringBuilder();
        Table(sb, [ImageColumns, .. ImageRows()]);
        var shared = Layers.Where(l => l.Images > 1).ToList();
        if (shared.Count > 0)
        {
            sb.Append('\n').Append(Strings.Scan_SharedLayers).Append('\n');
            Table(sb, [["LAYER", "STORED", "IMAGES"], .. shared.Select(l => new[] { l.Id, N(l.StoredBytes), N(l.Images) })]);
        }
        var wasted = Wasted;
        if (wasted.Count > 0)
        {
            sb.Append('\n').Append(Strings.Scan_WastedPaths).Append('\n');
            Table(sb, [["PATH", "WASTED", "IMAGES"], .. wasted.Select(w => new[] { Printable.OneLine(w.Path), N(w.Bytes), N(w.Images) })]);
        }
        foreach (var f in Failures) sb.Append('\n').Append(Text_Failure(f));
        if (Failures.Count > 0) sb.Append('\n');
        sb.Append('\n').Append(Totals()).Append('\n');
        return sb.ToString();
    }

    private static string Text_Failure(ScanFailure f) => Core.Text.Fill(Strings.Scan_Failed, Printable.OneLine(f.Name), Printable.OneLine(f.Error));

    private string Totals() => Core.Text.Fill(Strings.Scan_Totals, Images.Count, Failures.Count, Layers.Count, StoredBytes, ImagesStoredBytes, WastedBytes, RemovableBytes);

    private static void Table(StringBuilder sb, string[][] rows)
    {
        var widths = new int[rows[0].Length];
        foreach (var r in rows)
            for (int c = 0; c < r.Length; c++) widths[c] = Math.Max(widths[c], r[c].Length);
        foreach (var r in rows)
        {
            for (int c = 0; c < r.Length; c++)
            {
                if (c == r.Length - 1) sb.Append(r[c]);
                else sb.Append(r[c].PadRight(widths[c] + 2));
            }
            sb.Append('\n');
        }
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(Core.Text.Fill(Strings.Scan_Title, Md(Source))).Append("\n\n");
        MdTable(sb, ImageColumns, ImageRows());
        var shared = Layers.Where(l => l.Images > 1).ToList();
        if (shared.Count > 0)
        {
            sb.Append("\n## ").Append(Strings.Scan_SharedLayers).Append("\n\n");
            MdTable(sb, ["LAYER", "STORED", "IMAGES"], shared.Select(l => new[] { "`" + l.Id + "`", N(l.StoredBytes), N(l.Images) }).ToArray());
        }
        var wasted = Wasted;
        if (wasted.Count > 0)
        {
            sb.Append("\n## ").Append(Strings.Scan_WastedPaths).Append("\n\n");
            MdTable(sb, ["PATH", "WASTED", "IMAGES"], wasted.Select(w => new[] { "`" + Printable.OneLine(w.Path).Replace("`", "'") + "`", N(w.Bytes), N(w.Images) }).ToArray());
        }
        if (Failures.Count > 0)
        {
            sb.Append('\n');
            foreach (var f in Failures) sb.Append("- ").Append(Md(Text_Failure(f))).Append('\n');
        }
        sb.Append('\n').Append(Md(Totals())).Append('\n');
        return sb.ToString();
    }

    /// <summary>One self-contained page (no script, no request): the same tables as the text.</summary>
    public string Html()
    {
        static string H(string s) => System.Net.WebUtility.HtmlEncode(Printable.OneLine(s));
        var sb = new StringBuilder();
        var title = H(Core.Text.Fill(Strings.Scan_Title, Source));
        sb.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").Append(title).Append("</title>\n")
          .Append("<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}")
          .Append("td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child,th:first-child{text-align:left;font-family:monospace}.fail{color:#b00}</style>\n")
          .Append("</head><body>\n<h1>").Append(title).Append("</h1>\n");
        void Table(string[] head, IEnumerable<string[]> rows)
        {
            sb.Append("<table><tr>");
            foreach (var h in head) sb.Append("<th>").Append(H(h)).Append("</th>");
            sb.Append("</tr>\n");
            foreach (var r in rows)
            {
                sb.Append(r[^1] == "FAIL" ? "<tr class=\"fail\">" : "<tr>");
                foreach (var c in r) sb.Append("<td>").Append(H(c)).Append("</td>");
                sb.Append("</tr>\n");
            }
            sb.Append("</table>\n");
        }
        Table(ImageColumns, ImageRows());
        var shared = Layers.Where(l => l.Images > 1).ToList();
        if (shared.Count > 0)
        {
            sb.Append("<h2>").Append(H(Strings.Scan_SharedLayers)).Append("</h2>\n");
            Table(["LAYER", "STORED", "IMAGES"], shared.Select(l => new[] { l.Id, N(l.StoredBytes), N(l.Images) }));
        }
        var wasted = Wasted;
        if (wasted.Count > 0)
        {
            sb.Append("<h2>").Append(H(Strings.Scan_WastedPaths)).Append("</h2>\n");
            Table(["PATH", "WASTED", "IMAGES"], wasted.Select(w => new[] { w.Path, N(w.Bytes), N(w.Images) }));
        }
        foreach (var f in Failures) sb.Append("<p class=\"fail\">").Append(H(Text_Failure(f))).Append("</p>\n");
        sb.Append("<p>").Append(H(Totals())).Append("</p>\n</body></html>\n");
        return sb.ToString();
    }

    private static string Md(string s) => Printable.OneLine(s).Replace("|", "\\|");

    private static void MdTable(StringBuilder sb, string[] head, string[][] rows)
    {
        sb.Append("| ").Append(string.Join(" | ", head)).Append(" |\n|");
        foreach (var _ in head) sb.Append("---|");
        sb.Append('\n');
        foreach (var r in rows) sb.Append("| ").Append(string.Join(" | ", r.Select(c => c.Replace("|", "\\|")))).Append(" |\n");
    }

    public string Json()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("source", Source);
            w.WriteStartArray("images");
            foreach (var i in Images)
            {
                w.WriteStartObject();
                w.WriteString("name", i.Name);
                w.WriteString("digest", i.Digest);
                w.WriteNumber("sizeBytes", i.SizeBytes);
                w.WriteNumber("storedBytes", i.StoredBytes);
                Number(w, "efficiency", i.Efficiency);
                w.WriteNumber("wastedBytes", i.WastedBytes);
                Number(w, "userWastedPercent", i.UserWastedPercent);
                w.WriteNumber("removableBytes", i.RemovableBytes);
                w.WriteNumber("uniqueBytes", UniqueBytes(i));
                w.WriteNumber("sharedBytes", SharedBytes(i));
                if (i.Pass is { } pass) w.WriteBoolean("pass", pass);
                else w.WriteNull("pass");
                w.WriteStartArray("layers");
                foreach (var l in i.Layers)
                {
                    w.WriteStartObject();
                    w.WriteString("id", l.Id);
                    w.WriteNumber("storedBytes", l.StoredBytes);
                    w.WriteNumber("images", ShareCounts[l.Id]);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("wasted");
                foreach (var x in i.Wasted)
                {
                    w.WriteStartObject();
                    w.WriteString("path", x.Path);
                    w.WriteNumber("bytes", x.Bytes);
                    w.WriteNumber("count", x.Count);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("failures");
            foreach (var f in Failures)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteString("error", f.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("fleetWasted");
            foreach (var x in Wasted)
            {
                w.WriteStartObject();
                w.WriteString("path", x.Path);
                w.WriteNumber("bytes", x.Bytes);
                w.WriteNumber("images", x.Images);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("totals");
            w.WriteNumber("images", Images.Count);
            w.WriteNumber("failed", Failures.Count);
            w.WriteNumber("layers", Layers.Count);
            w.WriteNumber("storedBytes", StoredBytes);
            w.WriteNumber("imagesStoredBytes", ImagesStoredBytes);
            w.WriteNumber("savedBySharing", ImagesStoredBytes - StoredBytes);
            w.WriteNumber("wastedBytes", WastedBytes);
            w.WriteNumber("removableBytes", RemovableBytes);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    /// <summary>The images and failures of a report this command wrote (what a shard gives a merge).</summary>
    public static ScanReport Read(string path, byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var images = new List<ScanImage>();
            foreach (var i in root.GetProperty("images").EnumerateArray())
            {
                images.Add(new ScanImage(
                    i.GetProperty("name").GetString()!,
                    i.GetProperty("digest").GetString(),
                    i.GetProperty("layers").EnumerateArray().Select(l => new ScanLayer(l.GetProperty("id").GetString()!, l.GetProperty("storedBytes").GetInt64())).ToList(),
                    i.GetProperty("sizeBytes").GetInt64(),
                    Double(i.GetProperty("efficiency")),
                    i.GetProperty("wastedBytes").GetInt64(),
                    Double(i.GetProperty("userWastedPercent")),
                    i.GetProperty("removableBytes").GetInt64(),
                    i.GetProperty("pass").ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null },
                    i.GetProperty("wasted").EnumerateArray().Select(x => new ScanWaste(x.GetProperty("path").GetString()!, x.GetProperty("bytes").GetInt64(), x.GetProperty("count").GetInt32())).ToList()));
            }
            var failures = root.GetProperty("failures").EnumerateArray().Select(f => new ScanFailure(f.GetProperty("name").GetString()!, f.GetProperty("error").GetString()!)).ToList();
            return new ScanReport(root.GetProperty("source").GetString()!, images, failures);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new ImageException(FaultKind.Damaged, Core.Text.Fill(Strings.Scan_NotAReport, path, ex.Message));
        }
    }

    private static double Double(JsonElement e) => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble();

    /// <summary>Shards' reports as one: every image once (a repository is in one shard only; an image twice is kept once).</summary>
    public static ScanReport Merge(IReadOnlyList<ScanReport> parts)
    {
        var source = parts.Count == 0 ? "" : parts[0].Source;
        var images = parts.SelectMany(p => p.Images).DistinctBy(i => i.Name).ToList();
        var failures = parts.SelectMany(p => p.Failures).DistinctBy(f => f.Name).Where(f => images.All(i => i.Name != f.Name)).ToList();
        return new ScanReport(source, images, failures);
    }
}
