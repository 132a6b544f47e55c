using System.Text.Json;
using System.Xml.Linq;
using LayerDive.Core.Analysis;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>CI mode as a pipeline uses it: rules, precedence, exit codes, and the report files.</summary>
public sealed class CiModeTests
{
    private static readonly string DiveImage = Paths.Public("dive__.data_test-docker-image.tar");
    private static readonly Dictionary<string, string> NoEnv = new();

    // ---------------- rule values ----------------

    [Theory]
    [InlineData("20MB", 20_000_000d)]
    [InlineData("20Mb", 20_000_000d)]
    [InlineData("20mb", 20_000_000d)]
    [InlineData("20 MB", 20_000_000d)]
    [InlineData("20MiB", 20d * 1024 * 1024)]
    [InlineData("1.5KB", 1500d)]
    [InlineData("2GiB", 2d * 1024 * 1024 * 1024)]
    [InlineData("1,000", 1000d)]
    [InlineData("4096", 4096d)]
    [InlineData("7B", 7d)]
    [InlineData("3k", 3000d)]
    public void Byte_sizes_parse_as_go_humanize_parses_them(string text, double bytes) => Assert.Equal(bytes, CiRules.ParseBytes(text));

    [Theory]
    [InlineData("abc")]
    [InlineData("20XB")]
    [InlineData("MB")]
    public void Byte_sizes_that_do_not_parse_are_named(string text)
    {
        Assert.Null(CiRules.ParseBytes(text));
        var ex = Assert.Throws<RuleConfigException>(() => CiRules.Parse(RuleName.HighestWastedBytes, text));
        Assert.Contains("highestWastedBytes", ex.Message);
        Assert.Contains($"'{text}'", ex.Message);
    }

    [Theory]
    [InlineData("disabled")]
    [InlineData("off")]
    [InlineData("false")]
    [InlineData("")]
    [InlineData("DISABLED")]
    public void A_rule_can_be_switched_off(string text) => Assert.False(CiRules.Parse(RuleName.LowestEfficiency, text).Enabled);

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("ninety")]
    public void A_ratio_outside_0_1_or_not_a_number_is_a_configuration_error(string text)
    {
        var ex = Assert.Throws<RuleConfigException>(() => CiRules.Parse(RuleName.HighestUserWastedPercent, text));
        Assert.Contains("highestUserWastedPercent", ex.Message);
        Assert.Contains(text, ex.Message);
    }

    [Fact]
    public void Equal_to_the_threshold_passes_and_just_past_it_fails()
    {
        var dive = new DiveMetricsResult(0.75, 100, 80, 20, 0.25, []);
        var overlay = new OverlayMetricsResult(20, 0.8, 0.25, []);
        var figures = new ImageFigures(dive, overlay);
        RuleStatus Judge(RuleName rule, string value, MetricSet set = MetricSet.Dive) =>
            CiRules.Evaluate([CiRules.Parse(rule, value)], figures, set)[0].Status;
        Assert.Equal(RuleStatus.Pass, Judge(RuleName.LowestEfficiency, "0.75"));
        Assert.Equal(RuleStatus.Fail, Judge(RuleName.LowestEfficiency, "0.7500001"));
        Assert.Equal(RuleStatus.Pass, Judge(RuleName.HighestWastedBytes, "20"));
        Assert.Equal(RuleStatus.Fail, Judge(RuleName.HighestWastedBytes, "19"));
        Assert.Equal(RuleStatus.Pass, Judge(RuleName.HighestUserWastedPercent, "0.25"));
        Assert.Equal(RuleStatus.Fail, Judge(RuleName.HighestUserWastedPercent, "0.2499"));
        Assert.Equal(RuleStatus.Pass, Judge(RuleName.LowestEfficiency, "0.8", MetricSet.Overlay));
        Assert.Equal(RuleStatus.Fail, Judge(RuleName.LowestEfficiency, "0.81", MetricSet.Overlay));
        Assert.Equal(RuleStatus.Skip, Judge(RuleName.HighestWastedBytes, "disabled"));
    }

    [Fact]
    public void Defaults_then_the_file_then_the_flags()
    {
        var defaults = CiRules.Resolve(null, null, new Dictionary<RuleName, string?>());
        Assert.Equal(["0.1", "disabled", "0.9"], defaults.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Text));
        const string yaml = "rules:\n  lowest-efficiency: 0.95\n  highestWastedBytes: 20MB\n  highest-user-wasted-percent: off\n";
        var fromFile = CiRules.Resolve(yaml, ".dive-ci", new Dictionary<RuleName, string?>());
        Assert.Equal(0.95, fromFile.Single(r => r.Name == RuleName.LowestEfficiency).Threshold);
        Assert.Equal(20_000_000, fromFile.Single(r => r.Name == RuleName.HighestWastedBytes).Threshold);
        Assert.False(fromFile.Single(r => r.Name == RuleName.HighestUserWastedPercent).Enabled);
        var flagged = CiRules.Resolve(yaml, ".dive-ci", new Dictionary<RuleName, string?> { [RuleName.LowestEfficiency] = "0.5" });
        Assert.Equal(0.5, flagged.Single(r => r.Name == RuleName.LowestEfficiency).Threshold);
    }

    // ---------------- the command ----------------

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("", false)]
    public void The_CI_variable_turns_on_CI_mode(string value, bool ci)
    {
        var r = Tool.RunWith(new Dictionary<string, string> { ["CI"] = value }, null, DiveImage, "--quiet");
        Assert.Equal(ci, r.Stdout.StartsWith("  Using default CI config\n", StringComparison.Ordinal));
        Assert.Equal(ci ? 1 : 0, r.ExitCode); // dive's default rules fail its own test image (48% user waste > 10%)
    }

    /// <summary>dive v0.13.1's own lines for its test image (docs/cli.md), then LayerDive's section.</summary>
    [Fact]
    public void Dive_test_image_report_in_dives_words()
    {
        var r = Tool.Run(DiveImage, "--ci");
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stdout.Split('\n');
        Assert.Equal(
        [
            "  Using default CI config",
            "Image Source: docker-archive://" + DiveImage,
            "Extracting image from docker-archive... (this can take a while for large images)",
            "Analyzing image...",
            "  efficiency: 98.4421 %",
            "  wastedBytes: 32025 bytes (32 kB)",
            "  userWastedPercent: 48.3491 %",
            "Inefficient Files:",
            "Count  Wasted Space  File Path",
            "    2         13 kB  /root/saved.txt",
            "    2         13 kB  /root/example/somefile1.txt",
            "    2        6.4 kB  /root/example/somefile3.txt",
            "Results:",
            "  FAIL: highestUserWastedPercent: too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=0.4834911001404049 > threshold=0.1)",
            "  SKIP: highestWastedBytes: rule disabled",
            "  PASS: lowestEfficiency",
            "Result:FAIL [Total:3] [Passed:1] [Failed:1] [Warn:0] [Skipped:1]",
            "",
            "LayerDive:",
        ], lines[..19]);
        Assert.StartsWith("  removableBytes: ", lines[19]);
    }

    [Fact]
    public void Dive_ci_file_in_the_working_directory_and_flags_over_it()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File(".dive-ci"), "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 30kB\n  highestUserWastedPercent: 0.5\n");
        var r = Tool.RunWith(NoEnv, dir.Path, DiveImage, "--ci");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("  Using CI config: .dive-ci", r.StdoutLines[0]);
        Assert.Contains("  FAIL: highestWastedBytes: too many bytes wasted (wasted-bytes=32025 > threshold=30000)", r.StdoutLines);
        Assert.Contains("  PASS: highestUserWastedPercent", r.StdoutLines);
        var overridden = Tool.RunWith(NoEnv, dir.Path, DiveImage, "--ci", "--highestWastedBytes", "32025");
        Assert.Equal(0, overridden.ExitCode);
        Assert.Contains("Result:PASS [Total:3] [Passed:3] [Failed:0] [Warn:0] [Skipped:0]", overridden.StdoutLines);
    }

    [Fact]
    public void Bad_rule_values_and_missing_rule_files_are_exit_2_naming_the_rule()
    {
        using var dir = new TempDir();
        var bad = Tool.Run(DiveImage, "--ci", "--lowestEfficiency", "1.2");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("layerdive: error: rule lowestEfficiency: 1.2 is outside the allowed range 0..1", Assert.Single(bad.StderrLines));
        Assert.Empty(bad.Stdout);
        File.WriteAllText(dir.File("rules.yaml"), "rules:\n  highest-wasted-bytes: lots\n");
        var badFile = Tool.RunWith(NoEnv, dir.Path, DiveImage, "--ci", "--ci-config", "rules.yaml");
        Assert.Equal(2, badFile.ExitCode);
        Assert.Equal("layerdive: error: rules.yaml: rule highestWastedBytes: 'lots' is not a byte size (like 20MB, 20MiB or 1000)", Assert.Single(badFile.StderrLines));
        var missing = Tool.RunWith(NoEnv, dir.Path, DiveImage, "--ci", "--ci-config", "nope.yaml");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.yaml", missing.Stderr);
        File.WriteAllText(dir.File("broken.yaml"), "rules: [unclosed\n");
        Assert.Equal(2, Tool.RunWith(NoEnv, dir.Path, DiveImage, "--ci", "--ci-config", "broken.yaml").ExitCode);
    }

    [Fact]
    public void Overlay_metrics_judge_when_asked()
    {
        var r = Tool.Run(DiveImage, "--ci", "--metrics", "overlay", "--lowestEfficiency", "0.98");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("  FAIL: lowestEfficiency: image efficiency is too low (overlay-efficiency=", StringComparison.Ordinal));
        Assert.Contains("LayerDive (the rules above judged these overlay figures):", r.StdoutLines);
    }

    [Fact]
    public void Junit_report_has_a_test_case_per_rule_and_failures_where_rules_failed()
    {
        using var dir = new TempDir();
        var r = Tool.RunWith(NoEnv, dir.Path, DiveImage, "--ci", "--ci-format", "junit", "--ci-output", "report.xml");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("  Using default CI config", r.Stdout); // the text still goes to stdout
        var doc = XDocument.Load(dir.File("report.xml"));
        var cases = doc.Descendants("testcase").ToList();
        // dive's rules, then the advice's rules and one case per kind of finding (AdviseCiTests)
        Assert.Equal(["highestUserWastedPercent", "highestWastedBytes", "lowestEfficiency", "highestAvoidableBytes", "secrets"], cases.Take(5).Select(c => (string)c.Attribute("name")!));
        Assert.NotNull(cases[0].Element("failure"));
        Assert.NotNull(cases[1].Element("skipped"));
        Assert.Null(cases[2].Element("failure"));
        var suite = doc.Descendants("testsuite").Single();
        Assert.Equal(("12", "1", "2"), ((string)suite.Attribute("tests")!, (string)suite.Attribute("failures")!, (string)suite.Attribute("skipped")!));
    }

    [Fact]
    public void Json_and_markdown_ci_reports()
    {
        var json = Tool.Run(DiveImage, "--ci", "--ci-format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("pass").GetBoolean());
        Assert.Equal(32025, root.GetProperty("dive").GetProperty("wastedBytes").GetInt64());
        Assert.Equal(0.9844212134184309, root.GetProperty("dive").GetProperty("efficiency").GetDouble());
        Assert.Equal(5, root.GetProperty("rules").GetArrayLength()); // dive's three, then highestAvoidableBytes and secrets
        Assert.Equal("fail", root.GetProperty("rules")[0].GetProperty("status").GetString());

        var md = Tool.Run(DiveImage, "--ci", "--ci-format", "markdown");
        Assert.Contains("| highestUserWastedPercent | FAIL | 0.1 |", md.Stdout);
        Assert.Contains("| 2 | 13 kB | `/root/saved.txt` |", md.Stdout);
    }

    [Fact]
    public void Json_export_keeps_dives_schema_and_adds_ours_and_is_replaced_whole()
    {
        using var dir = new TempDir();
        var file = dir.File("out.json");
        File.WriteAllText(file, new string('x', 5_000_000)); // an old, longer file: replaced, never patched
        var r = Tool.Run(DiveImage, "--json", file, "--quiet");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
        var root = doc.RootElement;
        var layers = root.GetProperty("layer");
        Assert.Equal(14, layers.GetArrayLength());
        foreach (var layer in layers.EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Number, layer.GetProperty("index").ValueKind);
            Assert.Matches("^[0-9a-f]{64}$", layer.GetProperty("id").GetString()); // dive's id: the layer's folder in the docker save
            Assert.StartsWith("sha256:", layer.GetProperty("digestId").GetString());
            Assert.Equal(JsonValueKind.Number, layer.GetProperty("sizeBytes").ValueKind);
            Assert.Equal(JsonValueKind.String, layer.GetProperty("command").ValueKind);
            foreach (var f in layer.GetProperty("fileList").EnumerateArray())
            {
                Assert.Equal(JsonValueKind.String, f.GetProperty("path").ValueKind);
                Assert.Equal(JsonValueKind.Number, f.GetProperty("typeFlag").ValueKind);
                Assert.Equal(JsonValueKind.String, f.GetProperty("linkName").ValueKind);
                Assert.Equal(JsonValueKind.Number, f.GetProperty("size").ValueKind);
                Assert.Equal(JsonValueKind.Number, f.GetProperty("fileMode").ValueKind);
                Assert.Equal(JsonValueKind.Number, f.GetProperty("uid").ValueKind);
                Assert.Equal(JsonValueKind.Number, f.GetProperty("gid").ValueKind);
                Assert.True(f.GetProperty("isDir").ValueKind is JsonValueKind.True or JsonValueKind.False);
            }
        }
        // layer 13 is `chmod +x /root/saved.txt`: its file list, child first, as dive walks it
        var last = layers[13].GetProperty("fileList").EnumerateArray().Select(f => (f.GetProperty("path").GetString(), f.GetProperty("isDir").GetBoolean())).ToList();
        Assert.Equal([("root/saved.txt", false), ("root", true)], last);
        var saved = layers[13].GetProperty("fileList")[0];
        Assert.Equal(0x1ED, saved.GetProperty("fileMode").GetInt64()); // 0755, no type bits for a regular file
        Assert.Equal('0', saved.GetProperty("typeFlag").GetInt32());
        Assert.NotEqual(0, layers[13].GetProperty("fileList")[1].GetProperty("fileMode").GetInt64() & (1L << 31)); // Go's ModeDir bit

        var image = root.GetProperty("image");
        Assert.Equal(1220598, image.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(32025, image.GetProperty("inefficientBytes").GetInt64());
        Assert.Equal(0.9844212134184309, image.GetProperty("efficiencyScore").GetDouble());
        var refs = image.GetProperty("fileReference");
        Assert.Equal(3, refs.GetArrayLength());
        Assert.Equal((2, 12810L, "/root/saved.txt"), (refs[0].GetProperty("count").GetInt32(), refs[0].GetProperty("sizeBytes").GetInt64(), refs[0].GetProperty("file").GetString()));

        var ours = root.GetProperty("layerdive");
        Assert.Equal("dive-test:latest", ours.GetProperty("name").GetString());
        Assert.Equal(66237, ours.GetProperty("userSizeBytes").GetInt64());
        Assert.True(ours.GetProperty("layers")[9].GetProperty("whiteouts").GetInt32() >= 1);
        Assert.True(ours.GetProperty("layers").EnumerateArray().All(l => l.GetProperty("verified").GetBoolean()));
        Assert.Equal(JsonValueKind.Number, ours.GetProperty("overlay").GetProperty("removableBytes").ValueKind);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.layerdive-tmp"));
    }

    [Fact]
    public void Opaque_directories_reach_the_json_report()
    {
        using var dir = new TempDir();
        var r = Tool.Run(Paths.Sample, "--json", dir.File("s.json"), "--quiet");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(dir.File("s.json")));
        var layer3 = doc.RootElement.GetProperty("layerdive").GetProperty("layers")[3];
        Assert.Equal(["/etc/app"], layer3.GetProperty("opaqueDirectories").EnumerateArray().Select(e => e.GetString()));
        var removable = doc.RootElement.GetProperty("layerdive").GetProperty("overlay").GetProperty("removable").EnumerateArray()
            .Select(e => (e.GetProperty("path").GetString(), e.GetProperty("reason").GetString())).ToList();
        // from SampleImage: layer 3 made /etc/app opaque; layer 2 deleted the .deb
        Assert.Contains(("/etc/app/defaults.json", "opaque-directory"), removable);
        Assert.Contains(("/var/cache/apt/archives/app_1.0_amd64.deb", "whiteout"), removable);
    }
}
