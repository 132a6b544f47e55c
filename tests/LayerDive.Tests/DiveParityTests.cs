using System.Formats.Tar;
using System.Text.Json;
using System.Text.RegularExpressions;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// LayerDive as a drop-in for dive v0.13.1 (../shared/tools/dive): on every docker-archive dive can
/// read, every line dive prints in CI mode (ANSI styles aside) stands in LayerDive's output in the same
/// order, with the same exit code, for dive's default rules, a .dive-ci that passes and one that fails
/// each rule, and flags over it; and <c>--json</c> writes dive's fields with dive's values.
/// </summary>
public sealed partial class DiveParityTests
{
    private static readonly string Dive = Path.Combine(Paths.Shared, "tools", "dive", "dive");

    public static TheoryData<string> Archives()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Paths.PublicCorpus, "*.tar").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        data.Add("generated:tricky/tricky.docker-archive.tar");
        data.Add("generated:multi/multi-arm64.docker-archive.tar");
        return data;
    }

    private static string PathOf(string name) => name.StartsWith("generated:", StringComparison.Ordinal)
        ? Path.Combine(Paths.GeneratedCorpus, name["generated:".Length..]) : Paths.Public(name);

    /// <summary>The image, or a skip that says why dive cannot be compared on it.</summary>
    private static string Readable(string name)
    {
        if (!File.Exists(Dive)) Assert.Skip($"dive is not at {Dive}");
        var path = PathOf(name);
        if (!File.Exists(path)) Assert.Skip($"generated corpus not present ({path}); run: bash ../shared/tools/make-corpus.sh");
        // dive reads a layer that manifest.json names through a symlink as empty (../shared/tools/dive/README.md)
        var links = new HashSet<string>();
        HashSet<string> named = [];
        using (var tar = new TarReader(File.OpenRead(path)))
            for (var e = tar.GetNextEntry(); e is not null; e = tar.GetNextEntry())
            {
                if (e.EntryType == TarEntryType.SymbolicLink) links.Add(e.Name);
                if (e.Name == "manifest.json" && e.DataStream is not null)
                    try
                    {
                        using var m = JsonDocument.Parse(e.DataStream);
                        if (m.RootElement.ValueKind == JsonValueKind.Array)
                            foreach (var image in m.RootElement.EnumerateArray())
                                if (image.TryGetProperty("Layers", out var layers))
                                    named.UnionWith(layers.EnumerateArray().Select(l => l.GetString() ?? ""));
                    }
                    catch (JsonException) { }
            }
        if (named.Overlaps(links)) Assert.Skip("dive reads a layer.tar that is a symlink as an empty layer");
        return path;
    }

    private static (int Code, string[] Lines) RunDive(string folder, params string[] args) => RunDive(folder, new Dictionary<string, string>(), args);

    private static (int Code, string[] Lines) RunDive(string folder, Dictionary<string, string> env, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.ExecIn(folder, Dive, new Dictionary<string, string>(env) { ["CI"] = "true" }, ["--source", "docker-archive", .. args]);
        var text = Ansi().Replace(stdout + stderr, "");
        if (!text.Contains("\nResult:", StringComparison.Ordinal))
            Assert.Skip($"dive cannot read this image: {text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(l => l.Contains("cannot") || l.StartsWith("panic", StringComparison.Ordinal)) ?? "no result"}");
        return (code, text.Split('\n'));
    }

    /// <summary>Every line of dive's output stands in ours, in order.</summary>
    private static void AssertContainsInOrder(string[] dive, string[] ours)
    {
        int j = 0;
        foreach (var line in dive)
        {
            while (j < ours.Length && ours[j] != line) j++;
            Assert.True(j < ours.Length, $"dive's line is not in LayerDive's output (in order): '{line}'\n--- LayerDive ---\n{string.Join('\n', ours)}");
            j++;
        }
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void CI_text_holds_every_line_dive_prints(string name)
    {
        var path = Readable(name);
        using var dir = new TempDir();
        var (code, dive) = RunDive(dir.Path, path);
        var ours = Tool.RunWith(new Dictionary<string, string> { ["CI"] = "true" }, dir.Path, "--source", "docker-archive", path, "--ci");
        Assert.Equal(code, ours.ExitCode);
        AssertContainsInOrder(dive, ours.Stdout.Split('\n'));
    }

    public static TheoryData<string, string, string[]> Rules() => new()
    {
        { "dive__.data_test-docker-image.tar", "rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 1MB\n  highestUserWastedPercent: 0.9\n", [] },
        { "dive__.data_test-docker-image.tar", "rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: 1KB\n  highestUserWastedPercent: 0.01\n", [] },
        { "dive__.data_test-docker-image.tar", "rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: 1KB\n  highestUserWastedPercent: 0.01\n", ["--lowestEfficiency", "0.9", "--highestWastedBytes", "32025", "--highestUserWastedPercent", "0.49"] },
        { "dive__.data_test-docker-image.tar", "rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: disabled\n  highestUserWastedPercent: 0.9\n", ["--highestWastedBytes", "20kB"] },
        { "generated:tricky/tricky.docker-archive.tar", "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 100KiB\n  highestUserWastedPercent: 0.05\n", [] },
        { "generated:tricky/tricky.docker-archive.tar", "rules:\n  lowestEfficiency: 0.1\n  highestWastedBytes: 10MB\n  highestUserWastedPercent: 1\n", [] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void CI_text_holds_dives_lines_for_rules_files_and_flags(string name, string diveCi, string[] flags)
    {
        var path = Readable(name);
        using var dir = new TempDir();
        File.WriteAllText(dir.File(".dive-ci"), diveCi);
        var (code, dive) = RunDive(dir.Path, [path, "--ci", .. flags]);
        var ours = Tool.RunWith(new Dictionary<string, string> { ["CI"] = "true" }, dir.Path, ["--source", "docker-archive", path, "--ci", .. flags]);
        Assert.Equal(code, ours.ExitCode);
        Assert.Contains("  Using CI config: .dive-ci", dive);
        AssertContainsInOrder(dive, ours.Stdout.Split('\n'));
    }

    /// <summary>dive's configuration file, found where dive looks (--config, XDG folders, ~/.dive.yaml): the line that says so.</summary>
    [Theory]
    [InlineData("home")]
    [InlineData("xdg")]
    [InlineData("flag")]
    public void CI_text_names_dives_configuration_file_as_dive_does(string where)
    {
        var path = Readable("dive__.data_test-docker-image.tar");
        using var dir = new TempDir();
        var home = Directory.CreateDirectory(dir.File("home")).FullName;
        var env = new Dictionary<string, string> { ["HOME"] = home, ["XDG_CONFIG_HOME"] = dir.File("xdg"), ["XDG_CONFIG_DIRS"] = "" };
        var args = new List<string> { path, "--ci" };
        switch (where)
        {
            case "home": File.WriteAllText(Path.Combine(home, ".dive.yaml"), "filetree:\n  collapse-dir: true\n"); break;
            case "xdg":
                Directory.CreateDirectory(dir.File("xdg/dive"));
                File.WriteAllText(dir.File("xdg/dive/b.yml"), "diff:\n  hide: [added]\n");
                File.WriteAllText(dir.File("xdg/dive/c.yaml"), "diff:\n  hide: [removed]\n");
                break;
            default:
                File.WriteAllText(dir.File("mine.yaml"), "filetree:\n  pane-width: 0.4\n");
                args.InsertRange(0, ["--config", "mine.yaml"]);
                break;
        }
        var (code, dive) = RunDive(dir.Path, env, [.. args]);
        Assert.StartsWith("Using config file: ", dive[0]);
        var ours = Tool.RunWith(new Dictionary<string, string>(env) { ["CI"] = "true" }, dir.Path, ["--source", "docker-archive", .. args]);
        Assert.Equal(code, ours.ExitCode);
        AssertContainsInOrder(dive, ours.Stdout.Split('\n'));
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void Json_export_has_dives_fields_with_dives_values(string name)
    {
        AssertSameJson(Readable(name));
    }

    /// <summary>
    /// A hardlink's item in dive's file list shows its own header's mode and owner, which the merged tree's
    /// version (its target's) need not share: links with the target's mode and owner, as tar writes them, and
    /// links with another mode, a setuid bit, another owner or group, an owner above 65,535, in the target's
    /// layer and in a layer above it.
    /// </summary>
    [Fact]
    public void Json_file_lists_show_a_hardlinks_own_header()
    {
        if (!File.Exists(Dive)) Assert.Skip($"dive is not at {Dive}");
        using var dir = new TempDir();
        var path = dir.File("links.tar");
        new LayerDive.Samples.ImageBuilder()
            .Layer("COPY bin", l => l.Dir("bin").File("bin/tool", "tool\n", mode: 0x1ED, uid: 7, gid: 8)
                .Hardlink("bin/same", "bin/tool", mode: 0x1ED, uid: 7, gid: 8)
                .Hardlink("bin/mode", "bin/tool", mode: 0x1A4, uid: 7, gid: 8)
                .Hardlink("bin/setuid", "bin/tool", mode: 0x9ED, uid: 7, gid: 8)
                .Hardlink("bin/owner", "bin/tool", mode: 0x1ED, uid: 1000, gid: 8)
                .Hardlink("bin/group", "bin/tool", mode: 0x1ED, uid: 7, gid: 1000)
                .Hardlink("bin/wide", "bin/tool", mode: 0x1ED, uid: 70000, gid: 70001))
            .Layer("RUN ln", l => l.Dir("bin")
                .Hardlink("bin/later", "bin/tool", mode: 0x1C0, uid: 5, gid: 6)
                .Hardlink("bin/later-same", "bin/tool", mode: 0x1ED, uid: 7, gid: 8))
            .WriteDockerArchive(path);
        AssertSameJson(path);
    }

    /// <summary>dive's <c>--json</c> and ours of the docker-archive at <paramref name="path"/>: the same fields with the same values.</summary>
    private static void AssertSameJson(string path)
    {
        using var dir = new TempDir();
        RunDive(dir.Path, path, "--ci"); // skips where dive cannot read the image
        var (code, _, stderr) = Scripts.Exec(Dive, ["--source", "docker-archive", path, "--json", dir.File("dive.json")]);
        Assert.True(code == 0, stderr);
        var ours = Tool.RunWith(new Dictionary<string, string>(), dir.Path, "--source", "docker-archive", path, "--json", dir.File("ours.json"), "--quiet");
        Assert.Equal(0, ours.ExitCode);
        using var d = JsonDocument.Parse(File.ReadAllBytes(dir.File("dive.json")));
        using var o = JsonDocument.Parse(File.ReadAllBytes(dir.File("ours.json")));
        // equal as JSON values (dive's encoder escapes <, > and & where ours writes them as they are)
        Assert.True(JsonElement.DeepEquals(d.RootElement.GetProperty("image"), o.RootElement.GetProperty("image")), "the image block differs");
        var dl = d.RootElement.GetProperty("layer").EnumerateArray().ToList();
        var ol = o.RootElement.GetProperty("layer").EnumerateArray().ToList();
        Assert.Equal(dl.Count, ol.Count);
        for (int i = 0; i < dl.Count; i++)
            foreach (var field in dl[i].EnumerateObject())
            {
                var mine = ol[i].GetProperty(field.Name);
                // where dive writes its placeholder "blobs" (an OCI layout), LayerDive keeps the layer's digest
                if (field.Name == "id" && field.Value.GetString() == "blobs") Assert.StartsWith("sha256:", mine.GetString());
                else if (field.Name == "fileList") AssertSameFiles(i, field.Value, mine);
                else Assert.True(JsonElement.DeepEquals(field.Value, mine), $"layer {i} {field.Name}: dive {Short(field.Value)}, LayerDive {Short(mine)}");
            }
    }

    /// <summary>
    /// The same entries with the same fields; except that dive gives a whiteout marker that follows the
    /// whiteout of a directory in its layer that directory's path as a link name (a marker's tar header
    /// has none: seen in tricky), so a marker's link name is not compared.
    /// </summary>
    private static void AssertSameFiles(int layer, JsonElement dive, JsonElement ours)
    {
        var d = dive.EnumerateArray().ToList();
        var o = ours.EnumerateArray().ToList();
        Assert.Equal(d.Count, o.Count);
        for (int k = 0; k < d.Count; k++)
            foreach (var field in d[k].EnumerateObject())
            {
                bool marker = Path.GetFileName(d[k].GetProperty("path").GetString() ?? "").StartsWith(".wh.", StringComparison.Ordinal);
                if (marker && field.Name == "linkName") continue;
                Assert.True(JsonElement.DeepEquals(field.Value, o[k].GetProperty(field.Name)), $"layer {layer} file {k} {field.Name}: dive {Short(d[k])}, LayerDive {Short(o[k])}");
            }
    }

    private static string Short(JsonElement e) => e.GetRawText() is var t && t.Length > 300 ? t[..300] + "..." : e.GetRawText();

    [GeneratedRegex("\u001b\\[[0-9;]*m")]
    private static partial Regex Ansi();
}

/// <summary>dive's spellings of its flags.</summary>
public sealed class DiveFlagTests
{
    [Fact]
    public void Dash_v_prints_the_version_as_dash_dash_version_does()
    {
        var v = Tool.Run("-v");
        Assert.Equal(0, v.ExitCode);
        Assert.Equal(Tool.Run("--version").Stdout, v.Stdout);
        Assert.Matches(@"^\d+\.\d+\.\d+", v.Stdout);
    }

    [Fact]
    public void Ignore_errors_is_accepted_and_changes_nothing()
    {
        var image = Paths.Public("dive__.data_test-docker-image.tar");
        var plain = Tool.Run(image, "--ci");
        foreach (var flag in new[] { "-i", "--ignore-errors" })
        {
            var r = Tool.Run(flag, image, "--ci");
            Assert.Equal(plain.ExitCode, r.ExitCode);
            Assert.Equal(plain.Stdout, r.Stdout);
        }
    }
}
