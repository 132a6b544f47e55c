using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using LayerDive.Core.Analysis;

namespace LayerDive.Core.Reports;

/// <summary>The verdict of CI mode: the figures, and every rule's result.</summary>
public sealed record CiOutcome(string Image, ImageFigures Figures, MetricSet Metrics, IReadOnlyList<RuleResult> Rules)
{
    public bool Pass => Rules.All(r => r.Status != RuleStatus.Fail);
    public int Count(RuleStatus s) => Rules.Count(r => r.Status == s);
}

/// <summary>The CI report in each format: text (dive's shape), json, junit, markdown.</summary>
public static class CiReports
{
    public static readonly string[] Formats = ["text", "json", "junit", "markdown"];

    public static string Render(CiOutcome outcome, string format) => format switch
    {
        "json" => Json(outcome),
        "junit" => JUnit(outcome),
        "markdown" => Markdown(outcome),
        _ => Text(outcome),
    };

    private static string Percent(double ratio) => (ratio * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %";

    private static string StatusWord(RuleStatus s) => s switch
    {
        RuleStatus.Pass => "PASS",
        RuleStatus.Fail => "FAIL",
        _ => "SKIP",
    };

    /// <summary>
    /// dive's report shape: the three dive figures first under their own names (so log scrapers that
    /// read them keep working), the overlay figures after under names that do not collide with them.
    /// </summary>
    public static string Text(CiOutcome o)
    {
        var f = o.Figures;
        var sb = new StringBuilder();
        sb.Append("Analysis:\n");
        sb.Append($"  efficiency:        {Percent(f.Efficiency)}\n");
        sb.Append($"  wastedBytes:       {f.WastedBytes} bytes ({Units.HumanBytes(f.WastedBytes)})\n");
        sb.Append($"  userWastedPercent: {Percent(f.UserWastedPercent)}\n");
        sb.Append($"  removableBytes:    {f.RemovableBytes} bytes ({Units.HumanBytes(f.RemovableBytes)})\n");
        sb.Append($"  removablePercent:  {Percent(f.RemovablePercent)}\n");
        sb.Append($"  efficiencyOverlay: {Percent(f.OverlayEfficiency)}\n");
        sb.Append('\n');
        sb.Append("Inefficient Files:\n");
        sb.Append("  Count  Wasted Space  File Path\n");
        if (f.Dive.Inefficiencies.Count == 0) sb.Append("  None\n");
        foreach (var i in f.Dive.Inefficiencies)
            sb.Append($"  {i.Count,-5}  {Units.HumanBytes(i.CumulativeSize),-12}  {PathText.Escape(i.Path)}\n");
        if (f.Overlay.Items.Count > 0)
        {
            sb.Append('\n');
            sb.Append("Removable (overlay merge):\n");
            sb.Append("  Size          Stored by  Wasted by  Why           File Path\n");
            const int shown = 20;
            foreach (var r in f.Overlay.Items.Take(shown))
                sb.Append($"  {Units.HumanBytes(r.Bytes),-12}  {"layer " + r.StoredBy,-9}  {"layer " + r.WastedBy,-9}  {Reason(r.Reason),-12}  /{PathText.Escape(r.Path)}\n");
            if (f.Overlay.Items.Count > shown) sb.Append($"  ... and {f.Overlay.Items.Count - shown} more\n");
        }
        sb.Append('\n');
        sb.Append(o.Metrics == MetricSet.Overlay ? "Evaluation (overlay metrics):\n" : "Evaluation:\n");
        foreach (var r in o.Rules)
            sb.Append($"  {StatusWord(r.Status)}  {r.Setting.Key} ({r.Message})\n");
        sb.Append('\n');
        sb.Append($"{(o.Pass ? "PASS" : "FAIL")} [pass:{o.Count(RuleStatus.Pass)} fail:{o.Count(RuleStatus.Fail)} skip:{o.Count(RuleStatus.Skip)}]\n");
        return sb.ToString();
    }

    public static string Reason(WasteReason r) => r switch
    {
        WasteReason.Replaced => "replaced",
        WasteReason.RewrittenUnchanged => "rewritten",
        WasteReason.WhitedOut => "whiteout",
        WasteReason.Opaque => "opaque dir",
        _ => "parent gone",
    };

    public static string Json(CiOutcome o)
    {
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("image", o.Image);
            w.WriteBoolean("pass", o.Pass);
            w.WriteString("metrics", o.Metrics == MetricSet.Overlay ? "overlay" : "dive");
            w.WriteStartObject("tally");
            w.WriteNumber("pass", o.Count(RuleStatus.Pass));
            w.WriteNumber("fail", o.Count(RuleStatus.Fail));
            w.WriteNumber("skip", o.Count(RuleStatus.Skip));
            w.WriteEndObject();
            w.WriteStartArray("rules");
            foreach (var r in o.Rules)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Setting.Key);
                w.WriteString("status", StatusWord(r.Status).ToLowerInvariant());
                w.WriteString("threshold", r.Setting.Text);
                w.WriteString("message", r.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("dive");
            WriteDive(w, o.Figures.Dive);
            w.WritePropertyName("overlay");
            WriteOverlay(w, o.Figures.Overlay);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    internal static void WriteDive(Utf8JsonWriter w, DiveMetricsResult d)
    {
        w.WriteStartObject();
        w.WriteNumber("efficiency", d.Efficiency);
        w.WriteNumber("sizeBytes", d.SizeBytes);
        w.WriteNumber("userSizeBytes", d.UserSizeBytes);
        w.WriteNumber("wastedBytes", d.WastedBytes);
        w.WriteNumber("userWastedPercent", d.UserWastedPercent);
        WriteFileReferences(w, "inefficientFiles", d.Inefficiencies);
        w.WriteEndObject();
    }

    /// <summary>dive's file references: count, sizeBytes (every copy), file.</summary>
    internal static void WriteFileReferences(Utf8JsonWriter w, string property, IEnumerable<Inefficiency> inefficiencies)
    {
        w.WriteStartArray(property);
        foreach (var i in inefficiencies)
        {
            w.WriteStartObject();
            w.WriteNumber("count", i.Count);
            w.WriteNumber("sizeBytes", i.CumulativeSize);
            w.WriteString("file", i.Path);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    internal static void WriteOverlay(Utf8JsonWriter w, OverlayMetricsResult m)
    {
        w.WriteStartObject();
        w.WriteNumber("removableBytes", m.RemovableBytes);
        w.WriteNumber("overlayEfficiency", m.OverlayEfficiency);
        w.WriteNumber("removablePercent", m.RemovablePercent);
        w.WriteStartArray("removable");
        foreach (var r in m.Items)
        {
            w.WriteStartObject();
            w.WriteString("path", "/" + r.Path);
            w.WriteNumber("bytes", r.Bytes);
            w.WriteNumber("storedByLayer", r.StoredBy);
            w.WriteNumber("wastedByLayer", r.WastedBy);
            w.WriteString("reason", r.Reason switch
            {
                WasteReason.Replaced => "replaced",
                WasteReason.RewrittenUnchanged => "rewritten-unchanged",
                WasteReason.WhitedOut => "whiteout",
                WasteReason.Opaque => "opaque-directory",
                _ => "parent-replaced",
            });
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>JUnit XML: one test case per rule, a failure where the rule failed, skipped where disabled.</summary>
    public static string JUnit(CiOutcome o)
    {
        var suite = new XElement("testsuite",
            new XAttribute("name", "layerdive: " + o.Image),
            new XAttribute("tests", o.Rules.Count),
            new XAttribute("failures", o.Count(RuleStatus.Fail)),
            new XAttribute("errors", 0),
            new XAttribute("skipped", o.Count(RuleStatus.Skip)),
            o.Rules.Select(r => new XElement("testcase",
                new XAttribute("classname", "layerdive.rules"),
                new XAttribute("name", r.Setting.Key),
                r.Status switch
                {
                    RuleStatus.Fail => new XElement("failure", new XAttribute("message", r.Message), new XAttribute("type", "threshold"), r.Message),
                    RuleStatus.Skip => new XElement("skipped", new XAttribute("message", "rule disabled")),
                    _ => new XElement("system-out", $"threshold {r.Setting.Text}: passed"),
                })),
            new XElement("system-out", Text(o)));
        var doc = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", suite));
        return doc.Declaration + "\n" + doc.Root + "\n";
    }

    /// <summary>A summary for a CI job page: the verdict, the rules, the figures, the top waste.</summary>
    public static string Markdown(CiOutcome o)
    {
        var f = o.Figures;
        string Cell(string s) => s.Replace("|", "\\|");
        var sb = new StringBuilder();
        sb.Append($"### LayerDive: `{Cell(o.Image)}` — {(o.Pass ? "PASS" : "FAIL")}\n\n");
        sb.Append("| Rule | Status | Threshold | Detail |\n|---|---|---|---|\n");
        foreach (var r in o.Rules)
            sb.Append($"| {r.Setting.Key} | {StatusWord(r.Status)} | {Cell(r.Setting.Text)} | {(r.Status == RuleStatus.Fail ? Cell(r.Message) : "")} |\n");
        sb.Append("\n| Metric | Value |\n|---|---|\n");
        sb.Append($"| efficiency | {Percent(f.Efficiency)} |\n");
        sb.Append($"| wastedBytes | {f.WastedBytes} ({Units.HumanBytes(f.WastedBytes)}) |\n");
        sb.Append($"| userWastedPercent | {Percent(f.UserWastedPercent)} |\n");
        sb.Append($"| removableBytes (overlay) | {f.RemovableBytes} ({Units.HumanBytes(f.RemovableBytes)}) |\n");
        sb.Append($"| removablePercent (overlay) | {Percent(f.RemovablePercent)} |\n");
        sb.Append($"| efficiency (overlay) | {Percent(f.OverlayEfficiency)} |\n");
        if (f.Dive.Inefficiencies.Count > 0)
        {
            sb.Append("\n| Count | Wasted Space | File Path |\n|---|---|---|\n");
            foreach (var i in f.Dive.Inefficiencies.Take(10))
                sb.Append($"| {i.Count} | {Units.HumanBytes(i.CumulativeSize)} | `{Cell(i.Path)}` |\n");
            if (f.Dive.Inefficiencies.Count > 10) sb.Append($"\n{f.Dive.Inefficiencies.Count - 10} more inefficient files.\n");
        }
        return sb.ToString();
    }
}
