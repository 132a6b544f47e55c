using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary><c>--ci-format html</c> and <c>diff A B --format html</c> (issue 30): the verdict in the page, and the comparison's figures.</summary>
public sealed class HtmlDiffReportTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void Ci_format_html_carries_the_verdict_and_every_rule()
    {
        var page = _dir.File("ci.html");
        var r = Tool.Run("--ci", Paths.Sample, "--ci-format", "html", "--ci-output", page, "-q", "--lowestEfficiency", "0.95", "--highestWastedBytes", "disabled");
        var json = Tool.Run("--ci", Paths.Sample, "--ci-format", "json", "-q", "--lowestEfficiency", "0.95", "--highestWastedBytes", "disabled");
        Assert.Equal(json.ExitCode, r.ExitCode);
        Assert.Contains("Result:", r.Stdout); // the text still goes to stdout
        var verdict = JsonDocument.Parse(json.Stdout).RootElement;
        var html = File.ReadAllText(page, new UTF8Encoding(false, true));
        Assert.Contains($"id=\"verdict\">{(verdict.GetProperty("pass").GetBoolean() ? "PASS" : "FAIL")}</span>", html);
        var rules = HtmlReportTests.Rows(html, "rules-table");
        Assert.Equal(verdict.GetProperty("rules").EnumerateArray().Select(x => (x.GetProperty("name").GetString()!, x.GetProperty("status").GetString()!.ToUpperInvariant(), x.GetProperty("threshold").GetString()!)),
            rules.Select(x => (x[0], x[1], x[2])));
        // the rest of the page is the report's
        Assert.Equal(HtmlReportTests.Rows(HtmlReportTests.Report(Paths.Sample, _dir.File("report.html")), "layers-table"), HtmlReportTests.Rows(html, "layers-table"));
        // and on stdout without --ci-output
        var stdout = Tool.Run("--ci", Paths.Sample, "--ci-format", "html", "-q");
        Assert.StartsWith("<!DOCTYPE html>", stdout.Stdout);
    }

    /// <summary>Two builds on one base: B adds, removes, grows, shrinks and rewrites a file each.</summary>
    private (string A, string B) Builds()
    {
        void Base(LayerBuilder l) => l.Dir("etc").File("etc/os-release", "base\n").Dir("usr").Dir("usr/lib");
        var a = new ImageBuilder()
            .Layer("/bin/sh -c #(nop) ADD file:base in / ", Base)
            .Layer("RUN app", l => l.Dir("app").File("app/grow.bin", new byte[1000]).File("app/shrink.bin", new byte[5000])
                .File("app/gone.bin", new byte[700]).File("app/same-size.txt", "aaaa"));
        var b = new ImageBuilder()
            .Layer("/bin/sh -c #(nop) ADD file:base in / ", Base)
            .Layer("RUN app", l => l.Dir("app").File("app/grow.bin", new byte[4000]).File("app/shrink.bin", new byte[2000])
                .File("app/same-size.txt", "bbbb").Dir("app/new").File("app/new/added.bin", new byte[9000]));
        var (pa, pb) = (_dir.File("a.tar"), _dir.File("b.tar"));
        a.WriteOciArchive(pa);
        b.WriteOciArchive(pb);
        return (pa, pb);
    }

    [Fact]
    public void Diff_html_has_the_changes_the_shared_layers_and_the_change_by_directory()
    {
        var (a, b) = Builds();
        var r = Tool.Run("diff", a, b, "--format", "html", "-q");
        Assert.Equal(0, r.ExitCode);
        var html = r.Stdout;
        Assert.DoesNotMatch("(?i)https?:", html);
        // the change table lists what the TSV lists, in its order
        var tsv = Tool.Run("diff", a, b, "--format", "tsv", "-q").StdoutLines.Where(l => !l.StartsWith('#')).Select(l => l.Split('\t')).ToList();
        Assert.Equal(tsv.Select(c => (c[0], "/" + c[1])), HtmlReportTests.Rows(html, "changes-table").Select(x => (x[0], x[1])));
        Assert.Contains($"<p id=\"diff-counts\">{tsv.Count(c => c[0] == "A")} added, {tsv.Count(c => c[0] == "D")} removed, {tsv.Count(c => c[0] == "M")} modified</p>", html);
        // the base layer is shared, on the same base
        var shared = Assert.Single(HtmlReportTests.Rows(html, "shared-table"));
        Assert.Equal(("0", "0", "same base: stored once"), (shared[0], shared[1], shared[4]));
        // the treemap's files, each weighed by the bytes that changed and keyed by the change
        var files = new Dictionary<string, (long Bytes, int Key)>();
        void Walk(JsonElement n, string path)
        {
            if (n.GetArrayLength() > 4) foreach (var c in n[4].EnumerateArray()) Walk(c, path + "/" + c[0].GetString());
            else files[path] = (n[1].GetInt64(), n[2].GetInt32());
        }
        var tree = HtmlReportTests.Data(html).GetProperty("tree");
        Walk(tree, "");
        Assert.Equal(new Dictionary<string, (long, int)>
        {
            ["/app/new/added.bin"] = (9000, 0),
            ["/app/gone.bin"] = (700, 1),
            ["/app/grow.bin"] = (3000, 2),
            ["/app/shrink.bin"] = (3000, 3),
            ["/app/same-size.txt"] = (4, 4),
        }, files);
        Assert.Equal(9000 + 700 + 3000 + 3000 + 4, tree[1].GetInt64());
    }

    [Fact]
    public void Diff_ci_html_carries_the_regression_verdict()
    {
        var (a, b) = Builds();
        var page = _dir.File("diff-ci.html");
        var r = Tool.Run("diff", a, b, "--ci", "--highest-size-growth", "1%", "--ci-format", "html", "--ci-output", page, "-q");
        Assert.Equal(1, r.ExitCode); // B is 11 kB larger than A's 7 kB
        var html = File.ReadAllText(page);
        Assert.Contains("id=\"verdict\">FAIL</span>", html);
        Assert.Contains(HtmlReportTests.Rows(html, "rules-table"), x => x[0] == "highestSizeGrowth" && x[1] == "FAIL");
        Assert.NotEmpty(HtmlReportTests.Rows(html, "changes-table"));
    }

    [Fact]
    public void Diff_html_is_drawn_in_the_browser()
    {
        var (a, b) = Builds();
        var page = _dir.File("diff.html");
        File.WriteAllText(page, Tool.Run("diff", a, b, "--format", "html", "-q").Stdout);
        var dom = Chromium.DumpDom(page);
        var sizes = Regex.Matches(dom, "data-path=\"([^\"]*)\" data-size=\"([0-9]+)\"").ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
        Assert.Equal(9000, sizes["/app/new/added.bin"]);
        Assert.Equal(3000, sizes["/app/grow.bin"]);
        Assert.Equal(700, sizes["/app/gone.bin"]);
    }

    public void Dispose() => _dir.Dispose();
}
