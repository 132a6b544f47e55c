using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// The report drawn by a real browser (Debian's chromium, headless): the screenshot shows a treemap of
/// many colours, and the DOM its script leaves holds the figures <c>--json</c> and <c>ls</c> give for
/// the same image. Skipped, saying why, where chromium cannot start (failed under CI=true).
/// </summary>
public sealed class BrowserReportTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>The boxes the script drew: class, path, bytes and area, read from the DOM.</summary>
    private sealed record Box(string Class, string Path, long Bytes, double Area);

    private static List<Box> Boxes(string dom) =>
        Regex.Matches(dom, "<div((?:\\s+[\\w-]+(?:=\"[^\"]*\")?)*)\\s*>")
            .Select(m => m.Groups[1].Value)
            .Where(a => a.Contains("data-size=", StringComparison.Ordinal))
            .Select(a =>
            {
                string Attr(string name) => WebUtility.HtmlDecode(Regex.Match(a, "\\s" + name + "=\"([^\"]*)\"").Groups[1].Value);
                double Px(string name) => double.Parse(Regex.Match(Attr("style"), name + @":\s*([0-9.]+)px").Groups[1].Value, CultureInfo.InvariantCulture);
                return new Box(Attr("class"), Attr("data-path"), long.Parse(Attr("data-size"), CultureInfo.InvariantCulture), Px("width") * Px("height"));
            })
            .ToList();

    /// <summary>The final tree's regular files with their sizes, as <c>ls --format tsv</c> lists them (the umoci ground truth's columns).</summary>
    private static List<(string Path, long Size)> Files(string image)
    {
        var r = Tool.Run("ls", image, "--format", "tsv", "-q");
        Assert.Equal(0, r.ExitCode);
        return r.StdoutLines.Where(l => !l.StartsWith('#')).Select(l => l.Split('\t'))
            .Where(c => c[1] == "file").Select(c => ("/" + c[0].TrimStart('/'), long.Parse(c[5], CultureInfo.InvariantCulture))).ToList();
    }

    // the window of the sample's screenshot (docs/report-sample.png: the summary, the map, the chart)
    private const int Width = 1200, Height = 1750;

    [Fact]
    public void The_samples_report_is_drawn_and_its_dom_has_the_figures_of_json()
    {
        var page = _dir.File("sample.html");
        var html = HtmlReportTests.Report(Paths.Sample, page);
        var json = HtmlReportTests.Json(Paths.Sample, _dir.File("sample.json"));
        Assert.DoesNotMatch("(?i)https?:", html);

        var dom = Chromium.DumpDom(page, Width, Height);
        // the script ran and drew the map: boxes, the largest file the largest box
        var boxes = Boxes(dom);
        var files = boxes.Where(b => b.Class.Split(' ').Contains("tm-file")).ToList();
        Assert.NotEmpty(files);
        var listed = Files(Paths.Sample);
        long largest = listed.Max(f => f.Size);
        var biggest = files.MaxBy(b => b.Area)!;
        Assert.Equal(largest, biggest.Bytes);
        Assert.Contains((biggest.Path, largest), listed);
        // every file box is a file of the final tree with its size
        foreach (var f in files) Assert.Contains((f.Path, f.Bytes), listed);
        // the removable region: its largest box is the overlay's largest item
        var removable = json.GetProperty("layerdive").GetProperty("overlay").GetProperty("removable")[0];
        var rm = boxes.Where(b => b.Class.Split(' ').Contains("tm-leaf") && b.Class.Split(' ').Contains("tm-rm")).MaxBy(b => b.Area)!;
        Assert.Equal((removable.GetProperty("path").GetString(), removable.GetProperty("bytes").GetInt64()), (rm.Path, rm.Bytes));
        // its title (the hover) says what it is: the path, the size, the layer that stored it, and that it is removable
        var title = WebUtility.HtmlDecode(Regex.Match(dom, "data-path=\"" + Regex.Escape(rm.Path) + "\" data-size=\"[0-9]+\" title=\"([^\"]*)\"").Groups[1].Value);
        int stored = removable.GetProperty("storedByLayer").GetInt32();
        var kind = json.GetProperty("layerdive").GetProperty("layers")[stored].GetProperty("kind").GetString() switch { "run" => "RUN", "copy" => "COPY", var k => k };
        Assert.Equal([rm.Path, $"{Core.Reports.Units.HumanBytes(rm.Bytes)} ({rm.Bytes.ToString("N0", CultureInfo.InvariantCulture)} B)",
            $"layer {stored} ({kind}): {json.GetProperty("layer")[stored].GetProperty("command").GetString()}", "removable (stored in layers, not in the final tree)"], title.Split('\n'));
        // the chart: a group per layer; the tables: dive's top files in dive's order
        Assert.Equal(json.GetProperty("layer").GetArrayLength(), Regex.Matches(dom, "<g class=\"layer\" data-layer=\"[0-9]+\"").Count);
        var top = json.GetProperty("image").GetProperty("fileReference").EnumerateArray().Take(3).Select(f => f.GetProperty("file").GetString()).ToList();
        Assert.Equal(top, HtmlReportTests.Rows(dom, "wasted-table").Take(3).Select(r => r[3]));
        Assert.DoesNotMatch("(?i)(src|href)=\"?https?:", dom);

        // drawn: the page is not blank, and the map's region has many colours (the layers')
        var shot = Chromium.Screenshot(page, _dir.File("sample.png"), Width, Height);
        Assert.True(shot.Colours(0, 0, shot.Width, shot.Height, 50) >= 10, "the page looks blank");
        var at = Regex.Match(dom, "data-drawn=\"([0-9]+),([0-9]+),([0-9]+),([0-9]+)\"");
        Assert.True(at.Success, "the treemap was not drawn");
        int[] r = [.. Enumerable.Range(1, 4).Select(i => int.Parse(at.Groups[i].Value, CultureInfo.InvariantCulture))];
        int drawnLayers = files.Count > 0 ? Regex.Matches(dom, "class=\"tm-leaf tm-file\"[^>]*data-layer=\"([0-9]+)\"").Select(m => m.Groups[1].Value).Distinct().Count() : 0;
        Assert.True(drawnLayers >= 3, $"{drawnLayers} layers drawn");
        int colours = shot.Colours(r[0], r[1], r[2], r[3], 100);
        Assert.True(colours >= drawnLayers + 1, $"the treemap's region has {colours} colours");
        if (Environment.GetEnvironmentVariable("LAYERDIVE_REPORT_SCREENSHOT") is { Length: > 0 } keep) File.Copy(_dir.File("sample.png"), keep, overwrite: true);
    }

    /// <summary>The page follows the browser's colour scheme (dark: a dark background, light text) and has a print style (no buttons).</summary>
    [Fact]
    public async Task Dark_scheme_and_print_styles_apply()
    {
        var page = _dir.File("sample.html");
        HtmlReportTests.Report(Paths.Sample, page);
        using var browser = await DevTools.Open(page, 1200, 900);
        // the page itself (the tab's first empty document is complete too)
        await browser.Until("document.readyState === 'complete' && document.getElementById('tm-back') !== null");
        const string colours = "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color, getComputedStyle(document.getElementById('tm-back')).display]";
        Assert.Equal("[\"rgb(255, 255, 255)\",\"rgb(27, 31, 36)\",\"block\"]", (await browser.Evaluate(colours)).GetRawText());
        await browser.Send("Emulation.setEmulatedMedia", new System.Text.Json.Nodes.JsonObject { ["features"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["name"] = "prefers-color-scheme", ["value"] = "dark" }) });
        Assert.Equal("[\"rgb(13, 17, 23)\",\"rgb(230, 237, 243)\",\"block\"]", (await browser.Evaluate(colours)).GetRawText());
        await browser.Send("Emulation.setEmulatedMedia", new System.Text.Json.Nodes.JsonObject { ["media"] = "print" });
        Assert.Equal("[\"rgb(255, 255, 255)\",\"rgb(0, 0, 0)\",\"none\"]", (await browser.Evaluate(colours)).GetRawText());
    }

    /// <summary>With scripts off, the map says so and the tables hold the figures (its text alternative), unchanged.</summary>
    [Fact]
    public async Task With_scripts_off_the_tables_stand_for_the_charts()
    {
        var page = _dir.File("sample.html");
        var html = HtmlReportTests.Report(Paths.Sample, page);
        var blank = _dir.File("blank.html");
        File.WriteAllText(blank, "<!DOCTYPE html><title>blank</title>");
        using var browser = await DevTools.Open(blank, 1200, 900);
        await browser.OpenWithoutScripts(page);
        await browser.Until("document.readyState === 'complete' && document.title.startsWith('LayerDive report')");
        var dom = (await browser.Evaluate("document.documentElement.outerHTML")).GetString()!;
        Assert.Equal(0, (await browser.Evaluate("document.querySelectorAll('#tm div').length")).GetInt32()); // no script drew the map
        // the note in noscript is a paragraph (parsed as elements only where scripts are off), and shown
        Assert.StartsWith("The treemap is drawn by the page's script, which is off", (await browser.Evaluate("document.querySelector('#tm noscript p').innerText")).GetString());
        foreach (var table in new[] { "layers-table", "wasted-table", "removable-table" })
        {
            Assert.NotEmpty(HtmlReportTests.Rows(dom, table));
            Assert.Equal(HtmlReportTests.Rows(html, table), HtmlReportTests.Rows(dom, table));
        }
        Assert.Equal(Regex.Matches(html, "<g class=\"layer\"").Count, Regex.Matches(dom, "<g class=\"layer\"").Count); // the chart needs no script
    }

    /// <summary>Hostile names stay text in the browser too: the page's title is its own, and the boxes carry the escaped names.</summary>
    [Fact]
    public void Hostile_names_stay_text_in_the_browser()
    {
        var page = _dir.File("hostile.html");
        HtmlReportTests.Report(HtmlReportTests.HostileImage(_dir.File("hostile.tar")), page);
        var dom = Chromium.DumpDom(page);
        Assert.Equal(2, Regex.Matches(dom, "(?i)<script").Count);
        Assert.Contains("<title>LayerDive report: ", dom);
        var paths = Boxes(dom).Select(b => b.Path).ToHashSet();
        foreach (var name in HtmlReportTests.HostileShown.Where(n => !n.Contains("</script>", StringComparison.Ordinal)))
            Assert.Contains(name, paths);
        Assert.Contains("/h/a</script><script>alert(1)</script>", paths);
    }

    /// <summary>A generated image with more files than the map draws: folded boxes appear, and the boxes' bytes add up to the tree's.</summary>
    [Fact]
    public void A_generated_image_with_folded_files_is_drawn()
    {
        var image = new ImageBuilder()
            .Layer("/bin/sh -c #(nop) ADD file:base in / ", l =>
            {
                for (int d = 0; d < 40; d++) l.Dir($"d{d}");
                for (int i = 0; i < 7000; i++) l.File($"d{i % 40}/f{i}", new byte[1 + i % 500]);
            })
            .Layer("RUN big", l => l.Dir("opt").File("opt/big.bin", new byte[300_000]));
        var path = _dir.File("gen.tar");
        image.WriteOciArchive(path);
        var page = _dir.File("gen.html");
        HtmlReportTests.Report(path, page);
        var dom = Chromium.DumpDom(page);
        var boxes = Boxes(dom);
        Assert.Contains(boxes, b => b.Class.Contains("tm-fold", StringComparison.Ordinal));
        var biggest = boxes.Where(b => b.Class.Split(' ').Contains("tm-file")).MaxBy(b => b.Area)!;
        Assert.Equal(("/opt/big.bin", 300_000L), (biggest.Path, biggest.Bytes));
        // the top level's boxes cover the whole tree's bytes
        long total = Files(path).Sum(f => f.Size);
        Assert.Equal(total, boxes.Where(b => b.Path.Count(c => c == '/') == 1).Sum(b => b.Bytes));
        var shot = Chromium.Screenshot(page, _dir.File("gen.png"));
        Assert.True(shot.Colours(0, 0, shot.Width, shot.Height, 50) >= 6, "the page looks blank");
    }

    /// <summary>A click on a directory's box (DevTools input, as a mouse makes it) shows that directory alone; Back shows the whole tree again.</summary>
    [Fact]
    public async Task A_click_on_a_directory_zooms_into_it_and_back_zooms_out()
    {
        var page = _dir.File("sample.html");
        HtmlReportTests.Report(Paths.Sample, page);
        using var browser = await DevTools.Open(page, 1200, 900);
        await browser.Until("document.readyState === 'complete' && document.querySelectorAll('#tm .tm-file').length > 0");
        Assert.Equal(0, (await browser.Evaluate("performance.getEntriesByType('resource').length")).GetInt32()); // it loaded nothing besides itself
        var top = await browser.Evaluate("[...document.querySelectorAll('#tm > .tm-dir')].map(e => e.getAttribute('data-path'))");
        Assert.Contains("/usr", top.EnumerateArray().Select(e => e.GetString()));
        // the middle of the box's label (a click there is on the directory, not on a file inside it)
        await browser.Evaluate("document.querySelector('#tm > .tm-dir[data-path=\"/usr\"]').scrollIntoView()");
        var box = await browser.Evaluate("(() => { const r = document.querySelector('#tm > .tm-dir[data-path=\"/usr\"] > span').getBoundingClientRect(); return [r.left + 10, r.top + r.height / 2]; })()");
        await browser.Click(box[0].GetDouble(), box[1].GetDouble());
        await browser.Until("document.getElementById('tm').getAttribute('data-zoom') === '/usr'");
        var paths = await browser.Evaluate("[...document.querySelectorAll('#tm [data-path]')].map(e => e.getAttribute('data-path'))");
        // what the zoom shows: exactly the files of the final tree under /usr (ls's), none from elsewhere
        var shown = paths.EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.All(shown, p => Assert.StartsWith("/usr/", p));
        var files = await browser.Evaluate("[...document.querySelectorAll('#tm .tm-file')].map(e => e.getAttribute('data-path'))");
        var expected = Files(Paths.Sample).Where(f => f.Path.StartsWith("/usr/", StringComparison.Ordinal) && f.Size > 0).Select(f => f.Path).ToHashSet();
        Assert.Subset(expected, files.EnumerateArray().Select(e => e.GetString()!).ToHashSet());
        Assert.Equal("[\"/\",\"usr\"]", (await browser.Evaluate("[...document.querySelectorAll('#tm-path button')].map(b => b.textContent)")).GetRawText());
        // Back: the whole tree again
        await browser.Evaluate("document.getElementById('tm-back').scrollIntoView()");
        var back = await browser.Evaluate("(() => { const r = document.getElementById('tm-back').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()");
        await browser.Click(back[0].GetDouble(), back[1].GetDouble());
        await browser.Until("document.getElementById('tm').getAttribute('data-zoom') === '/'");
        Assert.Equal(top.GetRawText(), (await browser.Evaluate("[...document.querySelectorAll('#tm > .tm-dir')].map(e => e.getAttribute('data-path'))")).GetRawText());
    }

    public void Dispose() => _dir.Dispose();
}
