using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using YamlDotNet.RepresentationModel;

namespace LayerDive.Tests;

/// <summary>
/// The CI integrations as a pipeline runs them: the GitHub Action (action.yml, its steps read from the
/// file and run in bash with the variables and files a runner gives a step) and the GitLab CI template
/// (its job's script run in a POSIX shell as a runner would), each installing a release archive of the
/// native executable and gating an image. The figures expected of dive's test image are dive v0.13.1's.
/// </summary>
[Collection(nameof(SerialCollection))]
public sealed partial class CiIntegrationTests(NativeBuild native) : IClassFixture<NativeBuild>
{
    private static readonly string DiveImage = Paths.Public("dive__.data_test-docker-image.tar");

    // dive v0.13.1 on dive's test image: efficiency 98.4421 %, wastedBytes 32025, userWastedPercent 48.3491 %
    private const double DiveEfficiency = 0.984421;
    private const long DiveWastedBytes = 32025;
    private const double DiveUserWasted = 0.483491;

    // ---------------- GitHub Action ----------------

    [Theory]
    // dive's defaults: efficiency >= 0.9 passes, wasted bytes off, user-wasted 48% > 10% fails
    [InlineData("", "", "", 1)]
    [InlineData("0.98", "40000", "0.5", 0)]
    [InlineData("0.99", "30000", "disabled", 1)]
    public async Task The_action_gates_dives_image_with_the_rules_it_is_given(string lowest, string wasted, string userWasted, int exit)
    {
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        var inputs = new Dictionary<string, string>
        {
            ["image"] = DiveImage, ["archive"] = archive,
            ["lowest-efficiency"] = lowest, ["highest-wasted-bytes"] = wasted, ["highest-user-wasted-percent"] = userWasted,
        };
        var run = RunAction(ws, inputs);

        Assert.True(run.Steps["install"] == 0, run.Log);
        Assert.Equal(exit, run.Steps["gate"]);
        Assert.Equal(exit == 0 ? "pass" : "fail", run.Outputs["verdict"]);

        // the figures are dive's
        Assert.Equal(Percent(DiveEfficiency), run.Outputs["efficiency"]);
        Assert.Equal(DiveWastedBytes.ToString(CultureInfo.InvariantCulture), run.Outputs["wasted-bytes"]);
        Assert.Equal(Percent(DiveUserWasted), run.Outputs["user-wasted-percent"]);

        // what each rule makes of them, as dive judges (a figure equal to its threshold passes)
        int failures = 0, skipped = 0;
        void Judge(string value, string fallback, Func<double, bool> fails)
        {
            var v = value.Length == 0 ? fallback : value;
            if (v == "disabled") skipped++;
            else if (fails(double.Parse(v, CultureInfo.InvariantCulture))) failures++;
        }
        Judge(lowest, "0.9", t => DiveEfficiency < t);
        Judge(wasted, "disabled", t => DiveWastedBytes > t);
        Judge(userWasted, "0.1", t => DiveUserWasted > t);
        Assert.Equal(exit == 0, failures == 0);
        AssertJUnit(run.Outputs["junit"], tests: 3, failures, skipped);
        Assert.Equal(Path.Combine(ws.Path, "workspace", "layerdive-junit.xml"), run.Outputs["junit"]);

        // the job summary holds the markdown report of layerdive itself on the same image and rules
        var rules = new List<string>();
        if (lowest.Length > 0) rules.AddRange(["--lowestEfficiency", lowest]);
        if (wasted.Length > 0) rules.AddRange(["--highestWastedBytes", wasted]);
        if (userWasted.Length > 0) rules.AddRange(["--highestUserWastedPercent", userWasted]);
        var direct = Scripts.ExecIn(Path.Combine(ws.Path, "workspace"), await native.Command, null, [DiveImage, "--ci", "--ci-format", "markdown", .. rules]);
        Assert.Equal(exit, direct.ExitCode);
        Assert.Contains(exit == 0 ? "— PASS" : "— FAIL", direct.Stdout);
        Assert.Equal(direct.Stdout, run.Summary);
        Assert.Equal(direct.Stdout, File.ReadAllText(run.Outputs["report"]));
        // dive's text is in the step's log, and later steps find layerdive on PATH
        Assert.Contains(exit == 0 ? "Result:PASS" : "Result:FAIL", run.Log);
        Assert.Equal(Path.GetDirectoryName(run.Outputs["executable"]), run.PathAdditions.Single());
    }

    /// <summary>The bundled sample, gated by a rules file named by ci-config and by a .dive-ci in the workspace.</summary>
    [Theory]
    [InlineData("ci-config")]
    [InlineData(".dive-ci")]
    public async Task The_action_reads_a_rules_file_and_gates_the_bundled_sample(string how)
    {
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        var figures = Tool.Run(Paths.Sample, "--ci", "--ci-format", "json");
        using var json = System.Text.Json.JsonDocument.Parse(figures.Stdout);
        var dive = json.RootElement.GetProperty("dive");
        var efficiency = dive.GetProperty("efficiency").GetDouble();
        var wastedBytes = dive.GetProperty("wastedBytes").GetInt64();

        foreach (var pass in new[] { true, false })
        {
            // a threshold either side of the sample's own efficiency and wasted bytes
            var rules = $"rules:\n  lowestEfficiency: {(pass ? "0" : "1")}\n  highestWastedBytes: {(pass ? wastedBytes : Math.Max(wastedBytes - 1, 0))}\n  highestUserWastedPercent: disabled\n";
            Directory.CreateDirectory(Path.Combine(ws.Path, "workspace"));
            var inputs = new Dictionary<string, string> { ["image"] = Paths.Sample, ["archive"] = archive };
            File.Delete(Path.Combine(ws.Path, "workspace", ".dive-ci"));
            if (how == "ci-config")
            {
                File.WriteAllText(ws.File("rules.yaml"), rules);
                inputs["ci-config"] = ws.File("rules.yaml");
            }
            else File.WriteAllText(Path.Combine(ws.Path, "workspace", ".dive-ci"), rules);

            var run = RunAction(ws, inputs);
            // a sample that wastes nothing cannot fail highestWastedBytes; efficiency 1 fails below 1 only
            bool expectPass = pass || (efficiency >= 1 && wastedBytes == 0);
            Assert.True(run.Steps["gate"] == (expectPass ? 0 : 1), run.Log);
            Assert.Equal(expectPass ? "pass" : "fail", run.Outputs["verdict"]);
            Assert.Equal(wastedBytes.ToString(CultureInfo.InvariantCulture), run.Outputs["wasted-bytes"]);
            Assert.Equal(Percent(efficiency), run.Outputs["efficiency"]);
            int expectFailures = pass ? 0 : (efficiency < 1 ? 1 : 0) + (wastedBytes > Math.Max(wastedBytes - 1, 0) ? 1 : 0);
            AssertJUnit(run.Outputs["junit"], tests: 3, expectFailures, skipped: 1);
            Assert.Contains(how == "ci-config" ? "  Using CI config: " + ws.File("rules.yaml") : "  Using CI config: .dive-ci", run.Log);
            string[] config = how == "ci-config" ? ["--ci-config", ws.File("rules.yaml")] : [];
            var direct = Scripts.ExecIn(Path.Combine(ws.Path, "workspace"), await native.Command, null, [Paths.Sample, "--ci", "--ci-format", "markdown", .. config]);
            Assert.Equal(run.Steps["gate"], direct.ExitCode);
            Assert.Contains(expectPass ? "— PASS" : "— FAIL", direct.Stdout);
            Assert.Equal(direct.Stdout, run.Summary);
        }
    }

    [Fact]
    public async Task The_action_downloads_an_archive_by_url_and_checks_it()
    {
        if (!Scripts.OnPath("curl") && !Scripts.OnPath("wget"))
        {
            const string why = "neither curl nor wget is installed (apt-get install curl); .ci/run installs curl";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
            Assert.Skip(why);
        }
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        using var server = new FileServer(Path.GetDirectoryName(archive)!);
        var run = RunAction(ws, new() { ["image"] = DiveImage, ["archive"] = server.Url + Path.GetFileName(archive), ["highest-user-wasted-percent"] = "0.5" });
        Assert.True(run.Steps["install"] == 0, run.Log);
        Assert.Contains("matches SHA256SUMS", run.Log);
        Assert.Contains("/" + Path.GetFileName(archive), server.Requested);
        Assert.Contains("/SHA256SUMS", server.Requested);
        Assert.Equal(0, run.Steps["gate"]);
        Assert.Equal("pass", run.Outputs["verdict"]);
    }

    /// <summary>
    /// Without an archive the action installs the release of its own version (the project's, read from
    /// its checkout) or of the version input. No network here: a proxy that refuses every connection
    /// stops the download, and the log says what it asked for.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("v9.8.7")]
    public void The_action_installs_the_release_of_its_own_version_by_default(string version)
    {
        if (!Scripts.OnPath("curl")) Assert.Skip("curl is not installed (apt-get install curl); .ci/run installs it");
        using var ws = new TempDir();
        const string refused = "http://127.0.0.1:1";
        var run = RunAction(ws, new() { ["image"] = DiveImage, ["version"] = version },
            new() { ["https_proxy"] = refused, ["HTTPS_PROXY"] = refused, ["http_proxy"] = refused, ["no_proxy"] = "", ["NO_PROXY"] = "" });
        var v = version.Length > 0 ? version.TrimStart('v') : ProjectVersion();
        Assert.Contains($"layerdive: downloading https://github.com/layerdive/layerdive/releases/download/v{v}/layerdive-{v}-linux-x64.tar.gz\n", run.Log);
        Assert.Equal(2, run.Steps["install"]);
        Assert.False(run.Steps.ContainsKey("gate"));
    }

    /// <summary>An archive that is not the one SHA256SUMS lists is not run; nothing is gated.</summary>
    [Fact]
    public async Task The_action_refuses_an_archive_that_does_not_match_its_sums()
    {
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        var sums = Path.Combine(Path.GetDirectoryName(archive)!, "SHA256SUMS");
        var listed = File.ReadAllText(sums);
        File.WriteAllText(sums, (listed[0] == '0' ? "1" : "0") + listed[1..]);

        var run = RunAction(ws, new() { ["image"] = DiveImage, ["archive"] = archive });
        Assert.Equal(2, run.Steps["install"]);
        Assert.False(run.Steps.ContainsKey("gate"));
        Assert.Contains("does not match SHA256SUMS", run.Log);
        Assert.Empty(run.Summary);
        Assert.False(File.Exists(Path.Combine(ws.Path, "workspace", "layerdive-junit.xml")));
    }

    /// <summary>An image that cannot be read: exit 2, verdict error, the summary says so, no JUnit file.</summary>
    [Fact]
    public async Task The_action_fails_with_exit_2_on_an_image_it_cannot_read()
    {
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        var run = RunAction(ws, new() { ["image"] = ws.File("missing.tar"), ["archive"] = archive });
        Assert.Equal(2, run.Steps["gate"]);
        Assert.Equal("error", run.Outputs["verdict"]);
        Assert.Contains("layerdive: error: ", run.Log);
        Assert.Contains("could not be gated (exit 2)", run.Summary);
        Assert.False(File.Exists(Path.Combine(ws.Path, "workspace", "layerdive-junit.xml")));
    }

    // ---------------- GitLab CI ----------------

    [Theory]
    [InlineData("sh", "", 1)]
    [InlineData("bash", "0.5", 0)]
    public async Task The_gitlab_job_gates_dives_image_and_keeps_its_reports(string shell, string userWasted, int exit)
    {
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        var jobs = LoadYaml(Path.Combine(Paths.RepoRoot, "ci", "gitlab", "layerdive.gitlab-ci.yml"));
        var job = (YamlMappingNode)jobs[".layerdive"];
        Assert.Equal(".layerdive", Scalar(jobs["layerdive"], "extends"));

        var artifacts = (YamlMappingNode)job["artifacts"];
        Assert.Equal("always", Scalar(artifacts, "when"));
        var junitName = Scalar(artifacts["reports"], "junit");
        var kept = ((YamlSequenceNode)artifacts["paths"]).Select(n => ((YamlScalarNode)n).Value!).ToList();
        Assert.Contains(junitName, kept);

        // what a runner sets, the job's variables, then the project's (ours)
        var project = Path.Combine(ws.Path, "project");
        Directory.CreateDirectory(project);
        var env = new Dictionary<string, string> { ["CI"] = "true", ["GITLAB_CI"] = "true", ["CI_PROJECT_DIR"] = project };
        foreach (var (k, v) in (YamlMappingNode)job["variables"]) env[((YamlScalarNode)k).Value!] = ((YamlScalarNode)v).Value!;
        env["LAYERDIVE_IMAGE"] = DiveImage;
        env["LAYERDIVE_ARCHIVE"] = archive;
        env["LAYERDIVE_HIGHEST_USER_WASTED_PERCENT"] = userWasted;
        env["TMPDIR"] = Directory.CreateDirectory(ws.File("tmp")).FullName;
        var script = string.Join("\n", ((YamlSequenceNode)job["script"]).Select(n => ((YamlScalarNode)n).Value));
        var (code, log) = RunShell(shell, ["-e"], script, project, env);

        Assert.True(code == exit, log);
        Assert.Contains(exit == 0 ? "Result:PASS" : "Result:FAIL", log);
        AssertJUnit(Path.Combine(project, junitName), tests: 3, failures: exit, skipped: 1);
        string[] rule = userWasted.Length > 0 ? ["--highestUserWastedPercent", userWasted] : [];
        var direct = Scripts.ExecIn(ws.Path, await native.Command, null, [DiveImage, "--ci", "--ci-format", "markdown", .. rule]);
        var report = kept.Single(p => p.EndsWith(".md", StringComparison.Ordinal));
        Assert.Equal(direct.Stdout, File.ReadAllText(Path.Combine(project, report)));
        // nothing but the two reports is written into the project
        Assert.Equal(kept.Order(StringComparer.Ordinal), Directory.EnumerateFileSystemEntries(project).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        // and the installed copy is gone
        Assert.Empty(Directory.EnumerateFileSystemEntries(env["TMPDIR"]));
    }

    /// <summary>The template is fetched alone (include: remote), so it carries its release's version: the project's.</summary>
    [Fact]
    public void The_gitlab_template_installs_the_projects_own_version()
    {
        var job = (YamlMappingNode)LoadYaml(Path.Combine(Paths.RepoRoot, "ci", "gitlab", "layerdive.gitlab-ci.yml"))[".layerdive"];
        Assert.Equal(ProjectVersion(), Scalar(job["variables"], "LAYERDIVE_VERSION"));
    }

    [Fact]
    public async Task The_gitlab_job_refuses_an_archive_that_does_not_match_its_sums()
    {
        using var ws = new TempDir();
        var archive = await ReleaseArchive(ws);
        File.AppendAllText(archive, "tail");
        var job = (YamlMappingNode)LoadYaml(Path.Combine(Paths.RepoRoot, "ci", "gitlab", "layerdive.gitlab-ci.yml"))[".layerdive"];
        var script = string.Join("\n", ((YamlSequenceNode)job["script"]).Select(n => ((YamlScalarNode)n).Value));
        var project = Path.Combine(ws.Path, "project");
        Directory.CreateDirectory(project);
        var tmp = Directory.CreateDirectory(ws.File("tmp")).FullName;
        var (code, log) = RunShell("sh", ["-e"], script, project, new() { ["CI_PROJECT_DIR"] = project, ["LAYERDIVE_IMAGE"] = DiveImage, ["LAYERDIVE_ARCHIVE"] = archive, ["TMPDIR"] = tmp });
        Assert.Equal(2, code);
        Assert.Contains("does not match SHA256SUMS", log);
        Assert.Empty(Directory.EnumerateFileSystemEntries(project));
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
    }

    /// <summary>The README's tables name every input of the action and every variable of the template, and no other.</summary>
    [Fact]
    public void The_README_lists_the_actions_inputs_and_the_templates_variables()
    {
        var readme = File.ReadAllText(Path.Combine(Paths.RepoRoot, "README.md"));
        var start = readme.IndexOf("### In CI (GitHub Actions, GitLab CI)", StringComparison.Ordinal);
        Assert.True(start >= 0, "no In CI section in the README");
        var end = readme.IndexOf("\n## ", start, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        // the first column of each table row: `name`, or several `NAME`s
        var listed = section.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .SelectMany(l => Regex.Matches(l.Split('|')[1], "`([^`]+)`").Select(m => m.Groups[1].Value)).ToHashSet();

        var inputs = ((YamlMappingNode)LoadYaml(Path.Combine(Paths.RepoRoot, "action.yml"))["inputs"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value!);
        var job = (YamlMappingNode)LoadYaml(Path.Combine(Paths.RepoRoot, "ci", "gitlab", "layerdive.gitlab-ci.yml"))[".layerdive"];
        var variables = ((YamlMappingNode)job["variables"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Append("LAYERDIVE_IMAGE");
        var expected = inputs.Concat(variables).ToHashSet();
        Assert.True(expected.SetEquals(listed), $"not in the README: {string.Join(' ', expected.Except(listed))}; in the README only: {string.Join(' ', listed.Except(expected))}");
    }

    // ---------------- the runner ----------------

    private sealed record ActionRun(Dictionary<string, int> Steps, Dictionary<string, string> Outputs, string Summary, string Log, List<string> PathAdditions);

    /// <summary>
    /// Runs action.yml's steps as a runner runs a composite action: each <c>run:</c> in
    /// <c>bash --noprofile --norc -eo pipefail</c>, in the workspace, with its <c>env:</c> (expressions
    /// over the inputs and earlier steps' outputs), and files of its own for GITHUB_OUTPUT,
    /// GITHUB_STEP_SUMMARY and GITHUB_PATH; after a failed step only steps under <c>always()</c> run.
    /// </summary>
    private static ActionRun RunAction(TempDir ws, Dictionary<string, string> given, Dictionary<string, string>? machine = null)
    {
        var action = LoadYaml(Path.Combine(Paths.RepoRoot, "action.yml"));
        var inputs = new Dictionary<string, string>();
        foreach (var (k, v) in (YamlMappingNode)action["inputs"])
        {
            var name = ((YamlScalarNode)k).Value!;
            var spec = (YamlMappingNode)v;
            inputs[name] = given.TryGetValue(name, out var value) ? value : spec.Children.ContainsKey("default") ? Scalar(spec, "default") : "";
            if (Scalar(spec, "required", "false") == "true") Assert.True(inputs[name].Length > 0, $"input {name} is required");
        }
        Assert.Empty(given.Keys.Except(inputs.Keys));

        var runs = (YamlMappingNode)action["runs"];
        Assert.Equal("composite", Scalar(runs, "using"));
        var workspace = Path.Combine(ws.Path, "workspace");
        var temp = Path.Combine(ws.Path, "runner-temp");
        Directory.CreateDirectory(workspace);
        Directory.CreateDirectory(temp);
        var stepOutputs = new Dictionary<string, Dictionary<string, string>>();
        var results = new Dictionary<string, int>();
        var summary = new System.Text.StringBuilder();
        var log = new System.Text.StringBuilder();
        var pathAdditions = new List<string>();
        bool failed = false;
        int index = 0;

        string Evaluate(string text) => Expression().Replace(text, m =>
        {
            var e = m.Groups[1].Value;
            if (e.StartsWith("inputs.", StringComparison.Ordinal)) return inputs[e["inputs.".Length..]];
            var step = StepOutput().Match(e);
            if (step.Success) return stepOutputs.TryGetValue(step.Groups[1].Value, out var o) && o.TryGetValue(step.Groups[2].Value, out var v) ? v : "";
            throw new InvalidOperationException("an expression this runner does not evaluate: " + e);
        });

        foreach (var node in (YamlSequenceNode)runs["steps"])
        {
            var step = (YamlMappingNode)node;
            var id = step.Children.ContainsKey("id") ? Scalar(step, "id") : $"step{index}";
            index++;
            var condition = step.Children.ContainsKey("if") ? Scalar(step, "if") : "success()";
            if (step.Children.ContainsKey("uses"))
            {
                // the only action used is the artifact upload, asked for by an input the tests leave empty
                Assert.StartsWith("actions/upload-artifact@", Scalar(step, "uses"));
                Assert.Contains("inputs.junit-artifact != ''", condition);
                Assert.Equal("", inputs["junit-artifact"]);
                continue;
            }
            if (failed && !condition.Contains("always()", StringComparison.Ordinal)) continue;
            Assert.Equal("success()", condition);
            Assert.Equal("bash", Scalar(step, "shell"));

            var files = new Dictionary<string, string>();
            foreach (var f in new[] { "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH" })
            {
                files[f] = Path.Combine(temp, $"_{f.ToLowerInvariant()}_{id}");
                File.WriteAllText(files[f], "");
            }
            var env = new Dictionary<string, string>(machine ?? [])
            {
                ["CI"] = "true", ["GITHUB_ACTIONS"] = "true", ["GITHUB_ACTION_PATH"] = Paths.RepoRoot,
                ["GITHUB_WORKSPACE"] = workspace, ["RUNNER_TEMP"] = temp,
            };
            foreach (var (k, v) in files) env[k] = v;
            if (step.Children.ContainsKey("env"))
                foreach (var (k, v) in (YamlMappingNode)step["env"])
                    env[((YamlScalarNode)k).Value!] = Evaluate(((YamlScalarNode)v).Value!);
            var (code, output) = RunShell("bash", ["--noprofile", "--norc", "-eo", "pipefail"], Evaluate(Scalar(step, "run")), workspace, env);
            results[id] = code;
            log.Append(output);
            failed |= code != 0;

            var outputs = new Dictionary<string, string>();
            foreach (var line in File.ReadAllLines(files["GITHUB_OUTPUT"]))
            {
                var eq = line.IndexOf('=');
                Assert.True(eq > 0, "an output line this runner does not read: " + line);
                outputs[line[..eq]] = line[(eq + 1)..];
            }
            stepOutputs[id] = outputs;
            summary.Append(File.ReadAllText(files["GITHUB_STEP_SUMMARY"]));
            pathAdditions.AddRange(File.ReadAllLines(files["GITHUB_PATH"]));
        }

        // the action's outputs, as a workflow reads them
        var actionOutputs = new Dictionary<string, string>();
        foreach (var (k, v) in (YamlMappingNode)action["outputs"])
            actionOutputs[((YamlScalarNode)k).Value!] = Evaluate(Scalar(v, "value"));
        return new ActionRun(results, actionOutputs, summary.ToString(), log.ToString(), pathAdditions);
    }

    [GeneratedRegex(@"\$\{\{\s*(.+?)\s*\}\}")]
    private static partial Regex Expression();

    [GeneratedRegex(@"^steps\.([\w-]+)\.outputs\.([\w-]+)$")]
    private static partial Regex StepOutput();

    private static (int Code, string Output) RunShell(string shell, string[] options, string script, string folder, Dictionary<string, string> env)
    {
        var file = Path.Combine(Path.GetTempPath(), "layerdive-step-" + Guid.NewGuid().ToString("N")[..12] + ".sh");
        File.WriteAllText(file, script);
        try
        {
            var psi = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
            foreach (var o in options) psi.ArgumentList.Add(o);
            psi.ArgumentList.Add(file);
            psi.Environment.Remove("CI");
            foreach (var (k, v) in env) psi.Environment[k] = v;
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            // a gate of these small images takes seconds; a hang must end the test
            if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{shell} {file} did not finish in 120 s");
            }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // ---------------- fixtures ----------------

    /// <summary>
    /// A release archive as a release lays it out: layerdive-VERSION-linux-x64.tar.gz holding the folder
    /// layerdive-VERSION-linux-x64/ with the native executable and the README, and SHA256SUMS beside it.
    /// </summary>
    private async Task<string> ReleaseArchive(TempDir ws)
    {
        var exe = await native.Command;
        var version = ProjectVersion();
        var name = $"layerdive-{version}-linux-x64";
        var stage = Path.Combine(ws.Path, "stage", name);
        Directory.CreateDirectory(stage);
        File.Copy(exe, Path.Combine(stage, "layerdive")); // File.Copy keeps the mode: executable
        File.Copy(Path.Combine(Paths.RepoRoot, "README.md"), Path.Combine(stage, "README.md"));
        var release = Path.Combine(ws.Path, "release");
        Directory.CreateDirectory(release);
        var archive = Path.Combine(release, name + ".tar.gz");
        var tar = Scripts.ExecIn(Path.Combine(ws.Path, "stage"), "tar", null, "-czf", archive, name);
        Assert.True(tar.ExitCode == 0, tar.Stderr);
        var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive)));
        File.WriteAllText(Path.Combine(release, "SHA256SUMS"), $"{hash}  {name}.tar.gz\n");
        return archive;
    }

    private static string? _version;

    /// <summary>The project's version, as msbuild reads it wherever it is defined.</summary>
    private static string ProjectVersion()
    {
        if (_version is not null) return _version;
        var r = Scripts.ExecIn(Paths.RepoRoot, "dotnet", null, "msbuild", "src/LayerDive", "-getProperty:Version", "-nologo");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return _version = r.Stdout.Trim();
    }

    private static void AssertJUnit(string file, int tests, int failures, int skipped)
    {
        var suite = XDocument.Load(file).Root!.Element("testsuite")!;
        // dive's rules; the advice's rules and kinds (AdviseCiTests) pass on these images and are counted in the suite's figures
        var all = suite.Elements("testcase").ToList();
        var cases = all.Where(c => (string?)c.Attribute("classname") == "layerdive.rules" && (string?)c.Attribute("name") is not ("highestAvoidableBytes" or "secrets")).ToList();
        Assert.Equal(tests, cases.Count);
        Assert.Equal(all.Count.ToString(CultureInfo.InvariantCulture), suite.Attribute("tests")!.Value);
        Assert.Equal(failures, cases.Count(c => c.Element("failure") is not null));
        Assert.Equal(failures, all.Count(c => c.Element("failure") is not null));
        Assert.Equal(failures.ToString(CultureInfo.InvariantCulture), suite.Attribute("failures")!.Value);
        Assert.Equal(skipped, cases.Count(c => c.Element("skipped") is not null));
    }

    /// <summary>A ratio as dive prints it in percent (%2.4f).</summary>
    private static string Percent(double ratio) => (ratio * 100).ToString("0.0000", CultureInfo.InvariantCulture);

    private static YamlMappingNode LoadYaml(string file)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(file)));
        return (YamlMappingNode)yaml.Documents.Single().RootNode;
    }

    private static string Scalar(YamlNode map, string key, string? fallback = null)
    {
        var m = (YamlMappingNode)map;
        if (!m.Children.TryGetValue(new YamlScalarNode(key), out var v)) return fallback ?? throw new KeyNotFoundException(key);
        return ((YamlScalarNode)v).Value ?? "";
    }

    /// <summary>A loopback HTTP server for one folder's files, recording the paths asked for.</summary>
    private sealed class FileServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _folder;
        private readonly Task _loop;

        public FileServer(string folder)
        {
            _folder = folder;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(Serve);
        }

        public string Url { get; }

        public List<string> Requested { get; } = [];

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext c;
                try { c = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                var path = c.Request.Url!.AbsolutePath;
                lock (Requested) Requested.Add(path);
                var file = Path.Combine(_folder, Path.GetFileName(path));
                if (File.Exists(file))
                {
                    var bytes = await File.ReadAllBytesAsync(file);
                    c.Response.ContentLength64 = bytes.Length;
                    await c.Response.OutputStream.WriteAsync(bytes);
                }
                else c.Response.StatusCode = 404;
                c.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try { _loop.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        }
    }
}
