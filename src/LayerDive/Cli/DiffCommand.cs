using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive diff A B [--format text|tsv|json] [--mtime] [--platform-a P] [--platform-b P]</c> (docs/cli.md):
/// both images read at the same time, their final trees compared, and a summary of the two.
/// </summary>
internal static class DiffCommand
{
    /// <summary>The figures of one side of the comparison.</summary>
    private sealed record Side(string Image, ImageModel Model, DiveMetricsResult Dive, OverlayMetricsResult Overlay, int Files);

    public static Command Create(SharedOptions shared, CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Error);
        var a = Completion.Image(new Argument<string>("A") { Description = "The image compared from (the old build), named as IMAGE is" });
        var b = Completion.Image(new Argument<string>("B") { Description = "The image compared to (the new build)" });
        var format = new Option<string>("--format", "-f") { Description = "text; tsv (status, path, then A's and B's type, mode, uid, gid, size, sha256 and link target, sorted by path bytes); json; or html (a self-contained page: the change by directory, shared layers, the change table)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "tsv", "json", "html");
        var mtime = new Option<bool>("--mtime") { Description = "Count a changed modification time as a difference" };
        var platformA = new Option<string?>("--platform-a") { Description = "A's platform in a multi-platform index (default: --platform)" };
        var platformB = new Option<string?>("--platform-b") { Description = "B's platform in a multi-platform index (default: --platform)" };
        var ci = new Option<bool>("--ci") { Description = "Judge B by dive's rules and against A by the regression rules; exit 1 when a rule fails" };
        var ciConfig = new Option<string?>("--ci-config") { Description = "The rules file (default: .dive-ci in the working directory, when there is one)" };
        var ciFormat = new Option<string>("--ci-format") { Description = "The CI report's format: text, json, junit, markdown or html (a self-contained page, as the report command writes it, with the verdict)", DefaultValueFactory = _ => "text" };
        ciFormat.AcceptOnlyFromAmong(CiReports.Formats);
        var ciOutput = new Option<string?>("--ci-output") { Description = "Write the CI report (in --ci-format) to this file; the text report still goes to stdout" };
        var metrics = new Option<string>("--metrics") { Description = "The figures the rules judge: dive (default) or overlay (the real merge)", DefaultValueFactory = _ => "dive" };
        metrics.AcceptOnlyFromAmong("dive", "overlay");
        var rules = new (RuleName Name, Option<string?> Option)[]
        {
            (RuleName.LowestEfficiency, new("--lowestEfficiency", "--lowest-efficiency") { Description = "Fail when B's efficiency is below this (0..1, or disabled)" }),
            (RuleName.HighestWastedBytes, new("--highestWastedBytes", "--highest-wasted-bytes") { Description = "Fail when B wastes more bytes than this (20MB, 20MiB, ... or disabled)" }),
            (RuleName.HighestUserWastedPercent, new("--highestUserWastedPercent", "--highest-user-wasted-percent") { Description = "Fail when B wastes more of its user layers than this (0..1, or disabled)" }),
            (RuleName.HighestSizeGrowth, new("--highestSizeGrowth", "--highest-size-growth") { Description = "Fail when B is larger than A by more than this: bytes (20MB) or a share of A (10%)" }),
            (RuleName.HighestWastedGrowth, new("--highestWastedGrowth", "--highest-wasted-growth") { Description = "Fail when B wastes more than A by more than this: bytes or a share (removable bytes with --metrics overlay)" }),
            (RuleName.LowestEfficiencyDrop, new("--lowestEfficiencyDrop", "--lowest-efficiency-drop") { Description = "Fail when B's efficiency is below A's by more than this (0..1: 0.05 is five points)" }),
        };
        var cmd = new Command("diff", "Compare two images: what B adds, removes and changes against A, and a summary of both") { a, b, format, mtime, platformA, platformB, ci, ciConfig, ciFormat, ciOutput, metrics };
        foreach (var (_, option) in rules) cmd.Options.Add(option);
        cmd.SetAction(p =>
        {
            string imageA = p.GetValue(a)!, imageB = p.GetValue(b)!;
            string fmt = p.GetValue(format)!;
            // on a terminal, without another format asked for: the explorer in compare mode (B's tree against A)
            if (context.IsTerminal && !p.GetValue(ci) && p.GetResult(format) is null or { Implicit: true })
                return CommandLine.Guard(imageB, stderr, img => ExplorerCommand.Run(img, shared, p, context, (imageA, p.GetValue(platformA)), p.GetValue(platformB)));
            IReadOnlyList<RuleSetting>? judged = null;
            string? rulesFile = null;
            if (p.GetValue(ci))
            {
                try
                {
                    (judged, rulesFile) = CiCommand.ResolveRules(p.GetValue(ciConfig), rules.ToDictionary(r => r.Name, r => p.GetValue(r.Option)), context, CiRules.DiffRules);
                }
                catch (Exception ex) when (ex is RuleConfigException or IOException)
                {
                    return ErrorReport.Error(stderr, null, ex.Message);
                }
            }
            var errors = TextWriter.Synchronized(stderr);
            // both at once, each streaming as usual: memory is at most the sum of the two
            var loads = new[] { (imageA, p.GetValue(platformA)), (imageB, p.GetValue(platformB)) }
                .Select(x => Task.Run(() => Read(x.Item1, x.Item2, shared, p, errors, fmt == "tsv")))
                .ToArray();
            try
            {
                Task.WaitAll(loads);
            }
            catch (AggregateException)
            {
                // one line, naming which of the two could not be read (the first, if both)
                var failed = loads[0].IsFaulted ? (imageA, loads[0].Exception!.InnerException!) : (imageB, loads[1].Exception!.InnerException!);
                return CommandLine.Guard(failed.Item1, stderr, _ => throw failed.Item2);
            }
            return CommandLine.Guard(imageB, stderr, _ =>
            {
                var (sa, sb) = (loads[0].Result, loads[1].Result);
                if (judged is not null)
                {
                    var set = p.GetValue(metrics) == "overlay" ? MetricSet.Overlay : MetricSet.Dive;
                    ImageFigures before = new(sa.Dive, sa.Overlay), after = new(sb.Dive, sb.Overlay);
                    var outcome = new CiOutcome(sb.Model.Name, after, set, CiRules.Evaluate(judged, after, set, before), before, sa.Model.Name);
                    var text = CiCommand.TextContext(imageB, p.GetValue(shared.Source), sb.Model, rulesFile, null, color: false);
                    if (p.GetValue(ciOutput) is { } file)
                        foreach (var image in new[] { imageA, imageB }) CiCommand.RefuseToReplaceImage(image, file, context, Strings.Cli_CiOutputWouldReplaceImage);
                    return CiCommand.Report(outcome, text, p.GetValue(ciFormat)!, p.GetValue(ciOutput), context, o => Html(sa, sb, p.GetValue(mtime), o));
                }
                using var output = new BufferedWriter(stdout);
                switch (fmt)
                {
                    case "tsv": WriteTsv(sa, sb, p.GetValue(mtime), output); break;
                    case "json": WriteJson(sa, sb, p.GetValue(mtime), output); break;
                    case "html": output.Write(Html(sa, sb, p.GetValue(mtime), null)); break;
                    default: WriteText(sa, sb, p.GetValue(mtime), output); break;
                }
                return CommandLine.ExitOk;
            });
        });
        return cmd;
    }

    private static string Html(Side a, Side b, bool mtime, CiOutcome? outcome) =>
        HtmlDiffReport.Render(new HtmlDiffSide(a.Model, a.Dive, a.Overlay, a.Files), new HtmlDiffSide(b.Model, b.Dive, b.Overlay, b.Files), mtime, LsCommand.Describe, outcome);

    private static Side Read(string image, string? platform, SharedOptions shared, ParseResult p, TextWriter stderr, bool fileSha256)
    {
        var dive = new DiveMetrics();
        var model = CommandLine.Load(image, shared, p, stderr, fileSha256, observers: [dive], platform: platform);
        return new Side(image, model, dive.Result(), OverlayMetrics.Compute(model), ImageDiff.FileCount(model));
    }

    private static void WriteTsv(Side a, Side b, bool mtime, TextWriter output)
    {
        output.WriteLine("#status\tpath\ta_type\ta_mode\ta_uid\ta_gid\ta_size\ta_sha256\ta_linktarget\tb_type\tb_mode\tb_uid\tb_gid\tb_size\tb_sha256\tb_linktarget" + (mtime ? "\ta_mtime\tb_mtime" : ""));
        var row = new StringBuilder(256);
        ImageDiff.Compare(a.Model, b.Model, mtime, d =>
        {
            row.Clear();
            row.Append(Status(d.Status)).Append('\t').Append(PathText.Escape(d.Path));
            Columns(row, d.Old);
            Columns(row, d.New);
            if (mtime) row.Append('\t').Append(Time(d.Old)).Append('\t').Append(Time(d.New));
            output.WriteLine(row);
        });

        static string Time(EntryAttributes? a) => a is not { } x || x.Type == FileType.Directory ? "-" : x.MTime.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>type, mode, uid, gid, size, sha256, link target: the columns of the umoci ground truth ("-" for a side without the path).</summary>
    private static void Columns(StringBuilder row, EntryAttributes? a)
    {
        if (a is not { } x)
        {
            row.Append("\t-\t-\t-\t-\t-\t-\t-");
            return;
        }
        row.Append('\t').Append(RootfsListing.TypeName(x.Type))
           .Append('\t').Append(Convert.ToString(x.Mode & 0xFFF, 8).PadLeft(4, '0'))
           .Append('\t').Append(x.Uid).Append('\t').Append(x.Gid)
           .Append('\t').Append(x.Type == FileType.File ? x.Size : 0)
           .Append('\t').Append(x.Type == FileType.File && x.Sha256 is not null ? Convert.ToHexStringLower(x.Sha256) : "-")
           .Append('\t').Append(x.Type switch
           {
               FileType.Symlink => PathText.Escape(x.LinkTarget ?? ""),
               FileType.CharDevice or FileType.BlockDevice => $"{x.DevMajor},{x.DevMinor}",
               _ => "-",
           });
    }

    private static string Status(ChangeKind s) => s switch { ChangeKind.Added => "A", ChangeKind.Removed => "D", _ => "M" };

    private static void WriteText(Side a, Side b, bool mtime, TextWriter output)
    {
        int added = 0, removed = 0, modified = 0;
        var growth = ImageDiff.Compare(a.Model, b.Model, mtime, d =>
        {
            switch (d.Status)
            {
                case ChangeKind.Added: added++; output.WriteLine($"A  {LsCommand.Row(d.New!.Value, d.Path)}"); break;
                case ChangeKind.Removed: removed++; output.WriteLine($"D  {LsCommand.Row(d.Old!.Value, d.Path)}"); break;
                default: modified++; output.WriteLine($"M  {LsCommand.Row(d.New!.Value, d.Path)}  ({Changes(d.Old!.Value, d.New!.Value, d.Changed)})"); break;
            }
        });
        if (added + removed + modified > 0) output.WriteLine();
        output.WriteLine($"{added} added, {removed} removed, {modified} modified");
        output.WriteLine();
        string[] header = ["", "A", "B", "change"];
        List<string[]> rows =
        [
            header,
            ["image", Printable.OneLine(a.Model.Name), Printable.OneLine(b.Model.Name), ""],
            ["platform", Printable.OneLine(a.Model.Config.Platform), Printable.OneLine(b.Model.Config.Platform), a.Model.Config.Platform == b.Model.Config.Platform ? "" : "differs"],
            ["size", Units.HumanBytes(a.Dive.SizeBytes), Units.HumanBytes(b.Dive.SizeBytes), Units.SignedBytes(b.Dive.SizeBytes - a.Dive.SizeBytes)],
            ["layers", a.Model.Layers.Count.ToString(CultureInfo.InvariantCulture), b.Model.Layers.Count.ToString(CultureInfo.InvariantCulture), SignedCount(b.Model.Layers.Count - a.Model.Layers.Count)],
            ["files", a.Files.ToString(CultureInfo.InvariantCulture), b.Files.ToString(CultureInfo.InvariantCulture), SignedCount(b.Files - a.Files)],
            ["efficiency (dive)", Units.Percent(a.Dive.Efficiency), Units.Percent(b.Dive.Efficiency), SignedPercent(b.Dive.Efficiency - a.Dive.Efficiency)],
            ["wasted (dive)", Units.HumanBytes(a.Dive.WastedBytes), Units.HumanBytes(b.Dive.WastedBytes), Units.SignedBytes(b.Dive.WastedBytes - a.Dive.WastedBytes)],
            ["removable (overlay)", Units.HumanBytes(a.Overlay.RemovableBytes), Units.HumanBytes(b.Overlay.RemovableBytes), Units.SignedBytes(b.Overlay.RemovableBytes - a.Overlay.RemovableBytes)],
        ];
        var widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var r in rows)
            output.WriteLine($"{r[0].PadRight(widths[0])}  {r[1].PadRight(widths[1])}  {r[2].PadRight(widths[2])}  {r[3]}".TrimEnd());

        var shared = ImageDiff.SharedLayers(a.Model, b.Model);
        var chain = shared.Where(s => s.SameChain).ToList();
        output.WriteLine();
        output.WriteLine(chain.Count == 0
            ? "shared layers: none (no common base: an engine stores each image's layers apart)"
            : $"shared layers: {chain.Count} (the same base: an engine stores {Units.HumanBytes(chain.Sum(s => s.Bytes))} once for both)");
        foreach (var s in shared)
            output.WriteLine($"  A {s.IndexA} = B {s.IndexB}  {ImageException.ShortDigest(s.DiffId)}  {Units.HumanBytes(s.Bytes),9}{(s.SameChain ? "" : "  same content on another base: stored twice")}");
        if (growth.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("largest changes by directory:");
            foreach (var g in growth)
                output.WriteLine($"  {Units.SignedBytes(g.Growth),10}  /{PathText.Escape(g.Path)}  ({Units.HumanBytes(g.Before)} -> {Units.HumanBytes(g.After)})");
        }
    }

    /// <summary>What changed, old -> new.</summary>
    private static string Changes(EntryAttributes old, EntryAttributes now, AttributeChange c)
    {
        var parts = new List<string>();
        if (c.HasFlag(AttributeChange.Type)) parts.Add($"type {RootfsListing.TypeName(old.Type)} -> {RootfsListing.TypeName(now.Type)}");
        if (c.HasFlag(AttributeChange.Mode)) parts.Add($"mode {Convert.ToString(old.Mode & 0xFFF, 8).PadLeft(4, '0')} -> {Convert.ToString(now.Mode & 0xFFF, 8).PadLeft(4, '0')}");
        if (c.HasFlag(AttributeChange.Uid) || c.HasFlag(AttributeChange.Gid)) parts.Add($"owner {old.Uid}:{old.Gid} -> {now.Uid}:{now.Gid}");
        if (c.HasFlag(AttributeChange.Size)) parts.Add($"size {Units.HumanBytes(old.Size)} -> {Units.HumanBytes(now.Size)}");
        if (c.HasFlag(AttributeChange.Content) && !c.HasFlag(AttributeChange.Type)) parts.Add("content");
        if (c.HasFlag(AttributeChange.LinkTarget)) parts.Add($"link {PathText.Escape(old.LinkTarget ?? "")} -> {PathText.Escape(now.LinkTarget ?? "")}");
        if (c.HasFlag(AttributeChange.Device)) parts.Add($"device {old.DevMajor},{old.DevMinor} -> {now.DevMajor},{now.DevMinor}");
        if (c.HasFlag(AttributeChange.MTime)) parts.Add($"mtime {old.MTime} -> {now.MTime}");
        return string.Join(", ", parts);
    }

    private static string SignedCount(int n) => n == 0 ? "0" : n > 0 ? "+" + n : n.ToString(CultureInfo.InvariantCulture);
    private static string SignedPercent(double ratio) => (ratio >= 0 ? "+" : "") + Units.Percent(ratio);

    private static void WriteJson(Side a, Side b, bool mtime, TextWriter output)
    {
        using (var json = new JsonOutput(output))
        {
            var w = json.Writer;
            w.WriteStartObject();
            w.WriteString("pathEncoding", Core.PathText.JsonPathEncoding);
            w.WriteStartArray("changes");
            int added = 0, removed = 0, modified = 0;
            var growth = ImageDiff.Compare(a.Model, b.Model, mtime, d =>
            {
                _ = d.Status switch { ChangeKind.Added => added++, ChangeKind.Removed => removed++, _ => modified++ };
                w.WriteStartObject();
                w.WriteString("status", d.Status switch { ChangeKind.Added => "added", ChangeKind.Removed => "removed", _ => "modified" });
                Core.PathText.WriteJson(w, "path", "/" + d.Path);
                if (d.Status == ChangeKind.Modified) w.WriteString("changed", LsCommand.Describe(d.Changed));
                Attributes(w, "a", d.Old);
                Attributes(w, "b", d.New);
                w.WriteEndObject();
                json.FlushSome();
            });
            w.WriteEndArray();
            w.WriteNumber("added", added);
            w.WriteNumber("removed", removed);
            w.WriteNumber("modified", modified);
            Image(w, "a", a);
            Image(w, "b", b);
            w.WriteStartObject("delta");
            w.WriteNumber("sizeBytes", b.Dive.SizeBytes - a.Dive.SizeBytes);
            w.WriteNumber("files", b.Files - a.Files);
            w.WriteNumber("layers", b.Model.Layers.Count - a.Model.Layers.Count);
            w.WriteNumber("efficiency", b.Dive.Efficiency - a.Dive.Efficiency);
            w.WriteNumber("wastedBytes", b.Dive.WastedBytes - a.Dive.WastedBytes);
            w.WriteNumber("removableBytes", b.Overlay.RemovableBytes - a.Overlay.RemovableBytes);
            w.WriteEndObject();
            var shared = ImageDiff.SharedLayers(a.Model, b.Model);
            w.WriteNumber("sharedBytes", shared.Where(s => s.SameChain).Sum(s => s.Bytes));
            w.WriteStartArray("sharedLayers");
            foreach (var s in shared)
            {
                w.WriteStartObject();
                w.WriteString("diffId", s.DiffId);
                w.WriteNumber("layerA", s.IndexA);
                w.WriteNumber("layerB", s.IndexB);
                w.WriteNumber("sizeBytes", s.Bytes);
                w.WriteBoolean("sameBase", s.SameChain);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("directories");
            foreach (var g in growth)
            {
                w.WriteStartObject();
                Core.PathText.WriteJson(w, "path", "/" + g.Path);
                w.WriteNumber("bytesA", g.Before);
                w.WriteNumber("bytesB", g.After);
                w.WriteNumber("growth", g.Growth);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private static void Image(Utf8JsonWriter w, string name, Side s)
    {
        w.WriteStartObject(name);
        w.WriteString("image", s.Image);
        w.WriteString("name", s.Model.Name);
        w.WriteString("platform", s.Model.Config.Platform);
        w.WriteNumber("sizeBytes", s.Dive.SizeBytes);
        w.WriteNumber("layers", s.Model.Layers.Count);
        w.WriteNumber("files", s.Files);
        w.WriteNumber("efficiency", s.Dive.Efficiency);
        w.WriteNumber("wastedBytes", s.Dive.WastedBytes);
        w.WriteNumber("removableBytes", s.Overlay.RemovableBytes);
        w.WriteEndObject();
    }

    private static void Attributes(Utf8JsonWriter w, string name, EntryAttributes? a)
    {
        if (a is not { } x) { w.WriteNull(name); return; }
        w.WriteStartObject(name);
        w.WriteString("type", RootfsListing.TypeName(x.Type));
        w.WriteString("mode", Convert.ToString(x.Mode & 0xFFF, 8).PadLeft(4, '0'));
        w.WriteNumber("uid", x.Uid);
        w.WriteNumber("gid", x.Gid);
        w.WriteNumber("size", x.Type == FileType.File ? x.Size : 0);
        if (x.LinkTarget is not null) Core.PathText.WriteJson(w, "linkTarget", x.LinkTarget);
        w.WriteNumber("mtime", x.MTime);
        w.WriteEndObject();
    }
}
