using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Merge;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>CI mode (docs/metrics.md, docs/cli.md): a drop-in for <c>dive --ci</c>, with overlay metrics and reports.</summary>
internal static class CiCommand
{
    internal sealed record Analysis(ImageModel Model, DiveMetricsResult Dive, OverlayMetricsResult Overlay, Core.Analysis.Advice.AdviceResult Advice)
    {
        public ImageFigures Figures => new(Dive, Overlay) { Advice = Advice };
    }

    public static int Run(string image, SharedOptions shared, CiOptions ci, ParseResult p, CliContext context)
    {
        IReadOnlyList<RuleSetting> rules, adviceRules;
        string? rulesFile, configFile;
        try
        {
            configFile = DiveConfigFile(p.GetValue(shared.Config), context);
            (rules, adviceRules, rulesFile) = ResolveAllRules(p, ci, context);
        }
        catch (RuleConfigException ex)
        {
            return ErrorReport.Error(context.Error, null, ex.Message);
        }
        catch (IOException ex)
        {
            return ErrorReport.Error(context.Error, null, ex.Message);
        }

        return CommandLine.Guard(image, context.Error, img =>
        {
            var json = p.GetValue(ci.Json);
            if (p.GetValue(ci.CiOutput) is { } ciOutput) RefuseToReplaceImage(img, ciOutput, context, Strings.Cli_CiOutputWouldReplaceImage);
            var analysis = Analyse(img, shared, p, context, json);
            var metrics = p.GetValue(ci.Metrics) == "overlay" ? MetricSet.Overlay : MetricSet.Dive;
            var outcome = new CiOutcome(analysis.Model.Name, analysis.Figures, metrics, CiRules.Evaluate(rules, analysis.Figures, metrics))
            {
                AdviceRules = CiRules.Evaluate(adviceRules, analysis.Figures, metrics),
            };

            bool color = context.IsTerminal && !p.GetValue(shared.NoColor) && string.IsNullOrEmpty(context.GetEnvironment("NO_COLOR"));
            var text = TextContext(img, p.GetValue(shared.Source), analysis.Model, rulesFile, configFile, color);
            return Report(outcome, text, p.GetValue(ci.CiFormat) ?? "text", p.GetValue(ci.CiOutput), context,
                o => HtmlReport.Render(analysis.Model, analysis.Dive, analysis.Overlay, o, analysis.Advice));
        });
    }

    /// <summary>Writes the CI report (the text on stdout; another format there or to <paramref name="output"/>); the exit code of the verdict.</summary>
    internal static int Report(CiOutcome outcome, CiTextContext text, string format, string? output, CliContext context, Func<CiOutcome, string> html)
    {
        if (output is not null)
        {
            WriteText(outcome, text, context);
            if (format == "text")
                // written as it is made, as on stdout (without colour, as Render gives it)
                WriteFile(output, stream =>
                {
                    using var file = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
                    CiReports.WriteText(outcome, file, text with { Color = false });
                }, context);
            else WriteFile(output, format == "html" ? html(outcome) : CiReports.Render(outcome, format, text), context);
        }
        else
        {
            if (format == "text") WriteText(outcome, text, context);
            else context.Out.Write(format == "html" ? html(outcome) : CiReports.Render(outcome, format));
        }
        return outcome.Pass ? CommandLine.ExitOk : CommandLine.ExitRuleFailed;
    }

    /// <summary>The text report on stdout, written as it is made (a line per inefficient file).</summary>
    private static void WriteText(CiOutcome outcome, CiTextContext text, CliContext context)
    {
        using var output = new BufferedWriter(context.Out);
        CiReports.WriteText(outcome, output, text);
    }

    /// <summary>
    /// What dive's text names: the rules file, the source as dive writes it (<c>docker-archive://PATH</c>,
    /// <c>docker://NAME</c>: the kind that served the image and the name without its scheme), and dive's
    /// name for what extracted it.
    /// </summary>
    internal static CiTextContext TextContext(string image, string? sourceOption, ImageModel model, string? rulesFile, string? configFile, bool color)
    {
        int scheme = image.IndexOf("://", StringComparison.Ordinal);
        bool hasScheme = scheme > 0 && !image[..scheme].Contains('/');
        var name = hasScheme ? image[(scheme + 3)..] : image;
        // the kind the user named (--source, a scheme; docker-tar is dive's other spelling), else the one found
        var kind = sourceOption ?? (hasScheme ? image[..scheme] : null) ?? model.SourceKind;
        if (kind == "docker-tar") kind = "docker-archive";
        var resolver = kind == "docker" ? "docker-engine" : kind;
        return new CiTextContext(rulesFile, $"{kind}://{name}", resolver, color) { DiveConfigFile = configFile };
    }

    /// <summary>
    /// The configuration file dive would read (its <c>getDefaultCfgFile</c>): <c>--config</c>, else the first
    /// <c>*.yaml</c>/<c>*.yml</c> in <c>dive/</c> under <c>$XDG_CONFIG_HOME</c>, each of <c>$XDG_CONFIG_DIRS</c>
    /// and <c>~/.config</c>, else <c>~/.dive.yaml</c> where it exists; null when there is none. It must be YAML.
    /// </summary>
    internal static string? DiveConfigFile(string? explicitFile, CliContext context)
    {
        string? found = null;
        if (explicitFile is not null)
        {
            found = Path.GetFullPath(explicitFile, context.WorkingDirectory);
            if (!File.Exists(found)) throw new RuleConfigException(Text.Fill(Strings.Settings_FileMissing, explicitFile));
            found = explicitFile;
        }
        else
        {
            var home = context.GetEnvironment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var roots = new List<string> { context.GetEnvironment("XDG_CONFIG_HOME") ?? "" };
            roots.AddRange((context.GetEnvironment("XDG_CONFIG_DIRS") ?? "").Split(':'));
            roots.Add(Path.Combine(home, ".config"));
            foreach (var root in roots)
            {
                var dir = Path.Combine(root, "dive");
                if (root.Length == 0 || !Directory.Exists(dir)) continue;
                // os.ReadDir order: by name
                found = Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).FirstOrDefault(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal));
                if (found is not null) break;
            }
            found ??= File.Exists(Path.Combine(home, ".dive.yaml")) ? Path.Combine(home, ".dive.yaml") : null;
        }
        if (found is not null)
        {
            try
            {
                new YamlDotNet.RepresentationModel.YamlStream().Load(new StringReader(File.ReadAllText(Path.GetFullPath(found, context.WorkingDirectory))));
            }
            catch (YamlDotNet.Core.YamlException ex)
            {
                throw new RuleConfigException(Text.Fill(Strings.Settings_NotYaml, found, ex.Message));
            }
        }
        return found;
    }

    /// <summary>Every rule --ci judges, from the same file and flags: dive's, and the advice's.</summary>
    internal static (IReadOnlyList<RuleSetting> Dive, IReadOnlyList<RuleSetting> Advice, string? File) ResolveAllRules(ParseResult p, CiOptions ci, CliContext context)
    {
        var (dive, file) = ResolveRules(p.GetValue(ci.CiConfig), new Dictionary<RuleName, string?>
        {
            [RuleName.LowestEfficiency] = p.GetValue(ci.LowestEfficiency),
            [RuleName.HighestWastedBytes] = p.GetValue(ci.HighestWastedBytes),
            [RuleName.HighestUserWastedPercent] = p.GetValue(ci.HighestUserWastedPercent),
        }, context);
        var (advice, _) = ResolveRules(p.GetValue(ci.CiConfig), new Dictionary<RuleName, string?>
        {
            [RuleName.HighestAvoidableBytes] = p.GetValue(ci.HighestAvoidableBytes),
            [RuleName.Secrets] = p.GetValue(ci.Secrets),
        }, context, CiRules.AdviceRules);
        return (dive, advice, file);
    }

    /// <summary>The rules in force (<paramref name="names"/>: dive's by default): the rules file (--ci-config, else ./.dive-ci), then the flags.</summary>
    internal static (IReadOnlyList<RuleSetting> Rules, string? File) ResolveRules(string? ciConfig, IReadOnlyDictionary<RuleName, string?> flags, CliContext context, IReadOnlyList<RuleName>? names = null)
    {
        string? yaml = null, source = null;
        if (ciConfig is { } configPath)
        {
            var full = Path.GetFullPath(configPath, context.WorkingDirectory);
            if (!File.Exists(full)) throw new RuleConfigException(Text.Fill(Strings.CiRules_FileMissing, configPath));
            yaml = File.ReadAllText(full);
            source = configPath;
        }
        else
        {
            var defaultFile = Path.Combine(context.WorkingDirectory, ".dive-ci");
            if (File.Exists(defaultFile))
            {
                yaml = File.ReadAllText(defaultFile);
                source = ".dive-ci";
            }
        }
        return (CiRules.Resolve(yaml, source, flags, names), source);
    }

    /// <summary>
    /// Loads the image with dive's metrics taken in the same pass, then the overlay metrics and the advice
    /// (the source kept open until then: a file whose name may be a secret is read back for its marker). With a
    /// <paramref name="jsonPath"/>, the export is written in the same pass too, each layer as it is
    /// merged, into a file beside the target that replaces it once whole.
    /// </summary>
    public static Analysis Analyse(string image, SharedOptions shared, ParseResult p, CliContext context, string? jsonPath)
    {
        var dive = new DiveMetrics();
        if (jsonPath is null)
        {
            using var load = CommandLine.Start(image, shared, p, context.Error, observers: [dive], showProgress: true);
            var plain = load.Model;
            return Judge(plain, dive, load);
        }
        // dive would write over it (--json takes a file: "--json IMAGE" is an easy slip)
        RefuseToReplaceImage(image, jsonPath, context, Strings.Cli_JsonWouldReplaceImage);
        Analysis? analysis = null;
        WriteFile(jsonPath, stream =>
        {
            using var export = new DiveExportWriter(stream);
            using var load = CommandLine.Start(image, shared, p, context.Error, observers: [dive, export.Observer], showProgress: true);
            var model = load.Model;
            analysis = Judge(model, dive, load);
            export.Finish(model, analysis.Dive, analysis.Overlay, analysis.Advice);
        }, context);
        return analysis!;
    }

    /// <summary>
    /// The figures of the finished load: the overlay's removable bytes, the advice and dive's figures each
    /// read only the finished tree (or what the merge gave dive), so they run side by side (on a million
    /// files, each is a pass of a tenth of a second).
    /// </summary>
    private static Analysis Judge(ImageModel model, DiveMetrics dive, ImageLoad load)
    {
        LoadMemory.Release();
        // the contents still visible under some name, which both the overlay and the advice need (on an image of
        // 100,000 hardlinks, a set of their identities): found once, before both
        var visible = OverlayMetrics.VisibleInodes(model);
        // the load (the advice reads secret candidates back through it) stays on the thread that disposes it
        var overlay = Task.Run(() => OverlayMetrics.Compute(model, visible));
        // dive's figures read only what the merge gave dive: beside the others
        var figures = Task.Run(dive.Result);
        var advice = Core.Analysis.Advice.Advisor.Analyze(model, load, visible);
        return new Analysis(model, figures.GetAwaiter().GetResult(), overlay.GetAwaiter().GetResult(), advice);
    }

    /// <summary>A report is never worth the image: refuses an output file that is the image file itself (<paramref name="message"/> names it).</summary>
    internal static void RefuseToReplaceImage(string image, string output, CliContext context, string message)
    {
        // the file the image is, with or without its transport (docker-archive://FILE)
        int scheme = image.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0 && !image[..scheme].Contains('/')) image = image[(scheme + 3)..];
        var imageFile = Path.GetFullPath(image, context.WorkingDirectory);
        if (File.Exists(imageFile) && Path.GetFullPath(output, context.WorkingDirectory) == imageFile)
            throw new ImageException(FaultKind.BadArgument, Text.Fill(message, output));
    }

    internal static void WriteFile(string path, string text, CliContext context) =>
        WriteFile(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)), context);

    /// <summary>
    /// Writes into <paramref name="stream"/> and closes it. When writing fails (a load that failed half way),
    /// that failure is the one thrown: closing flushes what is buffered, and a full disk would hide it.
    /// </summary>
    private static void WriteAndClose(Stream stream, Action<Stream> write)
    {
        try
        {
            write(stream);
        }
        catch
        {
            try { stream.Dispose(); }
            catch (IOException) { /* the report is not kept: the first failure is the one to tell */ }
            throw;
        }
        stream.Dispose();
    }

    /// <summary>Replaces the file whole (written beside it, then moved over it): never patched, never half-written.</summary>
    private static void WriteFile(string path, Action<Stream> write, CliContext context)
    {
        var full = Path.GetFullPath(path, context.WorkingDirectory);
        if (LayerDive.Core.Sources.FileKind.Of(full) == LayerDive.Core.Sources.FileKind.Kind.Other)
        {
            // a device or a pipe (/dev/null, /dev/stdout, a fifo): written into, never replaced (a rename over
            // /dev/null, as root, made it a regular file for every program on the machine)
            WriteAndClose(new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite), write);
            return;
        }
        var temp = full + ".layerdive-tmp";
        try
        {
            WriteAndClose(new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None), write);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex)
        {
            try { File.Delete(temp); } catch (IOException) { }
            // the user named the file, not the one written beside it: say which file could not be written
            if (ex is IOException or UnauthorizedAccessException && ex.Message.Contains(temp, StringComparison.Ordinal))
                throw new IOException(ex.Message.Replace(temp, full, StringComparison.Ordinal), ex);
            throw;
        }
    }
}
