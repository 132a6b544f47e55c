using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// <c>layerdive report</c> (issue 30): one page whose figures are those of <c>--json</c> and of the
/// analyses, with nothing from the network and nothing an image names able to break out of its text.
/// The page drawn in a real browser: <see cref="BrowserReportTests"/>.
/// </summary>
public sealed partial class HtmlReportTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>The report of an image, read back as text.</summary>
    internal static string Report(string image, string output, params string[] extra)
    {
        var r = Tool.Run([.. extra, "report", image, "-o", output, "-q"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stdout);
        return File.ReadAllText(output, new UTF8Encoding(false, throwOnInvalidBytes: true));
    }

    /// <summary>dive's export plus LayerDive's object, as <c>--json</c> writes it for the same image.</summary>
    internal static JsonElement Json(string image, string output)
    {
        var r = Tool.Run("--ci", "--json", output, image, "-q", "--lowestEfficiency", "disabled", "--highestUserWastedPercent", "disabled");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(File.ReadAllBytes(output)).RootElement.Clone();
    }

    /// <summary>The page's script data (the treemap's tree).</summary>
    internal static JsonElement Data(string html)
    {
        var m = Regex.Match(html, "<script type=\"application/json\" id=\"ld-data\">(.*?)</script>", RegexOptions.Singleline);
        Assert.True(m.Success);
        return JsonDocument.Parse(m.Groups[1].Value).RootElement.Clone();
    }

    /// <summary>A summary figure: the text of the dd after the dt <paramref name="term"/>, tags dropped, entities read.</summary>
    internal static string Summary(string html, string term)
    {
        var m = Regex.Match(html, "<dt>" + Regex.Escape(WebUtility.HtmlEncode(term)) + "</dt><dd>(.*?)</dd>");
        Assert.True(m.Success, term);
        return WebUtility.HtmlDecode(Regex.Replace(m.Groups[1].Value, "<[^>]+>", ""));
    }

    /// <summary>A table's rows, each cell's text (tags dropped, entities read).</summary>
    internal static List<string[]> Rows(string html, string id)
    {
        var table = Regex.Match(html, "<table id=\"" + id + "\">(.*?)</table>", RegexOptions.Singleline);
        Assert.True(table.Success, id);
        var body = Regex.Match(table.Groups[1].Value, "<tbody>(.*?)</tbody>", RegexOptions.Singleline).Groups[1].Value;
        return Regex.Matches(body, "<tr>(.*?)</tr>", RegexOptions.Singleline)
            .Select(tr => Regex.Matches(tr.Groups[1].Value, "<td[^>]*>(.*?)</td>", RegexOptions.Singleline)
                .Select(td => WebUtility.HtmlDecode(Regex.Replace(td.Groups[1].Value, "<[^>]+>", ""))).ToArray())
            .ToList();
    }

    [Fact]
    public void The_samples_report_has_the_figures_of_json()
    {
        var html = Report(Paths.Sample, _dir.File("sample.html"));
        var json = Json(Paths.Sample, _dir.File("sample.json"));
        var image = json.GetProperty("image");
        long size = image.GetProperty("sizeBytes").GetInt64(), wasted = image.GetProperty("inefficientBytes").GetInt64();
        long removable = json.GetProperty("layerdive").GetProperty("overlay").GetProperty("removableBytes").GetInt64();
        Assert.EndsWith($"({size} B)", Summary(html, "Size"));
        Assert.EndsWith($"({wasted} B)", Summary(html, "Wasted bytes (dive)"));
        Assert.EndsWith($"({removable} B)", Summary(html, "Removable bytes (overlay merge)"));
        Assert.Equal(json.GetProperty("layer").GetArrayLength().ToString(), Summary(html, "Layers"));
        // dive's efficiency as a percentage with two decimals
        Assert.Equal((image.GetProperty("efficiencyScore").GetDouble() * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " %", Summary(html, "Efficiency (dive)"));

        // the tables: dive's files in dive's order, the overlay's in its own, with their bytes
        var files = image.GetProperty("fileReference").EnumerateArray().ToList();
        var wastedRows = Rows(html, "wasted-table");
        Assert.Equal(files.Count, wastedRows.Count);
        Assert.Equal(files.Select(f => (f.GetProperty("count").GetInt32().ToString(), f.GetProperty("sizeBytes").GetInt64().ToString(), f.GetProperty("file").GetString()!)),
            wastedRows.Select(r => (r[0], r[2], r[3])));
        var items = json.GetProperty("layerdive").GetProperty("overlay").GetProperty("removable").EnumerateArray().ToList();
        var removableRows = Rows(html, "removable-table");
        Assert.Equal(items.Select(i => (i.GetProperty("bytes").GetInt64().ToString(), i.GetProperty("storedByLayer").GetInt32().ToString(), i.GetProperty("path").GetString()!)),
            removableRows.Select(r => (r[1], r[2], r[5])));

        // a row and a chart group per layer, with the kind --json gives and the stored size
        var layers = json.GetProperty("layerdive").GetProperty("layers").EnumerateArray().ToList();
        var layerRows = Rows(html, "layers-table");
        Assert.Equal(layers.Count, layerRows.Count);
        Assert.Equal(layers.Count, Regex.Matches(html, "<g class=\"layer\" data-layer=").Count);
        for (int i = 0; i < layers.Count; i++)
        {
            Assert.Equal(i.ToString(), layerRows[i][0]);
            Assert.Equal(layers[i].GetProperty("kind").GetString(), layerRows[i][6].ToLowerInvariant());
            Assert.EndsWith($"({layers[i].GetProperty("compressedSize").GetInt64()} B)", layerRows[i][5]);
        }
        Assert.DoesNotMatch("(?i)https?:", html);
    }

    /// <summary>The chart's bytes per layer are the sums of what <c>ls --changes</c> lists for the layer (Changes.OfLayer), by kind.</summary>
    [Fact]
    public void The_layers_bytes_are_those_ls_changes_lists()
    {
        var model = Images.Load(Paths.Sample);
        var perLayer = HtmlReport.PerLayer(model);
        long added = 0, modified = 0, removed = 0;
        for (int layer = 0; layer < model.Layers.Count; layer++)
        {
            var changes = Changes.OfLayer(model, layer).Where(c => c.Attributes is { Type: Core.Model.FileType.File, HardlinkTarget: null }).ToList();
            long Sum(Core.Model.ChangeKind k) => changes.Where(c => c.Kind == k).Sum(c => c.Attributes.Size);
            Assert.Equal(new LayerBytes(Sum(Core.Model.ChangeKind.Added), Sum(Core.Model.ChangeKind.Modified), Sum(Core.Model.ChangeKind.Removed)), perLayer[layer]);
            (added, modified, removed) = (added + perLayer[layer].Added, modified + perLayer[layer].Modified, removed + perLayer[layer].Removed);
        }
        // the sample's layers do each of the three (else this would check little)
        Assert.True(added > 0 && modified > 0 && removed > 0);
    }

    /// <summary>
    /// Names an image chose cannot end the script or an attribute, nor put a control character or
    /// bytes that are not UTF-8 into the page: each is shown escaped, as the CLI shows it.
    /// </summary>
    [Fact]
    public void Hostile_names_are_escaped_everywhere()
    {
        var path = HostileImage(_dir.File("hostile.tar"));
        var html = Report(path, _dir.File("hostile.html"));
        // the page's own two scripts only: no name opened or closed one
        Assert.Equal(2, Regex.Matches(html, "(?i)<script").Count);
        Assert.Equal(2, Regex.Matches(html, "(?i)</script").Count);
        Assert.DoesNotContain(html, c => c < 0x20 && c != '\n');
        Assert.DoesNotContain("<!--", html);
        // the names, as the CLI escapes them, in the tables and in the treemap's data
        var rows = Rows(html, "removable-table").Select(r => r[5]).ToList();
        foreach (var expected in HostileShown)
            Assert.Contains(expected, rows);
        var names = new List<string>();
        void Walk(JsonElement n)
        {
            names.Add(n[0].GetString()!);
            if (n.GetArrayLength() > 4) foreach (var c in n[4].EnumerateArray()) Walk(c);
        }
        Walk(Data(html).GetProperty("tree"));
        Assert.Contains("bad\\xff\\xfe-utf8", names);
        Assert.Contains("ctl\\x1b[31m\\x07\\x0aname", names);
        Assert.Contains("q\"u'o&t<e>.txt", names);
        Assert.Contains("script>", names);
        // the build step with its script tags is text in the table
        Assert.Contains(Rows(html, "layers-table"), r => r[7].Contains("echo '</script><script>alert(2)</script>'", StringComparison.Ordinal));
    }

    /// <summary>What a report shows of <see cref="HostileImage"/>'s names (the CLI's escapes: \xHH for control characters and bytes that are not UTF-8).</summary>
    internal static readonly string[] HostileShown =
    [
        "/h/a</script><script>alert(1)</script>",
        "/h/q\"u'o&t<e>.txt",
        "/h/ctl\\x1b[31m\\x07\\x0aname",
        "/h/bad\\xff\\xfe-utf8",
        "/h/--><!--",
    ];

    /// <summary>
    /// An image whose names and build step are hostile: each file written by layer 0 and again by layer
    /// 1 (so each is in the final tree, dive's wasted files and the overlay's removable paths).
    /// </summary>
    internal static string HostileImage(string path)
    {
        byte[][] names =
        [
            "h/a</script><script>alert(1)</script>"u8.ToArray(),
            "h/q\"u'o&t<e>.txt"u8.ToArray(),
            [.. "h/ctl"u8, 0x1b, .. "[31m"u8, 0x07, 0x0a, .. "name"u8],
            [.. "h/bad"u8, 0xff, 0xfe, .. "-utf8"u8],
            "h/--><!--"u8.ToArray(),
        ];
        byte[] Tar(int layer)
        {
            var tar = new List<byte>();
            tar.AddRange(RawTar.Header("h/", '5', mode: 0x1ED));
            for (int i = 0; i < names.Length; i++)
            {
                var content = Encoding.ASCII.GetBytes(new string((char)('a' + i + layer), 1000 * (i + 1) + layer));
                tar.AddRange(RawTar.Header(names[i], '0', content.Length));
                tar.AddRange(RawTar.Data(content));
            }
            tar.AddRange(RawTar.End);
            return [.. tar];
        }
        new ImageBuilder { TamperTar = (n, _) => Tar(n) }
            .Layer("/bin/sh -c #(nop) ADD file:hostile in / ", _ => { })
            .Layer("/bin/sh -c echo '</script><script>alert(2)</script>' \u0007 > /h/x", _ => { })
            .WriteOciArchive(path);
        return path;
    }

    [Fact]
    public void Clean_escapes_lone_surrogates_control_characters_and_raw_bytes()
    {
        Assert.Equal("a\\ud800b", HtmlPage.Clean("a\ud800b"));
        Assert.Equal("\\udfffz", HtmlPage.Clean("\udfffz"));
        Assert.Equal("ok 😀", HtmlPage.Clean("ok 😀"));
        Assert.Equal("x\\xff", HtmlPage.Clean("x\udcff", path: true));
        // markup escaped (no character HTML reads as markup is left), and a browser reads back the cleaned text
        var h = HtmlPage.H("</script>\"'&\u001b");
        Assert.Equal(-1, System.Text.RegularExpressions.Regex.Replace(h, "&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);", "").AsSpan().IndexOfAny("<>\"'&"));
        Assert.Equal("</script>\"'&\\x1b", System.Net.WebUtility.HtmlDecode(h));
    }

    /// <summary>Past the budget, small items are folded, one box per directory; the page says how many, and nothing is lost.</summary>
    [Fact]
    public void Small_files_are_folded_and_the_page_says_what_was_folded()
    {
        int files = HtmlReport.TreemapBudget + 1500;
        var image = new ImageBuilder().Layer("many", l =>
        {
            for (int d = 0; d < 50; d++) l.Dir($"d{d}");
            for (int i = 0; i < files; i++) l.File($"d{i % 50}/f{i}", new byte[1 + i % 997 + (i == 7 ? 500_000 : 0)]);
        });
        var path = _dir.File("many.tar");
        image.WriteOciArchive(path);
        var html = Report(path, _dir.File("many.html"));
        var tree = Data(html).GetProperty("tree");
        long bytes = 0, drawn = 0, boxes = 0, foldedBoxes = 0, foldedFiles = 0, foldedBytes = 0;
        void Walk(JsonElement n, int depth)
        {
            boxes++;
            bool dir = n.GetArrayLength() > 4;
            if ((n[3].GetInt32() & 1) != 0)
            {
                foldedBoxes++;
                foldedBytes += n[1].GetInt64();
                foldedFiles += long.Parse(Regex.Match(n[0].GetString()!, "^[0-9]+").Value);
            }
            else if (!dir && depth > 0) drawn++;
            if (!dir && depth > 0) bytes += n[1].GetInt64();
            if (dir)
            {
                Assert.Equal(n[1].GetInt64(), n[4].EnumerateArray().Sum(c => c[1].GetInt64())); // a directory is the sum of its boxes
                foreach (var c in n[4].EnumerateArray()) Walk(c, depth + 1);
            }
        }
        Walk(tree, 0);
        long expectedBytes = Enumerable.Range(0, files).Sum(i => 1L + i % 997 + (i == 7 ? 500_000 : 0));
        Assert.Equal(expectedBytes, bytes);
        Assert.Equal(files, drawn + foldedFiles);
        Assert.True(boxes <= HtmlReport.TreemapBudget + 50 + 2, $"{boxes} boxes");
        Assert.True(foldedFiles > 0);
        var note = WebUtility.HtmlDecode(Regex.Match(html, "<p class=\"note\" id=\"folded\">(.*?)</p>").Groups[1].Value);
        Assert.Contains($": {foldedFiles} files, ", note);
        Assert.Contains($" in {foldedBoxes} boxes.", note);
        // the large file is drawn, with its size
        var d7 = tree[4].EnumerateArray().Single(n => n[0].GetString() == "d7");
        Assert.Equal(500_008, d7[4].EnumerateArray().Single(n => n[0].GetString() == "f7")[1].GetInt64());
    }

    /// <summary>An image without layers (a config alone) still makes a whole page: nothing to draw, nothing wasted.</summary>
    [Fact]
    public void An_image_without_layers_makes_a_page()
    {
        var path = _dir.File("empty.tar");
        new ImageBuilder().Empty("/bin/sh -c #(nop)  CMD [\"sh\"]").WriteOciArchive(path);
        var html = Report(path, _dir.File("empty.html"));
        Assert.Equal("0", Summary(html, "Layers"));
        Assert.Equal("0 B", Summary(html, "Size"));
        Assert.Empty(Rows(html, "layers-table"));
        var tree = Data(html).GetProperty("tree");
        Assert.Equal(0, tree[1].GetInt64());
        Assert.Equal(0, tree[4].GetArrayLength());
        Assert.EndsWith("</html>\n", html);
    }

    /// <summary>The 1 GB benchmark image (46 000 files, 9 layers) of the generated corpus: its page stays under 2 MB, folding what it must.</summary>
    [Fact]
    public void The_benchmark_images_report_stays_under_2_MB()
    {
        var big = Path.Combine(Paths.GeneratedCorpus, "big", "big.oci-archive.tar");
        if (!File.Exists(big)) Assert.Skip($"generated corpus not present ({big}); run: bash ../shared/tools/make-corpus.sh");
        var page = _dir.File("big.html");
        var html = Report(big, page);
        Assert.True(new FileInfo(page).Length < 2_000_000, $"{new FileInfo(page).Length} bytes");
        Assert.Matches("<p class=\"note\" id=\"folded\">Items smaller than .* are folded", html);
        Assert.DoesNotMatch("(?i)https?:", html);
    }

    [Fact]
    public void The_report_speaks_russian_when_asked()
    {
        var html = Report(Paths.Sample, _dir.File("ru.html"), "--lang", "ru");
        Assert.Contains("<html lang=\"ru\">", html);
        Assert.Contains("<h1>Отчёт LayerDive: layerdive/sample:latest</h1>", html);
        Assert.Contains("<dt>Эффективность (dive)</dt>", html);
    }

    [Fact]
    public void A_report_naming_the_image_is_refused_and_the_image_is_untouched()
    {
        var image = _dir.File("image.tar");
        File.Copy(Paths.Sample, image);
        var before = File.ReadAllBytes(image);
        var r = Tool.Run("report", image, "-o", image);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: {image}: -o {image} names the image being read; the report would replace it: name another file", Assert.Single(r.StderrLines));
        Assert.Equal(before, File.ReadAllBytes(image));
        // named with its transport, the image is the same file
        r = Tool.Run("report", "oci-archive://" + image, "-o", image);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("names the image being read", Assert.Single(r.StderrLines));
        Assert.Equal(before, File.ReadAllBytes(image));
        // the CI report's file, of one image and of a comparison
        foreach (var args in new[] { new[] { image, "--ci", "--ci-format", "html", "--ci-output", image }, ["diff", Paths.Sample, image, "--ci", "--ci-format", "json", "--ci-output", image] })
        {
            r = Tool.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains($"--ci-output {image} names the image being read", Assert.Single(r.StderrLines, l => l.StartsWith("layerdive: error:", StringComparison.Ordinal)));
            Assert.Equal(before, File.ReadAllBytes(image));
        }
    }

    [Fact]
    public void A_file_that_cannot_be_written_is_named_as_the_user_named_it()
    {
        // a folder that is not there (root, who runs CI, may write anywhere else): the error names the
        // file asked for, never the temporary one written beside it, for each command that writes a file
        var missing = _dir.File("no-such-folder");
        foreach (var (args, file) in new[]
        {
            (new[] { "report", Paths.Sample, "-o", Path.Combine(missing, "r.html") }, Path.Combine(missing, "r.html")),
            (new[] { Paths.Sample, "--ci", "--json", Path.Combine(missing, "x.json") }, Path.Combine(missing, "x.json")),
            (new[] { Paths.Sample, "--ci", "--ci-format", "markdown", "--ci-output", Path.Combine(missing, "x.md") }, Path.Combine(missing, "x.md")),
        })
        {
            var r = Tool.Run(args);
            Assert.Equal(2, r.ExitCode);
            string line = Assert.Single(r.StderrLines, l => l.StartsWith("layerdive: error:", StringComparison.Ordinal));
            Assert.Contains($"'{file}'", line);
            Assert.DoesNotContain("layerdive-tmp", line);
        }
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task A_pipe_or_device_named_as_the_output_is_written_into_never_replaced()
    {
        // --json /dev/null as root moved a regular file over /dev/null, for every program on the machine;
        // a named pipe stands for it here (replacing the real one would break this machine)
        var pipe = _dir.File("out.fifo");
        Assert.Equal(0, Scripts.Exec("mkfifo", pipe).ExitCode);
        var ct = TestContext.Current.CancellationToken;
        var reader = Task.Run(() => File.ReadAllText(pipe), ct);
        var r = Tool.Run(Paths.Sample, "--ci", "--json", pipe, "--quiet");
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        var json = await reader.WaitAsync(TimeSpan.FromSeconds(60), ct); // a pipe replaced by a file is never written: this waits
        using (var doc = System.Text.Json.JsonDocument.Parse(json)) Assert.True(doc.RootElement.TryGetProperty("layer", out _));
        Assert.Equal(LayerDive.Core.Sources.FileKind.Kind.Other, LayerDive.Core.Sources.FileKind.Of(pipe));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.layerdive-tmp"));
    }

    [Fact]
    public void Without_o_the_page_goes_to_stdout()
    {
        var r = Tool.Run("report", Paths.Sample, "-q");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("<!DOCTYPE html>", r.Stdout);
        Assert.EndsWith("</html>\n", r.Stdout);
    }

    public void Dispose() => _dir.Dispose();
}
