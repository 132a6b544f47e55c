using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Cache;
using LayerDive.Core.Loading;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive scan SOURCE</c>: every image of a registry, an OCI layout or an engine, analysed one
/// after the other (each layer read once in a run: a layer met again comes from the layer cache), and
/// one report of the fleet. <c>--shard K/N</c> (or a Kubernetes Indexed Job's or GitLab's variables)
/// takes a share of the images by their repository; <c>scan --merge</c> joins the shards' JSON reports.
/// </summary>
internal static class ScanCommand
{
    public const string DefaultCountVariable = "LAYERDIVE_SHARD_COUNT";

    public static Command Create(SharedOptions shared, CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Error);
        var args = new Argument<string[]>("SOURCE") { Description = "registry://HOST[:PORT], an OCI layout folder, docker:// or podman://; with --merge, the shards' JSON reports", Arity = ArgumentArity.OneOrMore };
        var repos = new Option<string?>("--repos") { Description = "A file of repositories, one a line (instead of the registry's /v2/_catalog)" };
        var match = new Option<string?>("--match") { Description = "Only images whose NAME:TAG this regular expression matches" };
        var last = new Option<int?>("--last") { Description = "Only the last N tags of each repository (in the order of their names)" };
        var format = new Option<string>("--format", "-f") { Description = "text, tsv, json, markdown or html (one self-contained page)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong(ScanReport.Formats);
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of standard output" };
        var shard = new Option<string?>("--shard") { Description = "K/N: take the K-th of N shares of the images (by a hash of the repository name); default: JOB_COMPLETION_INDEX with the count variable, else CI_NODE_INDEX/CI_NODE_TOTAL" };
        var countVar = new Option<string>("--shard-count-var") { Description = "The variable that holds the number of shards beside a Kubernetes Indexed Job's JOB_COMPLETION_INDEX", DefaultValueFactory = _ => DefaultCountVariable };
        var merge = new Option<bool>("--merge") { Description = "Join shards' JSON reports (the arguments) into the report one run gives" };
        var ci = new Option<bool>("--ci") { Description = "Judge every image by the CI rules; exit 1 when any fails" };
        var ciRules = new CiOptions();
        var cmd = new Command("scan", "Analyse every image of a registry, an OCI layout or an engine: sizes, waste, the layers they share; across machines with --shard and --merge")
        {
            args, repos, match, last, format, output, shard, countVar, merge, ci, ciRules.CiConfig, ciRules.LowestEfficiency, ciRules.HighestWastedBytes,
            ciRules.HighestUserWastedPercent, ciRules.HighestAvoidableBytes, ciRules.Secrets,
        };
        cmd.SetAction(p => CommandLine.Guard("scan", stderr, _ =>
        {
            var items = p.GetValue(args)!;
            ScanReport report;
            int exit = CommandLine.ExitOk;
            if (p.GetValue(merge))
            {
                var parts = items.Select(f => ScanReport.Read(f, File.ReadAllBytes(Path.GetFullPath(f, context.WorkingDirectory)))).ToList();
                report = ScanReport.Merge(parts);
            }
            else
            {
                if (items.Length != 1) throw new ImageException(FaultKind.BadArgument, Strings.Scan_OneSource);
                Rules? rules = null;
                if (p.GetValue(ci))
                {
                    try
                    {
                        var (dive, advice, _) = CiCommand.ResolveAllRules(p, ciRules, context);
                        rules = new Rules(dive, advice);
                    }
                    catch (RuleConfigException ex)
                    {
                        throw new ImageException(FaultKind.BadArgument, ex.Message);
                    }
                }
                var (k, n) = Shard(p.GetValue(shard), p.GetValue(countVar)!, context.GetEnvironment);
                Regex? filter = null;
                if (p.GetValue(match) is { } pattern)
                {
                    try { filter = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
                    catch (ArgumentException ex) { throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_BadMatch, pattern, ex.Message)); }
                }
                if (p.GetValue(last) is <= 0) throw new ImageException(FaultKind.BadArgument, Strings.Scan_BadLast);
                var load = shared.LoadOptions(p);
                var targets = ScanSources.List(items[0], p.GetValue(repos), filter, p.GetValue(last), load.Source, context.WorkingDirectory)
                    .Where(t => (int)(ScanSources.Hash(t.Group) % (ulong)n) == k - 1).ToList();
                report = Scan(items[0], targets, shared, p, load, rules, context);
            }
            var text = report.Render(p.GetValue(format)!);
            if (p.GetValue(output) is { } file) CiCommand.WriteFile(file, text, context);
            else stdout.Write(text);
            if (report.Failures.Count > 0) exit = CommandLine.ExitBadInput;
            else if (report.AnyRuleFailed) exit = CommandLine.ExitRuleFailed;
            return exit;
        }));
        return cmd;
    }

    /// <summary>K and N: --shard K/N, else JOB_COMPLETION_INDEX (0-based) with the count variable, else GitLab's CI_NODE_INDEX/CI_NODE_TOTAL (1-based), else 1/1.</summary>
    internal static (int K, int N) Shard(string? option, string countVariable, Func<string, string?> env)
    {
        static int? Int(string? s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
        int? k, n;
        string from;
        if (option is not null)
        {
            var parts = option.Split('/');
            (k, n, from) = parts.Length == 2 ? (Int(parts[0]), Int(parts[1]), "--shard " + option) : (null, null, "--shard " + option);
        }
        else if (env("JOB_COMPLETION_INDEX") is { Length: > 0 } index)
        {
            var count = env(countVariable);
            if (count is null or "") throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_NoShardCount, countVariable));
            (k, n, from) = (Int(index) + 1, Int(count), $"JOB_COMPLETION_INDEX={index} {countVariable}={count}");
        }
        else if (env("CI_NODE_INDEX") is { Length: > 0 } node && env("CI_NODE_TOTAL") is { Length: > 0 } total)
        {
            (k, n, from) = (Int(node), Int(total), $"CI_NODE_INDEX={node} CI_NODE_TOTAL={total}");
        }
        else
        {
            return (1, 1);
        }
        if (k is null || n is null || n < 1 || k < 1 || k > n) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_BadShard, from));
        return (k.Value, n.Value);
    }

    /// <summary>The rules an image is judged by: dive's and the advice's, as <c>--ci</c> resolves them.</summary>
    private sealed record Rules(IReadOnlyList<RuleSetting> Dive, IReadOnlyList<RuleSetting> Advice);

    private static ScanReport Scan(string source, IReadOnlyList<ScanTarget> targets, SharedOptions shared, ParseResult p, LoadOptions load,
        Rules? rules, CliContext context)
    {
        bool quiet = p.GetValue(shared.Quiet);
        // a layer two images share is read once in the run: from the user's cache, else from one of the run's own
        string? own = null;
        var cache = load.Cache;
        if (cache is null && load.Verify)
        {
            own = Path.Combine(Path.GetTempPath(), "layerdive-scan" + LayerCache.TempName()[..^4]);
            cache = new LayerCache(own, long.MaxValue);
        }
        var images = new List<ScanImage>();
        var failures = new List<ScanFailure>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long bytes = 0;
        try
        {
            foreach (var t in targets)
            {
                try
                {
                    var image = Analyse(t, load with { Cache = cache }, rules, quiet ? null : context.Error);
                    images.Add(image);
                    bytes += image.StoredBytes;
                }
                // one image's failure, whatever it is, is that image's: the scan goes on (only the run's own
                // cancellation stops it)
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    var message = ex switch
                    {
                        ImageException ie => ie.Describe(),
                        IOException or UnauthorizedAccessException => ex.Message,
                        InvalidDataException => Text.Fill(Strings.Cli_DamagedData, ex.Message),
                        _ => Text.Fill(Strings.Cli_InternalError, ex.GetType().Name, ex.Message),
                    };
                    failures.Add(new ScanFailure(t.Name, message));
                    ErrorReport.Error(context.Error, t.Name, message);
                }
                if (!quiet) Progress(context.Error, images.Count + failures.Count, targets.Count, failures.Count, bytes, clock.Elapsed);
            }
        }
        finally
        {
            if (own is not null)
            {
                try { Directory.Delete(own, recursive: true); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* the system's temporary folder */ }
            }
        }
        return new ScanReport(source, images, failures);
    }

    private static void Progress(TextWriter stderr, int done, int total, int failed, long bytes, TimeSpan elapsed)
    {
        double rate = elapsed.TotalSeconds > 0 ? bytes / elapsed.TotalSeconds : 0;
        var left = done == 0 ? TimeSpan.Zero : elapsed / done * (total - done);
        lock (stderr)
            ErrorReport.Note(stderr, "scan", Text.Fill(Strings.Scan_Progress, done, total, failed, Units.HumanBytes(bytes), Units.HumanBytes((long)rate), Math.Ceiling(left.TotalSeconds)));
    }

    /// <summary>One image: loaded with dive's metrics in the same pass, then the overlay's, and judged when rules are given (with the advice then, as --ci).</summary>
    private static ScanImage Analyse(ScanTarget t, LoadOptions options, Rules? rules, TextWriter? notes)
    {
        var dive = new DiveMetrics();
        options = options with { Observers = [dive], Source = options.Source with { Image = t.Image } };
        if (notes is not null) options = options with { Source = options.Source with { Notice = text => { lock (notes) ErrorReport.Note(notes, t.Name, text); } } };
        using var load = ImageLoader.Start(t.Reference, options);
        var model = load.Wait();
        var figures = new ImageFigures(dive.Result(), OverlayMetrics.Compute(model));
        bool? pass = null;
        if (rules is not null)
        {
            // the advice only when judging: it is what the advice's rules (avoidable bytes, secrets) look at
            figures = figures with { Advice = Core.Analysis.Advice.Advisor.Analyze(model, load) };
            pass = CiRules.Evaluate(rules.Dive, figures, MetricSet.Dive).Concat(CiRules.Evaluate(rules.Advice, figures, MetricSet.Dive)).All(r => r.Status != RuleStatus.Fail);
        }
        var layers = model.Layers.Select(l => new ScanLayer(l.Digest ?? l.DiffId ?? "#" + l.Index.ToString(CultureInfo.InvariantCulture), l.CompressedSize)).ToList();
        var wasted = figures.Dive.Inefficiencies
            .Select(i => new ScanWaste(i.Path, i.CumulativeSize, i.Count))
            .OrderByDescending(w => w.Bytes).ThenBy(w => w.Path, StringComparer.Ordinal).Take(ScanReport.WastedPerImage).ToList();
        return new ScanImage(t.Name, model.Config.Digest, layers, figures.Dive.SizeBytes, figures.Efficiency, figures.WastedBytes,
            figures.UserWastedPercent, figures.RemovableBytes, pass, wasted);
    }
}
