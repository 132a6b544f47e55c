using System.Text.Json;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Analysis.Advice;

/// <summary>The advice written out: as text for a terminal, as markdown for a pull request, as JSON for tools.</summary>
public static class AdviceReport
{
    /// <summary>The kind as the reports name it ("removed later", ...), in the current language.</summary>
    public static string KindLabel(AdviceKind kind) => Text.Lookup(Strings.ResourceManager, "Advice_Kind" + kind);

    /// <summary>The kind's id in JSON and JUnit ("removed-later", ...).</summary>
    public static string KindId(AdviceKind kind) => kind switch
    {
        AdviceKind.Secret => "secret",
        AdviceKind.CopiedUpUnchanged => "copied-up-unchanged",
        AdviceKind.Rewritten => "rewritten",
        AdviceKind.RemovedLater => "removed-later",
        AdviceKind.PackageCache => "package-cache",
        AdviceKind.BuildOnly => "build-only",
        _ => "duplicates",
    };

    private static string Saves(Finding f) =>
        f.CompressedBytes is long c
            ? Text.Fill(Strings.Advice_SavesCompressed, Text.Fill(Strings.Advice_Saves, Units.HumanBytes(f.Bytes)), Units.HumanBytes(c))
            : Text.Fill(Strings.Advice_Saves, Units.HumanBytes(f.Bytes));

    private static string Step(AdviceStep s) =>
        Text.Fill(s.BaseImage ? Strings.Advice_BaseLayer : Strings.Advice_Layer, s.Layer, s.Instruction.Length == 0 ? Strings.Advice_NoHistory : s.Instruction);

    /// <summary>The finding's kind as a heading names it, with its rule where the kind has several ("package manager cache (pip)").</summary>
    public static string Title(Finding f) => f.Kind is AdviceKind.PackageCache or AdviceKind.BuildOnly or AdviceKind.Secret
        ? $"{KindLabel(f.Kind)} ({f.Rule.ToLowerInvariant()})" : KindLabel(f.Kind);

    /// <summary>One line: how many findings and what they save, against <paramref name="imageBytes"/> (the layers' uncompressed sizes) where given.</summary>
    public static string Summary(string name, long? imageBytes, AdviceResult advice) =>
        advice.Findings.Count == 0
            ? Text.Fill(Strings.Advice_None, Printable.OneLine(name))
            : imageBytes is long all and > 0
                ? Text.Fill(advice.Findings.Count == 1 ? Strings.Advice_HeaderOne : Strings.Advice_Header, Printable.OneLine(name), advice.Findings.Count,
                    Units.HumanBytes(advice.TotalBytes), Units.Percent((double)advice.TotalBytes / all), Units.HumanBytes(all))
                : Text.Fill(advice.Findings.Count == 1 ? Strings.Advice_HeaderShortOne : Strings.Advice_HeaderShort, Printable.OneLine(name),
                    advice.Findings.Count, Units.HumanBytes(advice.TotalBytes));

    private static long ImageBytes(ImageModel model) => model.Layers.Sum(l => l.UncompressedSize);

    /// <summary>Plain text: a summary line, then each finding with its steps, paths, reason and fix.</summary>
    public static void WriteText(ImageModel model, AdviceResult advice, TextWriter w)
    {
        w.WriteLine(Summary(model.Name, ImageBytes(model), advice));
        int n = 0;
        foreach (var f in advice.Findings)
        {
            w.WriteLine();
            w.WriteLine($"{++n}. {Title(f)}: {Saves(f)}");
            foreach (var line in Lines(f).Skip(1)) w.WriteLine("   " + line);
        }
        if (!advice.ContentChecked) { w.WriteLine(); w.WriteLine(Strings.Advice_MarkersNotRead); }
    }

    /// <summary>One finding as lines of text: what it saves, its steps, its paths, why, and the fix (indented).</summary>
    public static IEnumerable<string> Lines(Finding f)
    {
        yield return $"{Title(f)}: {Saves(f)}";
        if (f.RemovedIn is int gone) yield return Text.Fill(Strings.Advice_DeletedIn, gone, f.Steps[0].Layer);
        foreach (var s in f.Steps) yield return Step(s);
        foreach (var p in f.Paths)
            yield return $"{Units.HumanBytes(p.Bytes),9}  {PathText.Escape(p.Path)}" + (p.SameAs is null ? "" : "  (" + Text.Fill(Strings.Advice_SameAs, PathText.Escape(p.SameAs)) + ")");
        if (f.PathCount > f.Paths.Count) yield return Text.Fill(Strings.Advice_MorePaths, f.PathCount - f.Paths.Count, Units.HumanBytes(f.MoreBytes));
        yield return $"{Strings.Advice_WhyLabel}: {f.Why}";
        yield return $"{Strings.Advice_FixLabel}:";
        foreach (var line in f.Fix.Split('\n')) yield return "  " + line;
    }

    /// <summary>Markdown: a heading per finding, its paths in a table and its fix in a dockerfile block (for a pull request comment).</summary>
    public static void WriteMarkdown(ImageModel model, AdviceResult advice, TextWriter w) => WriteMarkdown(model.Name, ImageBytes(model), advice, w);

    /// <summary>The markdown of <see cref="WriteMarkdown(ImageModel, AdviceResult, TextWriter)"/>, headings from <paramref name="headingLevel"/>, the first <paramref name="maxFindings"/> findings.</summary>
    public static void WriteMarkdown(string name, long? imageBytes, AdviceResult advice, TextWriter w, int headingLevel = 2, int maxFindings = int.MaxValue)
    {
        var h = new string('#', headingLevel);
        w.WriteLine($"{h} {Md(Summary(name, imageBytes, advice))}");
        int n = 0;
        foreach (var f in advice.Findings.Take(maxFindings))
        {
            w.WriteLine();
            w.WriteLine($"{h}# {++n}. {Md(Title(f))}: {Md(Saves(f))}");
            w.WriteLine();
            if (f.RemovedIn is int gone) w.WriteLine($"**{Md(Text.Fill(Strings.Advice_DeletedIn, gone, f.Steps[0].Layer))}**\n");
            foreach (var s in f.Steps) w.WriteLine($"- {Md(Step(s))}");
            w.WriteLine();
            w.WriteLine("| | |");
            w.WriteLine("|---:|---|");
            foreach (var p in f.Paths)
                w.WriteLine($"| {Units.HumanBytes(p.Bytes)} | `{Code(p.Path)}`" + (p.SameAs is null ? "" : $" ({Md(Text.Fill(Strings.Advice_SameAs, ""))}`{Code(p.SameAs)}`)") + " |");
            if (f.PathCount > f.Paths.Count) w.WriteLine($"| {Units.HumanBytes(f.MoreBytes)} | {Md(Text.Fill(Strings.Advice_MorePaths, f.PathCount - f.Paths.Count, Units.HumanBytes(f.MoreBytes)))} |");
            w.WriteLine();
            w.WriteLine($"{Md(Strings.Advice_WhyLabel)}: {Md(f.Why)}");
            w.WriteLine();
            w.WriteLine("```dockerfile");
            w.WriteLine(f.Fix.Replace("```", "'''"));
            w.WriteLine("```");
        }
        if (advice.Findings.Count > maxFindings) { w.WriteLine(); w.WriteLine(Md(Text.Fill(advice.Findings.Count - maxFindings == 1 ? Strings.Advice_MoreFindingsOne : Strings.Advice_MoreFindings, advice.Findings.Count - maxFindings))); }
        if (!advice.ContentChecked) { w.WriteLine(); w.WriteLine(Md(Strings.Advice_MarkersNotRead)); }
    }

    /// <summary>The advice as one JSON object (the <c>advise --format json</c> document, and <c>layerdive.advice</c> of the export).</summary>
    public static void WriteJson(Utf8JsonWriter w, AdviceResult advice)
    {
        w.WriteStartObject();
        w.WriteString("pathEncoding", PathText.JsonPathEncoding);
        w.WriteNumber("totalBytes", advice.TotalBytes);
        if (advice.TotalCompressedBytes is long c) w.WriteNumber("totalCompressedBytes", c);
        else w.WriteNull("totalCompressedBytes");
        w.WriteBoolean("contentChecked", advice.ContentChecked);
        w.WritePropertyName("findings");
        WriteFindings(w, advice);
        w.WriteEndObject();
    }

    /// <summary>The findings as a JSON array.</summary>
    public static void WriteFindings(Utf8JsonWriter w, AdviceResult advice)
    {
        w.WriteStartArray();
        foreach (var f in advice.Findings)
        {
            w.WriteStartObject();
            w.WriteString("kind", KindId(f.Kind));
            w.WriteString("rule", f.Rule);
            w.WriteNumber("bytes", f.Bytes);
            if (f.CompressedBytes is long cb) w.WriteNumber("compressedBytes", cb);
            else w.WriteNull("compressedBytes");
            if (f.RemovedIn is int gone) w.WriteNumber("removedInLayer", gone);
            w.WriteStartArray("steps");
            foreach (var s in f.Steps)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", s.Layer);
                w.WriteString("instruction", s.Instruction);
                w.WriteBoolean("baseImage", s.BaseImage);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("paths");
            foreach (var p in f.Paths)
            {
                w.WriteStartObject();
                PathText.WriteJson(w, "path", p.Path);
                w.WriteNumber("bytes", p.Bytes);
                w.WriteNumber("layer", p.Layer);
                if (p.SameAs is not null) PathText.WriteJson(w, "sameAs", p.SameAs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("pathCount", f.PathCount);
            w.WriteNumber("moreBytes", f.MoreBytes);
            w.WriteString("why", f.Why);
            w.WriteString("fix", f.Fix);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Text safe in markdown: control characters escaped, markup characters backslashed.</summary>
    internal static string Md(string s)
    {
        var t = Printable.OneLine(s);
        var sb = new System.Text.StringBuilder(t.Length);
        foreach (char ch in t)
        {
            if (ch is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '#') sb.Append('\\');
            sb.Append(ch);
        }
        return sb.ToString();
    }

    private static string Code(string s) => PathText.Escape(s).Replace("`", "'").Replace("|", "\\|");
}
