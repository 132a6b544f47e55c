using System.Text;
using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Reports;

/// <summary>One side of a comparison: the image and the figures <c>diff</c> prints for it.</summary>
internal sealed record HtmlDiffSide(ImageModel Model, DiveMetricsResult Dive, OverlayMetricsResult Overlay, int Files);

/// <summary>
/// <c>layerdive diff A B --format html</c> (and <c>diff --ci --ci-format html</c>): one self-contained
/// page with the summary of both images, a treemap of what changed by directory (added, removed,
/// grown, shrunk), the directories that changed most, the shared layers and the change table. The
/// comparison is <see cref="ImageDiff"/>'s, the one the text, TSV and JSON forms print.
/// </summary>
internal static class HtmlDiffReport
{
    /// <summary>The colour keys of the change treemap.</summary>
    private const int Added = 0, Removed = 1, Grown = 2, Shrunk = 3, Content = 4;

    public static string Render(HtmlDiffSide a, HtmlDiffSide b, bool mtime, Func<AttributeChange, string> describe, CiOutcome? outcome = null)
    {
        var changes = new List<PathDiff>();
        var tree = new ChangeTree();
        int added = 0, removed = 0, modified = 0;
        var growth = ImageDiff.Compare(a.Model, b.Model, mtime, d =>
        {
            _ = d.Status switch { ChangeKind.Added => added++, ChangeKind.Removed => removed++, _ => modified++ };
            if (changes.Count < HtmlReport.TableRows) changes.Add(d);
            tree.Add(d);
        });
        var shared = ImageDiff.SharedLayers(a.Model, b.Model);

        var sb = new StringBuilder(64 * 1024);
        var title = Text.Fill(Strings.Report_DiffTitle, a.Model.Name, b.Model.Name);
        HtmlPage.Start(sb, title);
        sb.Append("<h1>").Append(HtmlPage.H(title)).Append("</h1>\n");

        sb.Append("<section id=\"summary\">\n<h2>").Append(HtmlPage.H(Strings.Report_Summary)).Append("</h2>\n");
        if (outcome is not null)
            sb.Append("<p>").Append(HtmlPage.H(Strings.Report_Verdict)).Append(": <span class=\"verdict ").Append(outcome.Pass ? "pass" : "fail").Append("\" id=\"verdict\">")
              .Append(outcome.Pass ? "PASS" : "FAIL").Append("</span></p>\n");
        string Signed(int n) => n > 0 ? "+" + HtmlPage.Invariant(n) : HtmlPage.Invariant(n);
        string SignedPercent(double r) => HtmlPage.H((r >= 0 ? "+" : "") + Units.Percent(r));
        HtmlPage.Table(sb, "diff-summary", Strings.Report_Summary, ["", Strings.Report_ColA, Strings.Report_ColB, Strings.Report_ColChange],
        [
            [HtmlPage.H(Strings.Report_Image), HtmlPage.H(a.Model.Name), HtmlPage.H(b.Model.Name), ""],
            [HtmlPage.H(Strings.Report_Platform), HtmlPage.H(a.Model.Config.Platform), HtmlPage.H(b.Model.Config.Platform), ""],
            [HtmlPage.H(Strings.Report_Size), HtmlReport.Bytes(a.Dive.SizeBytes), HtmlReport.Bytes(b.Dive.SizeBytes), HtmlPage.H(Units.SignedBytes(b.Dive.SizeBytes - a.Dive.SizeBytes))],
            [HtmlPage.H(Strings.Report_Layers), HtmlPage.Invariant(a.Model.Layers.Count), HtmlPage.Invariant(b.Model.Layers.Count), Signed(b.Model.Layers.Count - a.Model.Layers.Count)],
            [HtmlPage.H(Strings.Report_Files), HtmlPage.Invariant(a.Files), HtmlPage.Invariant(b.Files), Signed(b.Files - a.Files)],
            [HtmlPage.H(Strings.Report_Efficiency), HtmlPage.H(Units.Percent(a.Dive.Efficiency)), HtmlPage.H(Units.Percent(b.Dive.Efficiency)), SignedPercent(b.Dive.Efficiency - a.Dive.Efficiency)],
            [HtmlPage.H(Strings.Report_Wasted), HtmlReport.Bytes(a.Dive.WastedBytes), HtmlReport.Bytes(b.Dive.WastedBytes), HtmlPage.H(Units.SignedBytes(b.Dive.WastedBytes - a.Dive.WastedBytes))],
            [HtmlPage.H(Strings.Report_Removable), HtmlReport.Bytes(a.Overlay.RemovableBytes), HtmlReport.Bytes(b.Overlay.RemovableBytes), HtmlPage.H(Units.SignedBytes(b.Overlay.RemovableBytes - a.Overlay.RemovableBytes))],
        ], c => c > 0);
        sb.Append("<p id=\"diff-counts\">").Append(HtmlPage.H(Text.Fill(Strings.Report_DiffCounts, added, removed, modified))).Append("</p>\n");
        if (outcome is not null) HtmlReport.Rules(sb, outcome);
        sb.Append("</section>\n");

        var data = tree.Json();
        HtmlPage.TreemapStart(sb, Strings.Report_DiffTreemapTitle, Strings.Report_DiffTreemapIntro, Strings.Report_DiffTreemapAlt,
            (tree.Threshold, tree.FoldedItems, tree.FoldedBytes, tree.FoldedBoxes));
        sb.Append("<ul class=\"legend\">");
        foreach (var (key, text) in Keys())
            sb.Append("<li><i style=\"background:").Append(Colour(key)).Append("\"></i>").Append(HtmlPage.H(text)).Append("</li>");
        sb.Append("</ul>\n</section>\n");

        sb.Append("<section id=\"directories\">\n<h2>").Append(HtmlPage.H(Strings.Report_DirectoriesTitle)).Append("</h2>\n");
        if (growth.Count == 0) sb.Append("<p>").Append(HtmlPage.H(Strings.Report_None)).Append("</p>\n");
        else
            HtmlPage.Table(sb, "directories-table", Strings.Report_DirectoriesTitle, [Strings.Report_ColGrowth, Strings.Report_ColA, Strings.Report_ColB, Strings.Report_ColPath],
                growth.Select(g => new[] { HtmlPage.H(Units.SignedBytes(g.Growth)), HtmlReport.Bytes(g.Before), HtmlReport.Bytes(g.After), HtmlPage.P(g.Path) }), c => c < 3);
        sb.Append("</section>\n");

        sb.Append("<section id=\"shared\">\n<h2>").Append(HtmlPage.H(Strings.Report_SharedTitle)).Append("</h2>\n<p class=\"note\">").Append(HtmlPage.H(Strings.Report_SharedIntro)).Append("</p>\n");
        if (shared.Count == 0) sb.Append("<p>").Append(HtmlPage.H(Strings.Report_None)).Append("</p>\n");
        else
            HtmlPage.Table(sb, "shared-table", Strings.Report_SharedTitle, [Strings.Report_ColA, Strings.Report_ColB, Strings.Report_ColDiffId, Strings.Report_ColSize, Strings.Report_ColWhere],
                shared.Select(s => new[]
                {
                    HtmlPage.Invariant(s.IndexA), HtmlPage.Invariant(s.IndexB), "<span class=\"mono\">" + HtmlPage.H(s.DiffId) + "</span>", HtmlReport.Bytes(s.Bytes),
                    HtmlPage.H(s.SameChain ? Strings.Report_SharedSameBase : Strings.Report_SharedOtherBase),
                }), c => c is < 2 or 3);
        sb.Append("</section>\n");

        sb.Append("<section id=\"changes\">\n<h2>").Append(HtmlPage.H(Strings.Report_ChangesTitle)).Append("</h2>\n");
        if (changes.Count == 0) sb.Append("<p>").Append(HtmlPage.H(Strings.Report_None)).Append("</p>\n");
        else
        {
            HtmlPage.Table(sb, "changes-table", Strings.Report_ChangesTitle, [Strings.Report_ColStatus, Strings.Report_ColPath, Strings.Report_ColA, Strings.Report_ColB, Strings.Report_ColWhat],
                changes.Select(d => new[]
                {
                    d.Status switch { ChangeKind.Added => "A", ChangeKind.Removed => "D", _ => "M" },
                    HtmlPage.P(d.Path),
                    d.Old is { } o ? HtmlPage.H(Units.HumanBytes(FileBytes(o))) : "",
                    d.New is { } n ? HtmlPage.H(Units.HumanBytes(FileBytes(n))) : "",
                    d.Status == ChangeKind.Modified ? HtmlPage.H(describe(d.Changed)) : "",
                }), c => c is 2 or 3);
            if (added + removed + modified > HtmlReport.TableRows)
                sb.Append("<p class=\"note more\">").Append(HtmlPage.H(Text.Fill(Strings.Report_MoreRows, added + removed + modified - HtmlReport.TableRows))).Append("</p>\n");
        }
        sb.Append("</section>\n<footer>").Append(HtmlPage.H(Strings.Report_Footer)).Append("</footer>\n");
        HtmlPage.End(sb, data);
        return sb.ToString();
    }

    private static long FileBytes(EntryAttributes a) => a.Type == FileType.File ? a.Size : 0;

    private static (int Key, string Text)[] Keys() =>
    [
        (Added, Strings.Report_ChangeAdded), (Removed, Strings.Report_ChangeRemoved), (Grown, Strings.Report_ChangeGrown),
        (Shrunk, Strings.Report_ChangeShrunk), (Content, Strings.Report_ChangeContent),
    ];

    private static string Colour(int key) => key switch
    {
        Added => "#4ac26b",
        Removed => "#ff8182",
        Grown => "#54aeff",
        Shrunk => "#c297ff",
        Content => "#d4a72c",
        _ => "#afb8c1",
    };

    /// <summary>The changed regular files as a tree of directories, each file weighed by the bytes that changed.</summary>
    private sealed class ChangeTree
    {
        private sealed class Node(string name)
        {
            public readonly string Name = name;
            public long Bytes;
            public long Files;
            public int Key = -1;
            public Dictionary<string, Node>? Kids;
        }

        private readonly Node _root = new("/");

        public long Threshold { get; private set; }
        public long FoldedItems { get; private set; }
        public long FoldedBytes { get; private set; }
        public int FoldedBoxes { get; private set; }

        private static bool IsFile(EntryAttributes? a) => a is { Type: FileType.File, HardlinkTarget: null };

        public void Add(PathDiff d)
        {
            bool before = IsFile(d.Old), after = IsFile(d.New);
            (int key, long bytes) = (before, after) switch
            {
                (false, true) => (Added, d.New!.Value.Size),
                (true, false) => (Removed, d.Old!.Value.Size),
                (true, true) => d.New!.Value.Size - d.Old!.Value.Size is var delta && delta != 0
                    ? (delta > 0 ? Grown : Shrunk, Math.Abs(delta))
                    : (d.Changed.HasFlag(AttributeChange.Content) ? Content : -1, d.New!.Value.Size),
                _ => (-1, 0L),
            };
            if (key < 0 || bytes <= 0) return;
            var node = _root;
            node.Bytes += bytes;
            node.Files++;
            foreach (var segment in d.Path.Split('/'))
            {
                node.Kids ??= new Dictionary<string, Node>(StringComparer.Ordinal);
                if (!node.Kids.TryGetValue(segment, out var next)) node.Kids[segment] = next = new Node(segment);
                node = next;
                node.Bytes += bytes;
                node.Files++;
            }
            node.Key = key;
        }

        public string Json()
        {
            var sizes = new List<long>();
            void Collect(Node n)
            {
                if (n.Kids is null) return;
                foreach (var k in n.Kids.Values)
                {
                    sizes.Add(k.Bytes);
                    Collect(k);
                }
            }
            Collect(_root);
            if (sizes.Count > HtmlReport.TreemapBudget)
            {
                sizes.Sort();
                Threshold = sizes[^HtmlReport.TreemapBudget] + 1;
            }
            var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, HtmlPage.JsonOptions))
            {
                w.WriteStartObject();
                w.WriteStartObject("text");
                w.WriteString("zoom", Strings.Report_ClickToZoom);
                w.WriteEndObject();
                w.WriteStartObject("keys");
                w.WriteString("-1", Strings.Report_FoldedKey);
                foreach (var (key, text) in Keys()) w.WriteString(HtmlPage.Invariant(key), text);
                w.WriteEndObject();
                w.WriteStartObject("colours");
                foreach (var (key, _) in Keys()) w.WriteString(HtmlPage.Invariant(key), Colour(key));
                w.WriteString("-1", Colour(-1));
                w.WriteEndObject();
                w.WritePropertyName("tree");
                Write(w, _root, "/");
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }

        private void Write(Utf8JsonWriter w, Node n, string name)
        {
            w.WriteStartArray();
            w.WriteStringValue(HtmlPage.Clean(name, path: true));
            w.WriteNumberValue(n.Bytes);
            w.WriteNumberValue(n.Key);
            w.WriteNumberValue(0);
            if (n.Kids is not null)
            {
                w.WriteStartArray();
                long foldedBytes = 0, foldedFiles = 0;
                foreach (var k in n.Kids.Values.OrderByDescending(k => k.Bytes))
                {
                    if (k.Bytes < Threshold)
                    {
                        foldedBytes += k.Bytes;
                        foldedFiles += k.Files;
                        continue;
                    }
                    Write(w, k, k.Name);
                }
                if (foldedBytes > 0)
                {
                    FoldedBytes += foldedBytes;
                    FoldedItems += foldedFiles;
                    FoldedBoxes++;
                    w.WriteStartArray();
                    w.WriteStringValue(Text.Fill(Strings.Report_FoldedItem, foldedFiles));
                    w.WriteNumberValue(foldedBytes);
                    w.WriteNumberValue(-1);
                    w.WriteNumberValue(1);
                    w.WriteEndArray();
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
    }
}
