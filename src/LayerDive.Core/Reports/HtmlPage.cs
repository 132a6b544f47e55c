using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Reports;

/// <summary>
/// What the HTML reports share: the escaping of text an image chose, the page's style and its script
/// (a squarified treemap, a few kilobytes written here: the page loads nothing from elsewhere).
/// </summary>
internal static class HtmlPage
{
    /// <summary>
    /// Text an image chose, made printable and valid UTF-16: control characters and bytes that are not
    /// UTF-8 as escapes (a path as <see cref="PathText.Escape"/> writes it), any other lone surrogate as
    /// <c>\uXXXX</c> (a config's JSON may carry one; the page is UTF-8 and could not hold it).
    /// </summary>
    public static string Clean(string text, bool path = false)
    {
        var s = path ? PathText.Escape(text) : Printable.OneLine(text);
        int i = 0;
        for (; i < s.Length; i++)
            if (char.IsSurrogate(s[i])) break;
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 8).Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) sb.Append(c).Append(s[++i]);
            else if (char.IsSurrogate(c)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static readonly HtmlEncoder Markup = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>Text for an element's content or an attribute's value (quoted with <c>"</c>): cleaned, then every character HTML reads as markup escaped.</summary>
    public static string H(string text, bool path = false) => Markup.Encode(Clean(text, path));

    /// <summary>A path as the reports show it: "/" and the path, escaped.</summary>
    public static string P(string path) => H("/" + path, path: true);

    /// <summary>
    /// JSON for a <c>&lt;script type="application/json"&gt;</c> element: every <c>&lt;</c>, <c>&gt;</c>,
    /// <c>&amp;</c> and quote escaped as <c>\uXXXX</c>, so no text in it can end the element.
    /// </summary>
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    public static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);

    // the page's style and script, kept beside this file (Reports/report.css, Reports/report.js) and built into the assembly
    private static readonly string Style = Embedded("report.css");
    private static readonly string Script = Embedded("report.js");

    private static string Embedded(string name)
    {
        using var stream = typeof(HtmlPage).Assembly.GetManifestResourceStream("LayerDive.Core.Reports." + name)
            ?? throw new InvalidOperationException(name + " is not built into the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The page's head: the title, the style. The language is the texts' (en or ru).</summary>
    public static void Start(StringBuilder sb, string title)
    {
        var lang = CultureInfo.CurrentUICulture.Name.StartsWith("ru", StringComparison.Ordinal) ? "ru" : "en";
        sb.Append("<!DOCTYPE html>\n<html lang=\"").Append(lang).Append("\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          // nothing may come from elsewhere: the policy says so to the browser too
          .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
          .Append("<meta name=\"color-scheme\" content=\"light dark\">\n")
          .Append("<title>").Append(H(title)).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
    }

    /// <summary>The page's end: the data for the script, and the script.</summary>
    public static void End(StringBuilder sb, string? dataJson)
    {
        if (dataJson is not null)
        {
            sb.Append("<script type=\"application/json\" id=\"ld-data\">").Append(dataJson).Append("</script>\n");
            sb.Append("<script>\n").Append(Script).Append("</script>\n");
        }
        sb.Append("</body>\n</html>\n");
    }

    /// <summary>
    /// A treemap's section up to its legend: the title, what the map shows, what was folded (items below
    /// <paramref name="threshold"/> drawn one box a directory), the path bar and the box the script draws in.
    /// </summary>
    public static void TreemapStart(StringBuilder sb, string title, string intro, string alt,
        (long Threshold, long Items, long Bytes, int Boxes) folded)
    {
        sb.Append("<section id=\"treemap\">\n<h2>").Append(H(title)).Append("</h2>\n");
        sb.Append("<p class=\"note\">").Append(H(intro)).Append("</p>\n");
        sb.Append("<p class=\"note\" id=\"folded\">").Append(H(folded.Items == 0
            ? Strings.Report_NothingFolded
            : Text.Fill(Strings.Report_Folded, Units.HumanBytes(folded.Threshold), folded.Items, Units.HumanBytes(folded.Bytes), folded.Boxes))).Append("</p>\n");
        sb.Append("<div id=\"tm-bar\"><button type=\"button\" id=\"tm-back\">").Append(H(Strings.Report_Back)).Append("</button><span id=\"tm-path\"></span></div>\n");
        sb.Append("<div id=\"tm\" role=\"img\" aria-label=\"").Append(H(alt)).Append("\"><noscript><p class=\"note\">")
          .Append(H(Strings.Report_NoScript)).Append("</p></noscript></div>\n");
    }

    /// <summary>A table of rows already escaped; the header cells name the columns, numeric columns align right.</summary>
    public static void Table(StringBuilder sb, string id, string caption, string[] header, IEnumerable<string[]> rows, Func<int, bool>? numeric = null)
    {
        sb.Append("<table id=\"").Append(id).Append("\">\n<caption>").Append(H(caption)).Append("</caption>\n<thead><tr>");
        for (int c = 0; c < header.Length; c++)
            sb.Append("<th scope=\"col\"").Append(numeric?.Invoke(c) == true ? " class=\"num\"" : "").Append('>').Append(H(header[c])).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int c = 0; c < row.Length; c++)
                sb.Append(numeric?.Invoke(c) == true ? "<td class=\"num\">" : "<td>").Append(row[c]).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
    }
}
