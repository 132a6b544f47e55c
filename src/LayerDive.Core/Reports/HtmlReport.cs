using System.Text;
using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Reports;

/// <summary>The bytes of regular files a layer added, modified and removed (the records <c>ls --changes</c> lists; a hardlink's content counts at its target).</summary>
internal readonly record struct LayerBytes(long Added, long Modified, long Removed);

/// <summary>
/// <c>layerdive report IMAGE</c> and <c>--ci-format html</c>: one self-contained page (no network, no
/// script or style from elsewhere) with the summary, a treemap of the final tree coloured by the layer
/// that wrote each file and the removable bytes as a region of their own, the per-layer chart, and the
/// tables (which also stand for the charts where scripts or images are not available). Every figure is
/// the one the CLI prints: dive's metrics, the overlay metrics, the layer kinds.
/// </summary>
internal static class HtmlReport
{
    /// <summary>At most this many boxes in the treemap: items below the size that keeps it so are folded, one box per directory.</summary>
    public const int TreemapBudget = 6000;

    /// <summary>Rows a table shows at most (the page says how many more there are; --json has all).</summary>
    public const int TableRows = 500;

    public static string Render(ImageModel model, DiveMetricsResult dive, OverlayMetricsResult overlay, CiOutcome? outcome = null, Analysis.Advice.AdviceResult? advice = null)
    {
        var sb = new StringBuilder(64 * 1024);
        var kinds = LayerKinds.Of(model);
        HtmlPage.Start(sb, Text.Fill(Strings.Report_Title, HtmlPage.Clean(model.Name)));
        sb.Append("<h1>").Append(HtmlPage.H(Text.Fill(Strings.Report_Title, model.Name))).Append("</h1>\n");

        // the summary
        sb.Append("<section id=\"summary\">\n<h2>").Append(HtmlPage.H(Strings.Report_Summary)).Append("</h2>\n<dl class=\"summary\">\n");
        if (outcome is not null)
            Item(sb, Strings.Report_Verdict, $"<span class=\"verdict {(outcome.Pass ? "pass" : "fail")}\" id=\"verdict\">{(outcome.Pass ? "PASS" : "FAIL")}</span>");
        Item(sb, Strings.Report_Image, HtmlPage.H(model.Name));
        Item(sb, Strings.Report_Platform, HtmlPage.H(model.Config.Platform));
        Item(sb, Strings.Report_Size, Bytes(dive.SizeBytes));
        Item(sb, Strings.Report_Layers, HtmlPage.Invariant(model.Layers.Count));
        Item(sb, Strings.Report_Efficiency, HtmlPage.H(Units.Percent(dive.Efficiency)));
        Item(sb, Strings.Report_Wasted, Bytes(dive.WastedBytes));
        Item(sb, Strings.Report_UserWasted, HtmlPage.H(Units.Percent(dive.UserWastedPercent)));
        Item(sb, Strings.Report_Removable, Bytes(overlay.RemovableBytes));
        Item(sb, Strings.Report_RemovablePercent, HtmlPage.H(Units.Percent(overlay.RemovablePercent)));
        Item(sb, Strings.Report_OverlayEfficiency, HtmlPage.H(Units.Percent(overlay.OverlayEfficiency)));
        sb.Append("</dl>\n");
        if (outcome is not null) Rules(sb, outcome);
        sb.Append("</section>\n");

        // the treemap
        var tree = TreemapData.Of(model, overlay);
        var perLayer = PerLayer(model);
        var data = TreemapJson(tree, model, kinds, perLayer); // folds the small items: the note below says what it folded
        HtmlPage.TreemapStart(sb, Strings.Report_TreemapTitle, Strings.Report_TreemapIntro, Strings.Report_TreemapAlt,
            (tree.Threshold, tree.FoldedItems, tree.FoldedBytes, tree.FoldedBoxes));
        sb.Append("<ul class=\"legend\" id=\"tm-legend\">");
        foreach (var l in model.Layers)
            sb.Append("<li><i style=\"background:").Append(LayerColour(l.Index)).Append("\"></i>")
              .Append(HtmlPage.H(Text.Fill(Strings.Report_LayerN, l.Index))).Append(" · ").Append(HtmlPage.H(LayerKinds.Label(kinds[l.Index]))).Append("</li>");
        sb.Append("</ul>\n</section>\n");

        // the layers: the chart and its table
        LayerChart(sb, model, kinds, perLayer);

        if (advice is not null) Advice(sb, advice);

        // the tables
        sb.Append("<section id=\"wasted\">\n<h2>").Append(HtmlPage.H(Strings.Report_WastedTitle)).Append("</h2>\n");
        sb.Append("<p class=\"note\">").Append(HtmlPage.H(Strings.Report_WastedIntro)).Append("</p>\n");
        if (dive.Inefficiencies.Count == 0) sb.Append("<p>").Append(HtmlPage.H(Strings.Report_None)).Append("</p>\n");
        else
        {
            HtmlPage.Table(sb, "wasted-table", Strings.Report_WastedTitle, [Strings.Report_ColCount, Strings.Report_ColWasted, Strings.Report_ColBytes, Strings.Report_ColPath],
                dive.Inefficiencies.Take(TableRows).Select(i => new[] { HtmlPage.Invariant(i.Count), HtmlPage.H(Units.HumanBytes(i.CumulativeSize)), HtmlPage.Invariant(i.CumulativeSize), HtmlPage.H(i.Path, path: true) }),
                c => c < 3);
            More(sb, dive.Inefficiencies.Count);
        }
        sb.Append("</section>\n");

        sb.Append("<section id=\"removable\">\n<h2>").Append(HtmlPage.H(Strings.Report_RemovableTitle)).Append("</h2>\n");
        sb.Append("<p class=\"note\">").Append(HtmlPage.H(Strings.Report_RemovableIntro)).Append("</p>\n");
        if (overlay.Items.Count == 0) sb.Append("<p>").Append(HtmlPage.H(Strings.Report_None)).Append("</p>\n");
        else
        {
            HtmlPage.Table(sb, "removable-table", Strings.Report_RemovableTitle, [Strings.Report_ColSize, Strings.Report_ColBytes, Strings.Report_ColStoredBy, Strings.Report_ColWastedBy, Strings.Report_ColWhy, Strings.Report_ColPath],
                overlay.Items.Take(TableRows).Select(r => new[] { HtmlPage.H(Units.HumanBytes(r.Bytes)), HtmlPage.Invariant(r.Bytes), HtmlPage.Invariant(r.StoredBy), HtmlPage.Invariant(r.WastedBy), HtmlPage.H(CiReports.Reason(r.Reason)), HtmlPage.P(r.Path) }),
                c => c < 4);
            More(sb, overlay.Items.Count);
        }
        sb.Append("</section>\n");
        sb.Append("<footer>").Append(HtmlPage.H(Strings.Report_Footer)).Append("</footer>\n");

        HtmlPage.End(sb, data);
        return sb.ToString();
    }

    /// <summary>The findings of <c>layerdive advise</c>: a row each, its reason and its fix beneath.</summary>
    private static void Advice(StringBuilder sb, Analysis.Advice.AdviceResult advice)
    {
        sb.Append("<section id=\"advice\">\n<h2>").Append(HtmlPage.H(Strings.Report_AdviceTitle)).Append("</h2>\n");
        sb.Append("<p class=\"note\">").Append(HtmlPage.H(Strings.Report_AdviceIntro)).Append("</p>\n");
        if (advice.Findings.Count == 0) { sb.Append("<p>").Append(HtmlPage.H(Strings.Report_None)).Append("</p>\n</section>\n"); return; }
        HtmlPage.Table(sb, "advice-table", Strings.Report_AdviceTitle,
            [Strings.Report_ColKind, Strings.Report_ColSize, Strings.Report_ColBytes, Strings.Report_ColStep, Strings.Report_ColPath, Strings.Report_ColWhy, Strings.Report_ColFix],
            advice.Findings.Take(TableRows).Select(f => new[]
            {
                HtmlPage.H(Analysis.Advice.AdviceReport.KindLabel(f.Kind) + (f.Kind is Analysis.Advice.AdviceKind.PackageCache or Analysis.Advice.AdviceKind.BuildOnly or Analysis.Advice.AdviceKind.Secret ? $" ({f.Rule})" : "")),
                HtmlPage.H(Units.HumanBytes(f.Bytes)),
                HtmlPage.Invariant(f.Bytes),
                string.Join("<br>", f.Steps.Select(s => HtmlPage.H(Text.Fill(Strings.Report_LayerN, s.Layer) + ": " + s.Instruction))),
                string.Join("<br>", f.Paths.Take(5).Select(p => HtmlPage.H(p.Path, path: true)))
                    + (f.PathCount > 5 ? "<br>" + HtmlPage.H(Text.Fill(Strings.Advice_MorePaths, f.PathCount - 5, Units.HumanBytes(f.Bytes - f.Paths.Take(5).Sum(p => p.Bytes)))) : ""),
                HtmlPage.H(f.Why),
                "<pre>" + string.Join("\n", f.Fix.Split('\n').Select(l => HtmlPage.H(l))) + "</pre>",
            }),
            c => c is 1 or 2);
        More(sb, advice.Findings.Count);
        sb.Append("</section>\n");
    }

    private static void Item(StringBuilder sb, string term, string html) =>
        sb.Append("<dt>").Append(HtmlPage.H(term)).Append("</dt><dd>").Append(html).Append("</dd>\n");

    /// <summary>A size as the CLI prints it, with the exact bytes beside it.</summary>
    internal static string Bytes(long bytes) =>
        HtmlPage.H(Units.HumanBytes(bytes)) + (bytes >= 10 ? $" <span class=\"mono\">({HtmlPage.Invariant(bytes)} B)</span>" : "");

    private static void More(StringBuilder sb, int count)
    {
        if (count > TableRows) sb.Append("<p class=\"note more\">").Append(HtmlPage.H(Text.Fill(Strings.Report_MoreRows, count - TableRows))).Append("</p>\n");
    }

    /// <summary>The CI rules and their results, as the markdown report lists them.</summary>
    internal static void Rules(StringBuilder sb, CiOutcome outcome) =>
        HtmlPage.Table(sb, "rules-table", Strings.Report_RulesTitle, [Strings.Report_ColRule, Strings.Report_ColStatus, Strings.Report_ColThreshold, Strings.Report_ColDetail],
            outcome.AllRules.Select(r => new[]
            {
                HtmlPage.H(r.Setting.Key),
                r.Status switch { RuleStatus.Pass => "PASS", RuleStatus.Fail => "FAIL", _ => "SKIP" },
                HtmlPage.H(r.Setting.Text),
                r.Status == RuleStatus.Fail ? HtmlPage.H(r.Message) : "",
            }));

    /// <summary>A layer's colour in the treemap (the script computes the same from the index).</summary>
    internal static string LayerColour(int layer) =>
        FormattableString.Invariant($"hsl({(layer * 137.508 + 200) % 360:0.0},62%,66%)");

    /// <summary>
    /// Each layer's added, modified and removed bytes of regular files, in one pass over every node's
    /// records: the records <see cref="Changes.OfLayer"/> lists per layer, summed by kind.
    /// </summary>
    internal static LayerBytes[] PerLayer(ImageModel model)
    {
        int n = model.Layers.Count;
        var added = new long[n];
        var modified = new long[n];
        var removed = new long[n];
        foreach (var node in model.AllNodes())
        {
            foreach (var r in node.History)
            {
                if (r.Layer < 0 || r.Layer >= n || r.Attributes.Type != FileType.File || r.Attributes.HardlinkTarget is not null) continue;
                switch (r.Kind)
                {
                    case ChangeKind.Added: added[r.Layer] += r.Attributes.Size; break;
                    case ChangeKind.Modified: modified[r.Layer] += r.Attributes.Size; break;
                    case ChangeKind.Removed: removed[r.Layer] += r.Attributes.Size; break;
                }
            }
        }
        return [.. Enumerable.Range(0, n).Select(i => new LayerBytes(added[i], modified[i], removed[i]))];
    }

    /// <summary>The step's text as dive's export writes it (without the legacy builder's shell prefix).</summary>
    internal static string Step(LayerInfo l) =>
        l.CreatedBy.StartsWith("/bin/sh -c ", StringComparison.Ordinal) ? l.CreatedBy["/bin/sh -c ".Length..] : l.CreatedBy;

    private static void LayerChart(StringBuilder sb, ImageModel model, IReadOnlyList<LayerKind> kinds, LayerBytes[] perLayer)
    {
        sb.Append("<section id=\"layers\">\n<h2>").Append(HtmlPage.H(Strings.Report_LayersTitle)).Append("</h2>\n");
        sb.Append("<p class=\"note\">").Append(HtmlPage.H(Strings.Report_LayersIntro)).Append("</p>\n");
        sb.Append("<ul class=\"legend\"><li><i class=\"add\"></i>").Append(HtmlPage.H(Strings.Report_ColAdded))
          .Append("</li><li><i class=\"mod\"></i>").Append(HtmlPage.H(Strings.Report_ColModified))
          .Append("</li><li><i class=\"rem\"></i>").Append(HtmlPage.H(Strings.Report_ColRemoved))
          .Append("</li><li><i class=\"stored\"></i>").Append(HtmlPage.H(Strings.Report_ColStored)).Append("</li></ul>\n");
        // the chart: a row per layer, bars on one scale; drawn here, so it needs no script
        const int rowHeight = 50, labelWidth = 230, barWidth = 520, width = 1160;
        long max = 1;
        for (int i = 0; i < perLayer.Length; i++)
            max = Math.Max(max, Math.Max(Math.Max(perLayer[i].Added, perLayer[i].Modified), Math.Max(perLayer[i].Removed, model.Layers[i].CompressedSize)));
        double Scale(long v) => v <= 0 ? 0 : Math.Max(1, (double)v / max * barWidth);
        int height = Math.Max(1, perLayer.Length) * rowHeight + 6;
        sb.Append(FormattableString.Invariant($"<svg class=\"chart\" id=\"layer-chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"layer-chart-title\">"))
          .Append("<title id=\"layer-chart-title\">").Append(HtmlPage.H(Strings.Report_ChartAlt)).Append("</title>\n");
        foreach (var l in model.Layers)
        {
            var b = perLayer[l.Index];
            int y = l.Index * rowHeight + 4;
            sb.Append(FormattableString.Invariant($"<g class=\"layer\" data-layer=\"{l.Index}\" transform=\"translate(0,{y})\">"));
            sb.Append("<title>").Append(HtmlPage.H(Text.Fill(Strings.Report_LayerN, l.Index) + " · " + LayerKinds.Label(kinds[l.Index]) + "\n" + Step(l))).Append("</title>");
            sb.Append(FormattableString.Invariant($"<rect x=\"0\" y=\"0\" width=\"10\" height=\"{rowHeight - 8}\" style=\"fill:{LayerColour(l.Index)}\"/>"));
            sb.Append("<text x=\"16\" y=\"14\">").Append(HtmlPage.H(Text.Fill(Strings.Report_LayerN, l.Index) + " · " + LayerKinds.Label(kinds[l.Index]) + " · " + Units.HumanBytes(l.Size))).Append("</text>");
            var step = HtmlPage.Clean(Step(l));
            if (step.Length > 34) step = step[..33] + "…";
            sb.Append("<text class=\"muted\" x=\"16\" y=\"30\">").Append(HtmlPage.H(step)).Append("</text>");
            (string Css, long Bytes, int Y)[] bars = [("add", b.Added, 0), ("mod", b.Modified, 10), ("rem", b.Removed, 20), ("stored", l.CompressedSize, 30)];
            foreach (var (css, bytes, by) in bars)
            {
                sb.Append(FormattableString.Invariant($"<rect class=\"{css}\" x=\"{labelWidth}\" y=\"{by}\" width=\"{Scale(bytes):0.##}\" height=\"8\" data-bytes=\"{bytes}\"/>"));
                sb.Append(FormattableString.Invariant($"<text class=\"muted\" x=\"{labelWidth + Scale(bytes) + 6:0.##}\" y=\"{by + 8}\" style=\"font-size:9px\">")).Append(HtmlPage.H(Units.HumanBytes(bytes))).Append("</text>");
            }
            sb.Append("</g>\n");
        }
        sb.Append("</svg>\n");
        HtmlPage.Table(sb, "layers-table", Strings.Report_LayersTitle,
            [Strings.Report_ColLayer, Strings.Report_ColAdded, Strings.Report_ColModified, Strings.Report_ColRemoved, Strings.Report_ColSize, Strings.Report_ColStored, Strings.Report_ColKind, Strings.Report_ColStep],
            model.Layers.Select(l => new[]
            {
                HtmlPage.Invariant(l.Index),
                Bytes(perLayer[l.Index].Added), Bytes(perLayer[l.Index].Modified), Bytes(perLayer[l.Index].Removed),
                Bytes(l.Size), Bytes(l.CompressedSize),
                HtmlPage.H(LayerKinds.Label(kinds[l.Index])),
                "<span class=\"step mono\">" + HtmlPage.H(Step(l)) + "</span>",
            }),
            c => c is >= 1 and <= 5);
        sb.Append("</section>\n");
    }

    /// <summary>The script's data: the texts it shows, what each layer is (for the boxes' titles), and the tree.</summary>
    private static string TreemapJson(TreemapData tree, ImageModel model, IReadOnlyList<LayerKind> kinds, LayerBytes[] perLayer)
    {
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, HtmlPage.JsonOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("text");
            w.WriteString("zoom", Strings.Report_ClickToZoom);
            w.WriteString("removable", Strings.Report_RemovableRegion);
            w.WriteEndObject();
            w.WriteStartObject("keys");
            w.WriteString("-1", Strings.Report_FoldedKey);
            foreach (var l in model.Layers)
            {
                var step = HtmlPage.Clean(Step(l));
                if (step.Length > 300) step = step[..299] + "…";
                w.WriteString(HtmlPage.Invariant(l.Index), Text.Fill(Strings.Report_LayerN, l.Index) + " (" + LayerKinds.Label(kinds[l.Index]) + "): " + step);
            }
            w.WriteEndObject();
            w.WritePropertyName("tree");
            tree.Write(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}

/// <summary>
/// The treemap's tree: the final tree's regular files by size (a hardlink's content counted at its
/// target), each with the layer that wrote it, and beside them a region of the bytes the layers store
/// that the final tree does not show (the overlay's removable items, grouped by the layer that stored
/// them). Items smaller than a threshold are folded into one box per directory, the threshold chosen
/// so that at most <see cref="HtmlReport.TreemapBudget"/> boxes remain.
/// </summary>
internal sealed class TreemapData
{
    private readonly ImageModel _model;
    private readonly long[] _size;
    private readonly int[] _files;
    private readonly int[] _layer;
    private readonly OverlayMetricsResult _overlay;
    private readonly int _top;

    public long Threshold { get; private set; }
    public long FoldedItems { get; private set; }
    public long FoldedBytes { get; private set; }
    public int FoldedBoxes { get; private set; }

    private TreemapData(ImageModel model, OverlayMetricsResult overlay)
    {
        _model = model;
        _overlay = overlay;
        _top = model.TopLayer;
        int count = model.Root.Tree.NodeCount;
        _size = new long[count];
        _files = new int[count];
        _layer = new int[count];
        Array.Fill(_layer, -1);
    }

    public static TreemapData Of(ImageModel model, OverlayMetricsResult overlay)
    {
        var d = new TreemapData(model, overlay);
        d.Measure();
        return d;
    }

    private void Measure()
    {
        var sizes = new List<long>();
        if (_top >= 0)
        {
            foreach (var node in _model.AllNodes())
            {
                if (node.IsRoot || node.StateAt(_top) is not { IsPresent: true } s) continue;
                if (s.Attributes is not { Type: FileType.File, HardlinkTarget: null } a) continue;
                _layer[node.Number] = s.Layer;
                // the file, and every directory above it (present too: the merge removes a subtree whole)
                for (TreeNode? p = node; p is { } at; p = at.Parent)
                {
                    _size[at.Number] += a.Size;
                    _files[at.Number]++;
                }
            }
            for (int i = 1; i < _size.Length; i++)
                if (_size[i] > 0) sizes.Add(_size[i]);
        }
        // the removable region: its groups (one per storing layer) and its items
        foreach (var g in _overlay.Items.GroupBy(r => r.StoredBy))
        {
            sizes.Add(g.Sum(r => r.Bytes));
            foreach (var r in g) if (r.Bytes > 0) sizes.Add(r.Bytes);
        }
        if (sizes.Count > HtmlReport.TreemapBudget)
        {
            sizes.Sort();
            // keep the items above the budget's smallest size; a directory is never smaller than what it holds, so what is kept is a tree
            Threshold = sizes[^HtmlReport.TreemapBudget] + 1;
        }
    }

    /// <summary>Writes the tree: [name, bytes, layer, flags (1 folded, 2 removable), children?].</summary>
    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartArray();
        w.WriteStringValue("/");
        long removable = _overlay.RemovableBytes;
        w.WriteNumberValue(_size[0] + removable);
        w.WriteNumberValue(-1);
        w.WriteNumberValue(0);
        w.WriteStartArray();
        if (_top >= 0) Children(w, _model.Root);
        if (removable > 0) Removable(w, removable);
        w.WriteEndArray();
        w.WriteEndArray();
    }

    private void Children(Utf8JsonWriter w, TreeNode dir)
    {
        long foldedBytes = 0;
        long foldedFiles = 0;
        foreach (var c in dir.AllChildren)
        {
            long size = _size[c.Number];
            if (size <= 0) continue; // nothing visible beneath it (a size is counted for visible files and their directories only)
            if (size < Threshold)
            {
                foldedBytes += size;
                foldedFiles += _files[c.Number];
                continue;
            }
            w.WriteStartArray();
            w.WriteStringValue(HtmlPage.Clean(c.Name, path: true));
            w.WriteNumberValue(size);
            w.WriteNumberValue(_layer[c.Number]);
            w.WriteNumberValue(0);
            if (c.StateAt(_top)!.Value.Attributes.IsDirectory)
            {
                w.WriteStartArray();
                Children(w, c);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        Fold(w, foldedBytes, foldedFiles, 0);
    }

    private void Fold(Utf8JsonWriter w, long bytes, long items, int flags)
    {
        if (bytes <= 0) return;
        FoldedBytes += bytes;
        FoldedItems += items;
        FoldedBoxes++;
        w.WriteStartArray();
        w.WriteStringValue(Text.Fill(Strings.Report_FoldedItem, items));
        w.WriteNumberValue(bytes);
        w.WriteNumberValue(-1);
        w.WriteNumberValue(1 | flags);
        w.WriteEndArray();
    }

    private void Removable(Utf8JsonWriter w, long total)
    {
        w.WriteStartArray();
        w.WriteStringValue(Strings.Report_RemovableRegion);
        w.WriteNumberValue(total);
        w.WriteNumberValue(-1);
        w.WriteNumberValue(2);
        w.WriteStartArray();
        foreach (var g in _overlay.Items.GroupBy(r => r.StoredBy).OrderBy(g => g.Key))
        {
            long bytes = g.Sum(r => r.Bytes);
            if (bytes <= 0) continue;
            w.WriteStartArray();
            w.WriteStringValue(Text.Fill(Strings.Report_LayerN, g.Key));
            w.WriteNumberValue(bytes);
            w.WriteNumberValue(g.Key);
            w.WriteNumberValue(2);
            w.WriteStartArray();
            long foldedBytes = 0, foldedItems = 0;
            foreach (var r in g)
            {
                if (r.Bytes <= 0) continue;
                if (r.Bytes < Threshold)
                {
                    foldedBytes += r.Bytes;
                    foldedItems++;
                    continue;
                }
                w.WriteStartArray();
                w.WriteStringValue(HtmlPage.Clean("/" + r.Path, path: true));
                w.WriteNumberValue(r.Bytes);
                w.WriteNumberValue(r.StoredBy);
                w.WriteNumberValue(2);
                w.WriteEndArray();
            }
            Fold(w, foldedBytes, foldedItems, 2);
            w.WriteEndArray();
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndArray();
    }
}
