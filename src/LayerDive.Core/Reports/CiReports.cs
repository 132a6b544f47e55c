using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using LayerDive.Core.Analysis;
using LayerDive.Core.Analysis.Advice;

namespace LayerDive.Core.Reports;

/// <summary>
/// What dive's text says besides the figures: the rules file used (null: dive's defaults), the source
/// as <c>KIND://IMAGE</c>, the name of what extracted it (dive's resolver names: docker-archive,
/// docker-engine, podman), and whether to use ANSI styles.
/// </summary>
internal sealed record CiTextContext(string? ConfigFile, string Source, string Resolver, bool Color)
{
    /// <summary>dive's configuration file when one was found (dive says so first).</summary>
    public string? DiveConfigFile { get; init; }
}

/// <summary>The verdict of CI mode: the figures, and every rule's result.</summary>
internal sealed record CiOutcome(string Image, ImageFigures Figures, MetricSet Metrics, IReadOnlyList<RuleResult> Rules, ImageFigures? Before = null, string? BeforeImage = null)
{
    /// <summary>The advice rules' results (highest-avoidable-bytes, secrets), judged beside dive's rules and reported in LayerDive's section.</summary>
    public IReadOnlyList<RuleResult> AdviceRules { get; init; } = [];

    /// <summary>The verdict: every rule, dive's and the advice's.</summary>
    public bool Pass => DivePass && AdviceRules.All(r => r.Status != RuleStatus.Fail);

    /// <summary>dive's verdict alone (its Result line).</summary>
    public bool DivePass => Rules.All(r => r.Status != RuleStatus.Fail);

    public int Count(RuleStatus s) => Rules.Count(r => r.Status == s);

    /// <summary>Every rule: dive's, then the advice's.</summary>
    public IEnumerable<RuleResult> AllRules => Rules.Concat(AdviceRules);
}

/// <summary>The CI report in each format: text (dive's shape), json, junit, markdown.</summary>
internal static class CiReports
{
    public static readonly string[] Formats = ["text", "json", "junit", "markdown", "html"];

    public static string Render(CiOutcome outcome, string format, CiTextContext? context = null) => format switch
    {
        "json" => Json(outcome),
        "junit" => JUnit(outcome),
        "markdown" => Markdown(outcome),
        _ => Text(outcome, context is null ? null : context with { Color = false }),
    };

    /// <summary>A ratio in JSON: a number, or dive's word for it ("NaN", "+Inf") where there is no number.</summary>
    internal static void WriteRatio(Utf8JsonWriter w, string name, double ratio)
    {
        if (double.IsFinite(ratio)) w.WriteNumber(name, ratio);
        else w.WriteString(name, CiRules.Go(ratio));
    }

    private static string StatusWord(RuleStatus s) => s switch
    {
        RuleStatus.Pass => "PASS",
        RuleStatus.Fail => "FAIL",
        _ => "SKIP",
    };

    /// <summary>
    /// dive's CI text, line for line as dive v0.13.1 prints it (<c>runtime/run.go</c>, <c>runtime/ci</c>):
    /// the config line, the source and extraction lines, the three figures with <c>%2.4f</c>, the
    /// inefficient files in dive's columns, the rules sorted by name with dive's messages, and the
    /// Result line; then LayerDive's own figures in a section of their own. ANSI styles only when
    /// <see cref="CiTextContext.Color"/> (a terminal).
    /// </summary>
    public static string Text(CiOutcome o, CiTextContext? context = null)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        WriteText(o, text, context);
        return text.ToString();
    }

    /// <summary>
    /// <see cref="Text"/> written as it is made: the inefficient files are a line each (98,000 on a
    /// million-file image), never held whole.
    /// </summary>
    public static void WriteText(CiOutcome o, TextWriter w, CiTextContext? context = null)
    {
        var c = context ?? new CiTextContext(null, o.Image, "docker-archive", false);
        var f = o.Figures;
        string Title(string s) => c.Color ? $"\u001b[1m{s}\u001b[0m" : s;
        if (c.DiveConfigFile is not null) w.Put($"Using config file: {c.DiveConfigFile}\n");
        w.Put(c.ConfigFile is null ? "  Using default CI config\n" : $"  Using CI config: {c.ConfigFile}\n");
        w.Put(Title("Image Source: ")).Put(c.Source).Put('\n');
        w.Put(Title($"Extracting image from {c.Resolver}...")).Put(" (this can take a while for large images)\n");
        w.Put(Title("Analyzing image...")).Put('\n');
        w.Put($"  efficiency: {GoPercent(f.Efficiency)} %\n");
        w.Put($"  wastedBytes: {f.WastedBytes} bytes ({Units.HumanBytes(f.WastedBytes)})\n");
        w.Put($"  userWastedPercent: {GoPercent(f.UserWastedPercent)} %\n");
        if (o.Before is { } a)
        {
            // diff --ci: B against A
            w.Put(Title($"Compared with {o.BeforeImage}:")).Put('\n');
            w.Put($"  sizeGrowth: {a.Dive.SizeBytes} -> {f.Dive.SizeBytes} bytes ({Units.SignedBytes(f.Dive.SizeBytes - a.Dive.SizeBytes)})\n");
            w.Put($"  wastedGrowth: {a.WastedBytes} -> {f.WastedBytes} bytes ({Units.SignedBytes(f.WastedBytes - a.WastedBytes)})\n");
            w.Put($"  removableGrowth: {a.RemovableBytes} -> {f.RemovableBytes} bytes ({Units.SignedBytes(f.RemovableBytes - a.RemovableBytes)})\n");
            w.Put($"  efficiency: {GoPercent(a.Efficiency)} % -> {GoPercent(f.Efficiency)} %\n");
        }
        w.Put(Title("Inefficient Files:")).Put('\n');
        w.Put($"{"Count",5}  {"Wasted Space",12}  File Path\n");
        if (f.Dive.Inefficiencies.Count == 0) w.Put("None\n");
        WriteInefficientRows(f.Dive.Inefficiencies, w);
        w.Put(Title("Results:")).Put('\n');
        foreach (var r in o.Rules.OrderBy(r => r.Setting.Key, StringComparer.Ordinal))
        {
            var (word, message) = r.Status switch
            {
                RuleStatus.Pass => ("PASS", ""),
                RuleStatus.Fail => (c.Color ? "\u001b[1;7;31mFAIL\u001b[0m" : "FAIL", r.Message),
                _ => (c.Color ? "\u001b[34mSKIP\u001b[0m" : "SKIP", "rule disabled"),
            };
            w.Put($"  {word}: {r.Setting.Key}").Put(message.Length > 0 ? ": " + message : "").Put('\n');
        }
        var summary = $"Result:{(o.DivePass ? "PASS" : "FAIL")} [Total:{o.Rules.Count}] [Passed:{o.Count(RuleStatus.Pass)}] [Failed:{o.Count(RuleStatus.Fail)}] [Warn:0] [Skipped:{o.Count(RuleStatus.Skip)}]";
        w.Put(c.Color ? $"\u001b[{(o.DivePass ? 32 : 31)}m{summary}\u001b[0m" : summary).Put("\n\n");

        // LayerDive's own figures: the real merge's accounting
        w.Put(Title(o.Metrics == MetricSet.Overlay ? "LayerDive (the rules above judged these overlay figures):" : "LayerDive:")).Put('\n');
        w.Put($"  removableBytes: {f.RemovableBytes} bytes ({Units.HumanBytes(f.RemovableBytes)})\n");
        w.Put($"  removablePercent: {GoPercent(f.RemovablePercent)} %\n");
        w.Put($"  efficiencyOverlay: {GoPercent(f.OverlayEfficiency)} %\n");
        if (f.Overlay.Items.Count > 0)
        {
            w.Put(Title("Removable (overlay merge):")).Put('\n');
            w.Put($"{"Size",12}  {"Stored by",-9}  {"Wasted by",-9}  {"Why",-11}  File Path\n");
            const int shown = 20;
            foreach (var r in f.Overlay.Items.Take(shown))
                w.Put($"{Units.HumanBytes(r.Bytes),12}  {"layer " + r.StoredBy,-9}  {"layer " + r.WastedBy,-9}  {Reason(r.Reason),-11}  /{PathText.Escape(r.Path)}\n");
            if (f.Overlay.Items.Count > shown) w.Put($"  ... and {f.Overlay.Items.Count - shown} more\n");
        }
        if (f.Advice is { } advice)
        {
            w.Put(Title($"Advice (layerdive advise): {advice.Findings.Count} finding{(advice.Findings.Count == 1 ? "" : "s")}, {advice.TotalBytes} bytes avoidable ({Units.HumanBytes(advice.TotalBytes)})")).Put('\n');
            const int shownFindings = 10;
            foreach (var finding in advice.Findings.Take(shownFindings))
                w.Put($"{Units.HumanBytes(finding.Bytes),12}  {AdviceReport.KindId(finding.Kind),-19}  {string.Join(",", finding.Steps.Select(s => s.Layer)),-9}  {PathText.Escape(finding.Paths[0].Path)}")
                    .Put(finding.PathCount > 1 ? $" (+{finding.PathCount - 1} more)" : "").Put('\n');
            if (advice.Findings.Count > shownFindings) w.Put($"  ... and {advice.Findings.Count - shownFindings} more\n");
        }
        if (o.AdviceRules.Count > 0)
        {
            w.Put(Title("Advice rules:")).Put('\n');
            foreach (var r in o.AdviceRules)
            {
                var word = r.Status switch { RuleStatus.Pass => "PASS", RuleStatus.Fail => c.Color ? "\u001b[1;7;31mFAIL\u001b[0m" : "FAIL", _ => c.Color ? "\u001b[34mSKIP\u001b[0m" : "SKIP" };
                w.Put($"  {word}: {r.Setting.Key}").Put(r.Status == RuleStatus.Pass ? "" : ": " + (r.Status == RuleStatus.Skip && r.Message == "disabled" ? "rule disabled" : r.Message)).Put('\n');
            }
            if (o.DivePass && !o.Pass) w.Put("LayerDive result:FAIL (advice rules)\n");
        }
    }

    private static TextWriter Put(this TextWriter w, string? text)
    {
        w.Write(text);
        return w;
    }

    private static TextWriter Put(this TextWriter w, char c)
    {
        w.Write(c);
        return w;
    }

    /// <summary>The inefficient files in dive's columns, a line each.</summary>
    private static void WriteInefficientRows(IReadOnlyList<Inefficiency> inefficiencies, TextWriter w)
    {
        // sorted by size: a run of equal sizes (often the whole list) is put in words once
        (long Bytes, string Words) last = (-1, "");
        Span<char> line = stackalloc char[32];
        var path = new char[256];
        foreach (var i in inefficiencies)
        {
            if (i.CumulativeSize != last.Bytes) last = (i.CumulativeSize, $"{Units.HumanBytes(i.CumulativeSize),12}");
            if (line.TryWrite(CultureInfo.InvariantCulture, $"{i.Count,5}  {last.Words}  ", out int n)) w.Write(line[..n]);
            else w.Write($"{i.Count,5}  {last.Words}  "); // longer than dive's columns ever are: never cut
            i.WriteEscapedPath(w, ref path);
            w.Write('\n');
        }
    }

    /// <summary>A ratio as a percentage the way Go's <c>%2.4f</c> prints it: four decimals, <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>.</summary>
    public static string GoPercent(double ratio)
    {
        double v = ratio * 100;
        return double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf"
            : v.ToString("0.0000", CultureInfo.InvariantCulture);
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
            w.WriteNumber("pass", o.AllRules.Count(r => r.Status == RuleStatus.Pass));
            w.WriteNumber("fail", o.AllRules.Count(r => r.Status == RuleStatus.Fail));
            w.WriteNumber("skip", o.AllRules.Count(r => r.Status == RuleStatus.Skip));
            w.WriteEndObject();
            w.WriteStartArray("rules");
            foreach (var r in o.AllRules)
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
            if (o.Figures.Advice is { } advice)
            {
                w.WritePropertyName("advice");
                AdviceReport.WriteJson(w, advice);
            }
            if (o.Before is { } a)
            {
                w.WriteStartObject("before");
                w.WriteString("image", o.BeforeImage);
                w.WritePropertyName("dive");
                WriteDive(w, a.Dive);
                w.WritePropertyName("overlay");
                WriteOverlay(w, a.Overlay);
                w.WriteEndObject();
            }
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
        WriteRatio(w, "userWastedPercent", d.UserWastedPercent);
        WriteFileReferences(w, "inefficientFiles", d.Inefficiencies);
        w.WriteEndObject();
    }

    /// <summary>Hands what the writer holds to its stream now and then: a long list is never held whole.</summary>
    internal static void FlushSome(Utf8JsonWriter w)
    {
        if (w.BytesPending > 1 << 16) w.Flush();
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
            PathText.WriteJson(w, "file", i.Path);
            w.WriteEndObject();
            FlushSome(w);
        }
        w.WriteEndArray();
    }

    internal static void WriteOverlay(Utf8JsonWriter w, OverlayMetricsResult m)
    {
        w.WriteStartObject();
        w.WriteNumber("removableBytes", m.RemovableBytes);
        w.WriteNumber("overlayEfficiency", m.OverlayEfficiency);
        WriteRatio(w, "removablePercent", m.RemovablePercent);
        w.WriteStartArray("removable");
        foreach (var r in m.Items)
        {
            w.WriteStartObject();
            PathText.WriteJson(w, "path", "/" + r.Path);
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
            FlushSome(w);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>JUnit XML: one test case per rule, a failure where the rule failed, skipped where disabled.</summary>
    public static string JUnit(CiOutcome o)
    {
        var adviceCases = AdviceCases(o).ToList();
        var rules = o.AllRules.ToList();
        var suite = new XElement("testsuite",
            new XAttribute("name", "layerdive: " + o.Image),
            new XAttribute("tests", rules.Count + adviceCases.Count),
            new XAttribute("failures", rules.Count(r => r.Status == RuleStatus.Fail) + adviceCases.Count(c => c.Element("failure") is not null)),
            new XAttribute("errors", 0),
            new XAttribute("skipped", rules.Count(r => r.Status == RuleStatus.Skip)),
            rules.Select(r => new XElement("testcase",
                new XAttribute("classname", "layerdive.rules"),
                new XAttribute("name", r.Setting.Key),
                r.Status switch
                {
                    RuleStatus.Fail => new XElement("failure", new XAttribute("message", r.Message), new XAttribute("type", "threshold"), r.Message),
                    RuleStatus.Skip => new XElement("skipped", new XAttribute("message", "rule disabled")),
                    _ => new XElement("system-out", $"threshold {r.Setting.Text}: passed"),
                })),
            adviceCases,
            new XElement("system-out", Text(o)));
        var doc = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", suite));
        return doc.Declaration + "\n" + doc.Root + "\n";
    }

    /// <summary>
    /// One test case per kind of finding (classname <c>layerdive.advice</c>): its findings in system-out;
    /// the secret kind fails where secrets were found and the secrets rule is on, the other kinds are advice and pass.
    /// </summary>
    private static IEnumerable<XElement> AdviceCases(CiOutcome o)
    {
        if (o.Figures.Advice is not { } advice) yield break;
        bool secretsGate = o.AdviceRules.Any(r => r.Setting.Name == RuleName.Secrets && r.Status == RuleStatus.Fail);
        foreach (var kind in Enum.GetValues<AdviceKind>())
        {
            var found = advice.Findings.Where(f => f.Kind == kind).ToList();
            var lines = string.Join("\n", found.Select(f =>
                $"{f.Bytes} bytes: layers {string.Join(",", f.Steps.Select(s => s.Layer))}: {PathText.Escape(f.Paths[0].Path)}{(f.PathCount > 1 ? $" (+{f.PathCount - 1} more)" : "")}"));
            var summary = found.Count == 0 ? "no finding" : $"{found.Count} finding(s), {found.Sum(f => f.Bytes)} bytes avoidable";
            yield return new XElement("testcase",
                new XAttribute("classname", "layerdive.advice"),
                new XAttribute("name", AdviceReport.KindId(kind)),
                kind == AdviceKind.Secret && secretsGate && found.Count > 0
                    ? new XElement("failure", new XAttribute("message", summary), new XAttribute("type", "secret"), lines)
                    : new XElement("system-out", found.Count == 0 ? summary : summary + "\n" + lines));
        }
    }

    /// <summary>A summary for a CI job page: the verdict, the rules, the figures, the top waste.</summary>
    public static string Markdown(CiOutcome o)
    {
        var f = o.Figures;
        var sb = new StringBuilder();
        sb.Append($"### LayerDive: {MarkdownCode(o.Image, inTable: false)} — {(o.Pass ? "PASS" : "FAIL")}\n\n");
        sb.Append("| Rule | Status | Threshold | Detail |\n|---|---|---|---|\n");
        foreach (var r in o.AllRules)
            sb.Append($"| {r.Setting.Key} | {StatusWord(r.Status)} | {MarkdownText(r.Setting.Text)} | {(r.Status == RuleStatus.Fail ? MarkdownText(r.Message) : "")} |\n");
        sb.Append("\n| Metric | Value |\n|---|---|\n");
        sb.Append($"| efficiency | {Units.Percent(f.Efficiency)} |\n");
        sb.Append($"| wastedBytes | {f.WastedBytes} ({Units.HumanBytes(f.WastedBytes)}) |\n");
        sb.Append($"| userWastedPercent | {Units.Percent(f.UserWastedPercent)} |\n");
        sb.Append($"| removableBytes (overlay) | {f.RemovableBytes} ({Units.HumanBytes(f.RemovableBytes)}) |\n");
        sb.Append($"| removablePercent (overlay) | {Units.Percent(f.RemovablePercent)} |\n");
        sb.Append($"| efficiency (overlay) | {Units.Percent(f.OverlayEfficiency)} |\n");
        if (f.Dive.Inefficiencies.Count > 0)
        {
            sb.Append("\n| Count | Wasted Space | File Path |\n|---|---|---|\n");
            foreach (var i in f.Dive.Inefficiencies.Take(10))
                sb.Append($"| {i.Count} | {Units.HumanBytes(i.CumulativeSize)} | {MarkdownCode(i.Path)} |\n");
            if (f.Dive.Inefficiencies.Count > 10) sb.Append($"\n{f.Dive.Inefficiencies.Count - 10} more inefficient files.\n");
        }
        if (f.Advice is { } advice)
        {
            sb.Append('\n');
            var writer = new StringWriter { NewLine = "\n" };
            AdviceReport.WriteMarkdown(o.Image, null, advice, writer, headingLevel: 4, maxFindings: 10);
            sb.Append(writer);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Text an image chose (a name, a path) as a code span that nothing in it can end: a fence of one
    /// backtick more than its longest run of backticks, spaces inside when it starts or ends with one
    /// (CommonMark's rule), control characters escaped (a newline would end the table row), and
    /// <c>|</c> escaped, as a table cell needs even inside a span. Raw HTML is not HTML inside a span.
    /// </summary>
    internal static string MarkdownCode(string text, bool inTable = true)
    {
        var s = Printable.OneLine(text);
        if (inTable) s = s.Replace("|", "\\|");
        int longest = 0, run = 0;
        foreach (char c in s)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        var fence = new string('`', longest + 1);
        var pad = s.Length == 0 || s[0] == '`' || s[^1] == '`' || (s[0] == ' ' && s[^1] == ' ') ? " " : "";
        return fence + pad + s + pad + fence;
    }

    /// <summary>Plain text in a table cell: every character Markdown or HTML would read as markup is escaped.</summary>
    internal static string MarkdownText(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in Printable.OneLine(text))
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '!' or '~' or '(' or ')': sb.Append('\\').Append(c); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
