using System.Text.Json;
using System.Xml.Linq;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>issue 29 in CI: the advice in --ci's text, JSON, JUnit and markdown reports and in --json; the rules highest-avoidable-bytes and secrets.</summary>
public sealed class AdviseCiTests
{
    private static readonly Dictionary<string, string> NoEnv = [];
    private static readonly string[] DiveRulesOff = ["--lowestEfficiency", "disabled", "--highestUserWastedPercent", "disabled"];

    private static string Write(TempDir dir, ImageBuilder image, string name = "image.oci.tar")
    {
        var path = dir.File(name);
        image.WriteOciArchive(path);
        return path;
    }

    /// <summary>300,000 + 1,234 bytes written by layer 1 and deleted by layer 2: the only finding.</summary>
    private static ImageBuilder RemovedLater() => AdviseTests.Base()
        .Layer("RUN /bin/sh -c make-data", l => l.Dir("data").File("data/big.bin", AdviseTests.Noise(300_000, 2)).File("data/small.bin", AdviseTests.Noise(1234, 3)))
        .Layer("RUN /bin/sh -c rm -f /data/big.bin /data/small.bin", l => l.Dir("data").Whiteout("data/big.bin").Whiteout("data/small.bin"));

    private static CliResult Ci(TempDir dir, string image, params string[] more) =>
        Tool.RunWith(NoEnv, dir.Path, [image, "--ci", .. DiveRulesOff, .. more]);

    [Fact]
    public void A_secret_fails_the_gate_unless_disabled_and_is_never_printed()
    {
        using var dir = new TempDir();
        var image = Write(dir, AdviseTests.WithSecrets());
        var r = Ci(dir, image);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Result:PASS", r.Stdout); // dive's own verdict stays dive's
        Assert.Contains("  FAIL: secrets: 3 secret(s) stored in the image's layers: /root/.ssh/id_rsa (layer 1, deleted in layer 3)", r.Stdout);
        Assert.Contains("LayerDive result:FAIL (advice rules)", r.Stdout);
        foreach (var format in new[] { "json", "junit", "markdown" })
        {
            var report = Ci(dir, image, "--ci-format", format);
            foreach (var secret in new[] { AdviseTests.KeyValue, AdviseTests.TokenValue, AdviseTests.AuthValue })
                Assert.DoesNotContain(secret, report.Stdout + r.Stdout);
        }

        Assert.Equal(0, Ci(dir, image, "--secrets", "disabled").ExitCode);
        File.WriteAllText(dir.File(".dive-ci"), "rules:\n  secrets: disabled\n");
        var byFile = Ci(dir, image);
        Assert.Equal(0, byFile.ExitCode);
        Assert.Contains("  SKIP: secrets: rule disabled", byFile.Stdout);
        var bad = Ci(dir, image, "--secrets", "maybe");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("rule secrets: 'maybe' is neither fail nor disabled", bad.Stderr);
    }

    [Fact]
    public void Highest_avoidable_bytes_judges_the_advice_total()
    {
        using var dir = new TempDir();
        var image = Write(dir, RemovedLater());
        const long total = 300_000 + 1234;
        var over = Ci(dir, image, "--highest-avoidable-bytes", (total - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, over.ExitCode);
        Assert.Contains($"  FAIL: highestAvoidableBytes: a rebuild could save too many bytes (avoidable-bytes={total} > threshold={total - 1})", over.Stdout);
        Assert.Equal(0, Ci(dir, image, "--highestAvoidableBytes", total.ToString(System.Globalization.CultureInfo.InvariantCulture)).ExitCode); // equal passes
        File.WriteAllText(dir.File(".dive-ci"), "rules:\n  highest-avoidable-bytes: 300kB\n");
        Assert.Equal(1, Ci(dir, image).ExitCode);
        File.WriteAllText(dir.File(".dive-ci"), "rules:\n  highestAvoidableBytes: 1MB\n");
        var pass = Ci(dir, image);
        Assert.Equal(0, pass.ExitCode);
        Assert.Contains("Advice (layerdive advise): 1 finding, 301234 bytes avoidable (301 kB)", pass.Stdout);
        Assert.Contains("removed-later", pass.Stdout);
        Assert.Contains("/data/big.bin (+1 more)", pass.Stdout);
        // and advise's own summary line says one finding as one
        var advise = Tool.Run("advise", image);
        Assert.Equal(0, advise.ExitCode);
        Assert.Contains(": 1 finding; 301 kB could be saved", advise.Stdout);
    }

    [Fact]
    public void The_reports_carry_the_advice_and_JUnit_has_a_case_per_kind()
    {
        using var dir = new TempDir();
        var image = Write(dir, AdviseTests.WithSecrets().Layer("RUN /bin/sh -c make", l => l.Dir("data").File("data/tmp.bin", AdviseTests.Noise(5000, 9)))
            .Layer("RUN /bin/sh -c rm /data/tmp.bin", l => l.Dir("data").Whiteout("data/tmp.bin")));

        var junit = Ci(dir, image, "--ci-format", "junit");
        var cases = XDocument.Parse(junit.Stdout).Descendants("testcase").Where(c => (string?)c.Attribute("classname") == "layerdive.advice").ToList();
        Assert.Equal(["secret", "copied-up-unchanged", "rewritten", "removed-later", "package-cache", "build-only", "duplicates"], cases.Select(c => (string)c.Attribute("name")!));
        Assert.NotNull(cases[0].Element("failure"));
        Assert.Contains("3 finding(s)", (string)cases[0].Element("failure")!.Attribute("message")!);
        Assert.Contains("5000 bytes: layers 4,5: /data/tmp.bin", (string)cases[3].Element("system-out")!);
        Assert.Equal("no finding", (string)cases[4].Element("system-out")!);

        var json = Ci(dir, image, "--ci-format", "json");
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            var advice = doc.RootElement.GetProperty("advice");
            Assert.Equal("secret", advice.GetProperty("findings")[0].GetProperty("kind").GetString());
            Assert.Contains(doc.RootElement.GetProperty("rules").EnumerateArray(), r => r.GetProperty("name").GetString() == "secrets" && r.GetProperty("status").GetString() == "fail");
        }

        var md = Ci(dir, image, "--ci-format", "markdown");
        Assert.Contains("| secrets | FAIL | fail |", md.Stdout);
        Assert.Contains("```dockerfile", md.Stdout);

        // --json: layerdive.advice holds what advise --format json finds
        var export = dir.File("export.json");
        Assert.Equal(0, Tool.RunWith(NoEnv, dir.Path, image, "--json", export, "--quiet").ExitCode);
        var advise = Tool.Run("advise", image, "--format", "json", "--quiet");
        using var exported = JsonDocument.Parse(File.ReadAllBytes(export));
        using var advised = JsonDocument.Parse(advise.Stdout);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
            System.Text.Json.Nodes.JsonNode.Parse(advised.RootElement.GetProperty("findings").GetRawText()),
            System.Text.Json.Nodes.JsonNode.Parse(exported.RootElement.GetProperty("layerdive").GetProperty("advice").GetRawText())));
        Assert.Equal(4, exported.RootElement.GetProperty("layerdive").GetProperty("advice").GetArrayLength()); // three secrets, one removed later
        Assert.DoesNotContain(AdviseTests.KeyValue, File.ReadAllText(export));
    }

    [Fact]
    public void The_HTML_report_has_an_advice_section()
    {
        using var dir = new TempDir();
        var image = Write(dir, AdviseTests.WithSecrets());
        var page = dir.File("report.html");
        Assert.Equal(0, Tool.Run("report", image, "-o", page, "--quiet").ExitCode);
        var html = File.ReadAllText(page);
        int section = html.IndexOf("<section id=\"advice\">", StringComparison.Ordinal);
        Assert.True(section > 0);
        var advice = html[section..html.IndexOf("</section>", section, StringComparison.Ordinal)];
        Assert.Contains("/root/.ssh/id_rsa", advice);
        Assert.Contains("RUN --mount=type=secret,id=sshkey,target=/root/.ssh/id_rsa &lt;command&gt;\n", advice); // the fix's lines kept in a <pre>
        foreach (var secret in new[] { AdviseTests.KeyValue, AdviseTests.TokenValue, AdviseTests.AuthValue })
            Assert.DoesNotContain(secret, html);
        var ci = Tool.RunWith(NoEnv, dir.Path, [image, "--ci", .. DiveRulesOff, "--ci-format", "html"]);
        Assert.Contains("<td>secrets</td><td>FAIL</td>", ci.Stdout); // the advice rules in the page's rules table
    }
}
