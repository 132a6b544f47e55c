using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary><c>layerdive diff A B</c> (issue 16, docs/cli.md): each kind of difference alone, expected lists worked out here.</summary>
public sealed class DiffTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static ImageBuilder Base() => new ImageBuilder()
        .Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0\n").File("etc/motd", "hello\n")
            .Dir("app").File("app/main.py", "print(1)\n").File("app/util.py", "x = 1\n").Symlink("app/current", "main.py")
            .Dir("data").File("data/a", "aaaa"));

    private string Write(string name, ImageBuilder image, LayerCompression compression = LayerCompression.Gzip)
    {
        var path = _dir.File(name);
        image.WriteOciArchive(path, compression: compression);
        return path;
    }

    private static string[] Rows(CliResult r) => r.StdoutLines.Where(l => !l.StartsWith('#')).ToArray();

    /// <summary>B is the base with one more layer doing one thing; the expected tsv row (status, path, A's columns, B's) follows from it.</summary>
    public static TheoryData<string, string[]> OneChange => new()
    {
        { "added", ["A\tetc/new\t-\t-\t-\t-\t-\t-\t-\tfile\t0644\t0\t0\t4\t" + Sha("new\n") + "\t-"] },
        { "removed", ["D\tetc/motd\tfile\t0644\t0\t0\t6\t" + Sha("hello\n") + "\t-\t-\t-\t-\t-\t-\t-\t-"] },
        { "chmod", ["M\tapp/main.py\tfile\t0644\t0\t0\t9\t" + Sha("print(1)\n") + "\t-\tfile\t0755\t0\t0\t9\t" + Sha("print(1)\n") + "\t-"] },
        { "chown", ["M\tapp/main.py\tfile\t0644\t0\t0\t9\t" + Sha("print(1)\n") + "\t-\tfile\t0644\t1000\t1000\t9\t" + Sha("print(1)\n") + "\t-"] },
        { "content", ["M\tdata/a\tfile\t0644\t0\t0\t4\t" + Sha("aaaa") + "\t-\tfile\t0644\t0\t0\t4\t" + Sha("bbbb") + "\t-"] },
        { "retarget", ["M\tapp/current\tsymlink\t0777\t0\t0\t0\t-\tmain.py\tsymlink\t0777\t0\t0\t0\t-\tutil.py"] },
        { "file-to-dir", [
            "M\tetc/motd\tfile\t0644\t0\t0\t6\t" + Sha("hello\n") + "\t-\tdir\t0755\t0\t0\t0\t-\t-",
            "A\tetc/motd/today\t-\t-\t-\t-\t-\t-\t-\tfile\t0644\t0\t0\t3\t" + Sha("hi\n") + "\t-"] },
        { "opaque", [
            "D\tapp/current\tsymlink\t0777\t0\t0\t0\t-\tmain.py\t-\t-\t-\t-\t-\t-\t-",
            "D\tapp/main.py\tfile\t0644\t0\t0\t9\t" + Sha("print(1)\n") + "\t-\t-\t-\t-\t-\t-\t-\t-",
            "A\tapp/new.py\t-\t-\t-\t-\t-\t-\t-\tfile\t0644\t0\t0\t4\t" + Sha("new\n") + "\t-",
            "D\tapp/util.py\tfile\t0644\t0\t0\t6\t" + Sha("x = 1\n") + "\t-\t-\t-\t-\t-\t-\t-\t-"] },
    };

    private static string Sha(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static ImageBuilder Changed(string kind) => Base().Layer(kind, l =>
    {
        switch (kind)
        {
            case "added": l.File("etc/new", "new\n"); break;
            case "removed": l.Whiteout("etc/motd"); break;
            case "chmod": l.Dir("app").File("app/main.py", "print(1)\n", mode: 0x1ED); break;
            case "chown": l.Dir("app").File("app/main.py", "print(1)\n", uid: 1000, gid: 1000); break;
            case "content": l.Dir("data").File("data/a", "bbbb"); break;
            case "retarget": l.Dir("app").Symlink("app/current", "util.py"); break;
            case "file-to-dir": l.Dir("etc").Whiteout("etc/motd").Dir("etc/motd").File("etc/motd/today", "hi\n"); break;
            case "opaque": l.Dir("app").Opaque("app").File("app/new.py", "new\n"); break;
        }
    });

    [Theory]
    [MemberData(nameof(OneChange))]
    public void Each_kind_of_difference_alone_is_found_and_nothing_else(string kind, string[] expected)
    {
        var a = Write("a.tar", Base());
        var b = Write($"{kind}.tar", Changed(kind));
        var r = Tool.Run("diff", a, b, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("#status\tpath\ta_type\ta_mode\ta_uid\ta_gid\ta_size\ta_sha256\ta_linktarget\tb_type\tb_mode\tb_uid\tb_gid\tb_size\tb_sha256\tb_linktarget", r.StdoutLines[0]);
        Assert.Equal(expected, Rows(r));
    }

    [Fact]
    public void The_same_image_in_three_forms_has_no_difference()
    {
        var gzip = Write("gzip.tar", Base());
        var zstd = Write("zstd.tar", Base(), LayerCompression.Zstd);
        var docker = _dir.File("docker.tar");
        Base().WriteDockerArchive(docker);
        foreach (var (x, y) in new[] { (gzip, zstd), (gzip, docker), (docker, zstd) })
        {
            var r = Tool.Run("diff", x, y, "--format", "tsv");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Empty(Rows(r));
        }
        var text = Tool.Run("diff", gzip, docker);
        Assert.Equal("0 added, 0 removed, 0 modified", text.StdoutLines[0]);
        Assert.Contains(text.StdoutLines, l => l.StartsWith("shared layers: 1 (the same base: an engine stores", StringComparison.Ordinal));
    }

    [Fact]
    public void The_summary_tells_sizes_files_shared_layers_and_growth()
    {
        var a = Write("a.tar", Base());
        var b = Write("b.tar", Base().Layer("more data", l => l.Dir("data").File("data/big", new string('x', 10_000))));
        var r = Tool.Run("diff", a, b);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.StdoutLines;
        Assert.StartsWith("A  -rw-r--r--", lines[0]);
        Assert.EndsWith("data/big", lines[0]);
        Assert.Contains("1 added, 0 removed, 0 modified", lines);
        Assert.Matches(@"^files\s+5\s+6\s+\+1$", Assert.Single(lines, l => l.StartsWith("files ", StringComparison.Ordinal)));
        Assert.Matches(@"^layers\s+1\s+2\s+\+1$", Assert.Single(lines, l => l.StartsWith("layers ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("shared layers: 1 (the same base", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Trim() == "+10 kB  /data  (4 B -> 10 kB)");

        var json = System.Text.Json.JsonDocument.Parse(Tool.Run("diff", a, b, "--format", "json").Stdout).RootElement;
        Assert.Equal(1, json.GetProperty("added").GetInt32());
        Assert.Equal(10_000, json.GetProperty("delta").GetProperty("sizeBytes").GetInt64());
        Assert.Equal(1, json.GetProperty("delta").GetProperty("files").GetInt32());
        Assert.Equal("/data/big", json.GetProperty("changes")[0].GetProperty("path").GetString());
        Assert.True(json.GetProperty("sharedLayers")[0].GetProperty("sameBase").GetBoolean());
    }

    [Fact]
    public void An_unreadable_image_is_one_line_naming_which()
    {
        var good = Write("good.tar", Base());
        var missing = _dir.File("missing.tar");
        var r = Tool.Run("diff", good, missing);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: {missing}: no such file or directory", Assert.Single(r.StderrLines));
        var cut = _dir.File("cut.tar");
        File.WriteAllBytes(cut, File.ReadAllBytes(good)[..3000]);
        r = Tool.Run("diff", cut, good);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"layerdive: error: {cut}: ", Assert.Single(r.StderrLines));
    }

    /// <summary>The generated images: the tsv is the difference of the two umoci listings, worked out here.</summary>
    [Theory]
    [InlineData("tricky/tricky.docker-archive.tar", "tricky", null, "multi/multi.oci-archive.tar", "multi-amd64", "linux/amd64")]
    [InlineData("multi/multi.oci-archive.tar", "multi-amd64", "linux/amd64", "multi/multi.oci-archive.tar", "multi-arm64", "linux/arm64")]
    public void Generated_images_differ_as_their_umoci_listings_do(string formA, string truthA, string? platformA, string formB, string truthB, string? platformB)
    {
        string pathA = Path.Combine(Paths.GeneratedCorpus, formA), pathB = Path.Combine(Paths.GeneratedCorpus, formB);
        string fileA = Path.Combine(Paths.GeneratedCorpus, truthA + ".rootfs.tsv"), fileB = Path.Combine(Paths.GeneratedCorpus, truthB + ".rootfs.tsv");
        if (!File.Exists(pathA) || !File.Exists(pathB) || !File.Exists(fileA) || !File.Exists(fileB))
            Assert.Skip($"generated corpus not present ({Paths.GeneratedCorpus}); run: bash ../shared/tools/make-corpus.sh");
        // path -> type mode uid gid size sha256 linktarget (mtime and nlink are not compared)
        static Dictionary<string, string> Listing(string file) => File.ReadLines(file).Skip(1).Select(l => l.Split('\t'))
            .Where(c => c[0] != ".").ToDictionary(c => c[0], c => string.Join('\t', c[1..8]), StringComparer.Ordinal);
        var a = Listing(fileA);
        var b = Listing(fileB);
        const string none = "-\t-\t-\t-\t-\t-\t-";
        var expected = a.Keys.Union(b.Keys)
            .Select(p => (p, InA: a.GetValueOrDefault(p), InB: b.GetValueOrDefault(p)))
            .Where(x => x.InA != x.InB)
            .OrderBy(x => System.Text.Encoding.UTF8.GetBytes(x.p), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)))
            .Select(x => $"{(x.InA is null ? "A" : x.InB is null ? "D" : "M")}\t{x.p}\t{x.InA ?? none}\t{x.InB ?? none}")
            .ToList();
        var args = new List<string> { "diff", pathA, pathB, "--format", "tsv" };
        if (platformA is not null) args.AddRange(["--platform-a", platformA]);
        if (platformB is not null) args.AddRange(["--platform-b", platformB]);
        var r = Tool.Run([.. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Rows(r));
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary><c>diff A B --ci</c>: the regression rules at their boundaries (equal passes, as dive's rules do), beside dive's rules on B.</summary>
public sealed class DiffCiTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static ImageBuilder Base() => new ImageBuilder()
        .Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0\n").Dir("data").File("data/a", new string('a', 5000)));

    /// <summary>A, and B: A plus a layer that adds 3,000 bytes and rewrites data/a (5,000 bytes wasted, as dive counts it).</summary>
    private (string A, string B) Images()
    {
        string a = _dir.File("a.tar"), b = _dir.File("b.tar");
        Base().WriteOciArchive(a);
        Base().Layer("grow", l => l.Dir("data").File("data/new", new string('n', 3000)).File("data/a", new string('b', 5000))).WriteOciArchive(b);
        return (a, b);
    }

    /// <summary>One image's figures as --ci reports them (dive's, verified against dive by DiveParityTests).</summary>
    private static System.Text.Json.JsonElement Figures(string image) =>
        System.Text.Json.JsonDocument.Parse(Tool.Run(image, "--ci", "--ci-format", "json", "--lowest-efficiency", "disabled", "--highest-user-wasted-percent", "disabled").Stdout).RootElement.GetProperty("dive");

    private static string[] Disabled => ["--lowest-efficiency", "disabled", "--highest-user-wasted-percent", "disabled"];

    private static CliResult Diff(string a, string b, params string[] args) => Tool.Run(["diff", a, b, "--ci", .. Disabled, .. args]);

    private static string Line(CliResult r, string rule) => Assert.Single(r.StdoutLines, l => l.Contains($": {rule}", StringComparison.Ordinal)).Trim();

    [Fact]
    public void Size_growth_in_bytes_and_as_a_share()
    {
        var (a, b) = Images();
        long sizeA = Figures(a).GetProperty("sizeBytes").GetInt64(), sizeB = Figures(b).GetProperty("sizeBytes").GetInt64();
        long growth = sizeB - sizeA;
        Assert.Equal(8000, growth); // the new layer's files: 3,000 + 5,000 bytes
        var pass = Diff(a, b, "--highest-size-growth", growth.ToString());
        Assert.Equal(0, pass.ExitCode);
        Assert.Equal("PASS: highestSizeGrowth", Line(pass, "highestSizeGrowth"));
        var fail = Diff(a, b, "--highest-size-growth", (growth - 1).ToString());
        Assert.Equal(1, fail.ExitCode);
        Assert.Equal($"FAIL: highestSizeGrowth: size grew too much ({sizeA} -> {sizeB} bytes: +{growth} > threshold={growth - 1})", Line(fail, "highestSizeGrowth"));
        // as a share of A: 8,000 / sizeA
        double share = 100.0 * growth / sizeA;
        Assert.Equal(0, Diff(a, b, "--highest-size-growth", $"{Math.Ceiling(share * 100) / 100:0.##}%").ExitCode);
        Assert.Equal(1, Diff(a, b, "--highest-size-growth", $"{Math.Floor(share * 100) / 100 - 0.01:0.##}%").ExitCode);
    }

    [Fact]
    public void Wasted_growth_and_efficiency_drop()
    {
        var (a, b) = Images();
        var fa = Figures(a);
        var fb = Figures(b);
        long wasted = fb.GetProperty("wastedBytes").GetInt64() - fa.GetProperty("wastedBytes").GetInt64();
        Assert.True(wasted > 0);
        Assert.Equal(0, Diff(a, b, "--highest-wasted-growth", wasted.ToString()).ExitCode);
        Assert.Equal(1, Diff(a, b, "--highest-wasted-growth", (wasted - 1).ToString()).ExitCode);
        double drop = fa.GetProperty("efficiency").GetDouble() - fb.GetProperty("efficiency").GetDouble();
        Assert.True(drop > 0);
        Assert.Equal(0, Diff(a, b, "--lowest-efficiency-drop", drop.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ExitCode);
        var fail = Diff(a, b, "--lowest-efficiency-drop", (drop - 1e-9).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, fail.ExitCode);
        Assert.StartsWith("FAIL: lowestEfficiencyDrop: image efficiency fell too far", Line(fail, "lowestEfficiencyDrop"));
    }

    [Fact]
    public void Rules_come_from_the_dive_ci_file_too_and_plain_ci_ignores_them()
    {
        var (a, b) = Images();
        File.WriteAllText(_dir.File(".dive-ci"), "rules:\n  lowestEfficiency: disabled\n  highestUserWastedPercent: disabled\n  highestSizeGrowth: 1KB\n");
        var r = Tool.RunWith(new Dictionary<string, string>(), _dir.Path, "diff", a, b, "--ci");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("  Using CI config: .dive-ci", r.StdoutLines);
        Assert.StartsWith("FAIL: highestSizeGrowth", Line(r, "highestSizeGrowth"));
        Assert.Contains("Result:FAIL [Total:6] [Passed:0] [Failed:1] [Warn:0] [Skipped:5]", r.StdoutLines);
        // dive's --ci on one image: its three rules only, as dive prints them
        var single = Tool.RunWith(new Dictionary<string, string>(), _dir.Path, b, "--ci");
        Assert.Contains("Result:PASS [Total:3] [Passed:0] [Failed:0] [Warn:0] [Skipped:3]", single.StdoutLines);
    }

    [Fact]
    public void Reports_and_bad_values()
    {
        var (a, b) = Images();
        var json = System.Text.Json.JsonDocument.Parse(Diff(a, b, "--highest-size-growth", "1", "--ci-format", "json").Stdout).RootElement;
        Assert.False(json.GetProperty("pass").GetBoolean());
        Assert.Equal(Figures(a).GetProperty("sizeBytes").GetInt64(), json.GetProperty("before").GetProperty("dive").GetProperty("sizeBytes").GetInt64());
        Assert.Contains("highestSizeGrowth", Diff(a, b, "--highest-size-growth", "1", "--ci-format", "junit").Stdout);
        Assert.Contains("highestSizeGrowth", Diff(a, b, "--highest-size-growth", "1", "--ci-format", "markdown").Stdout);
        var bad = Diff(a, b, "--highest-size-growth", "10x");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("layerdive: error: rule highestSizeGrowth: '10x' is not a byte size or a share (like 20MB or 10%)", Assert.Single(bad.StderrLines));
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary><c>diff</c> on a terminal: the explorer in compare mode, driven headless.</summary>
public sealed class DiffExplorerTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void Compare_mode_colours_B_by_its_difference_from_A_marks_shared_layers_and_explains_both()
    {
        var a = new ImageBuilder().Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0\n").File("etc/hosts", "127.0.0.1\n"));
        var b = new ImageBuilder().Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0\n").File("etc/hosts", "127.0.0.1\n"))
            .Layer("app", l => l.Dir("etc").File("etc/passwd", "root:x:0:0\napp:x:1:1\n").Dir("srv").File("srv/app.py", "print(1)\n"));
        string pathA = _dir.File("a.tar"), pathB = _dir.File("b.tar");
        a.WriteOciArchive(pathA, "1.0");
        b.WriteOciArchive(pathB, "1.1");
        var modelA = Images.Load(pathA);
        var dive = new LayerDive.Core.Analysis.DiveMetrics();
        var modelB = Images.Load(pathB, new LayerDive.Core.Loading.LoadOptions { Observers = [dive] });
        using var ui = new UiHarness(new LayerDive.Ui.Explorer.ExplorerWindow(modelB, dive.Result(), color: true, compareWith: modelA));

        // the tree after B's top layer, against A's final tree
        Assert.Contains($"Files after layer 1, against A: {modelA.Name} (linux/amd64)", ui.Lines[0]);
        Assert.Equal(Terminal.Gui.Drawing.Color.Green, ui.ColorOf("app.py"));    // only in B
        Assert.Equal(Terminal.Gui.Drawing.Color.Yellow, ui.ColorOf("passwd"));   // another content in B
        Assert.NotEqual(Terminal.Gui.Drawing.Color.Yellow, ui.ColorOf("hosts")); // the same in both
        Assert.NotEqual(Terminal.Gui.Drawing.Color.Green, ui.ColorOf("hosts"));
        // B's layer 0 is A's layer 0 on the same base: stored once
        Assert.Contains(ui.Lines, l => l.Contains("  0 ") && l.Contains("= base"));
        Assert.DoesNotContain(ui.Lines, l => l.Contains("= app"));

        ui.Press(Terminal.Gui.Input.Key.Tab);
        while (ui.Window.Tree.Current!.Node.Path != "etc/passwd") ui.Press(Terminal.Gui.Input.Key.CursorDown);
        ui.Press(new Terminal.Gui.Input.Key('e'));
        var screen = ui.Screen;
        Assert.Contains($"In B, {modelB.Name} (linux/amd64):", screen);
        Assert.Contains($"In A, {modelA.Name} (linux/amd64):", screen);
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>The 1 GB generated image against itself with one layer more: only that layer's files differ.</summary>
public sealed class DiffBigTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void Big_against_big_with_one_layer_added_differs_by_that_layer_only()
    {
        var big = Path.Combine(Paths.GeneratedCorpus, "big", "oci");
        var truth = Path.Combine(Paths.GeneratedCorpus, "big.rootfs.tsv");
        if (!Directory.Exists(big) || !File.Exists(truth))
            Assert.Skip($"the big generated image is not present ({big}); run: bash ../shared/tools/make-corpus.sh");
        // B: big's layout, its blobs hard-linked (no copy of 500 MB), plus one layer that adds, replaces and deletes
        var layout = _dir.File("big-plus");
        foreach (var f in Directory.GetFiles(big, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(layout, Path.GetRelativePath(big, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            if (Scripts.Exec("ln", f, to).ExitCode != 0) File.Copy(f, to);
        }
        // a file big has, to replace, and one to delete: the first two regular files of its listing
        var files = File.ReadLines(truth).Skip(1).Select(l => l.Split('\t')).Where(c => c[1] == "file").Take(2).ToList();
        var layer = new ImageBuilder().Layer("more", l => l.Dir("added").File("added/new.txt", "new\n").File(files[0][0], "replaced\n").Whiteout(files[1][0])).Layers[0].ToTar();
        var gz = ImageBuilder.Compress(layer, LayerCompression.Gzip).Bytes;
        string Put(byte[] bytes)
        {
            var digest = ImageBuilder.Digest(bytes);
            File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", digest[7..]), bytes);
            return digest;
        }
        var index = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        var manifestDigest = (string)index["manifests"]![0]!["digest"]!;
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "blobs", "sha256", manifestDigest[7..])))!;
        var configDigest = (string)manifest["config"]!["digest"]!;
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "blobs", "sha256", configDigest[7..])))!;
        config["rootfs"]!["diff_ids"]!.AsArray().Add(ImageBuilder.Digest(layer));
        config["history"]?.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["created_by"] = "more" });
        var configBytes = System.Text.Encoding.UTF8.GetBytes(config.ToJsonString());
        manifest["config"]!["digest"] = Put(configBytes);
        manifest["config"]!["size"] = configBytes.Length;
        manifest["layers"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = Put(gz), ["size"] = gz.Length });
        var manifestBytes = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        index["manifests"]![0]!["digest"] = Put(manifestBytes);
        index["manifests"]![0]!["size"] = manifestBytes.Length;
        File.Delete(Path.Combine(layout, "index.json"));
        File.WriteAllText(Path.Combine(layout, "index.json"), index.ToJsonString());

        var r = Tool.Run("diff", big, layout, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string Sha(string s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(s)));
        const string none = "-\t-\t-\t-\t-\t-\t-";
        var expected = new[]
        {
            $"A\tadded\t{none}\tdir\t0755\t0\t0\t0\t-\t-",
            $"A\tadded/new.txt\t{none}\tfile\t0644\t0\t0\t4\t{Sha("new\n")}\t-",
            $"M\t{files[0][0]}\t{string.Join('\t', files[0][1..8])}\tfile\t0644\t0\t0\t9\t{Sha("replaced\n")}\t-",
            $"D\t{files[1][0]}\t{string.Join('\t', files[1][1..8])}\t{none}",
        }.OrderBy(l => System.Text.Encoding.UTF8.GetBytes(l.Split('\t')[1]), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)));
        Assert.Equal(expected, r.StdoutLines.Skip(1));
        // the summary: every layer of big is shared on the same base
        var text = Tool.Run("diff", big, layout);
        Assert.Contains(text.StdoutLines, l => l.StartsWith($"shared layers: {manifest["layers"]!.AsArray().Count - 1} (the same base", StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
