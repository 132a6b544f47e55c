using System.Globalization;
using LayerDive.Core.Resources;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LayerDive.Core.Analysis;

/// <summary>
/// dive's CI rules (docs/cli.md): defaults, then <c>.dive-ci</c> (camelCase or kebab-case keys), then the
/// command-line flags. Values parse as dive parses them; comparisons are strict, so a figure equal to
/// its threshold passes.
/// </summary>
internal static class CiRules
{
    public static readonly IReadOnlyDictionary<RuleName, string> Defaults = new Dictionary<RuleName, string>
    {
        [RuleName.LowestEfficiency] = "0.9",
        [RuleName.HighestWastedBytes] = "disabled",
        [RuleName.HighestUserWastedPercent] = "0.1",
        [RuleName.HighestSizeGrowth] = "disabled",
        [RuleName.HighestWastedGrowth] = "disabled",
        [RuleName.LowestEfficiencyDrop] = "disabled",
        [RuleName.HighestAvoidableBytes] = "disabled",
        [RuleName.Secrets] = "fail",
    };

    /// <summary>dive's rules: what <c>--ci</c> judges.</summary>
    public static readonly IReadOnlyList<RuleName> DiveRules = [RuleName.HighestUserWastedPercent, RuleName.HighestWastedBytes, RuleName.LowestEfficiency];

    /// <summary>What <c>diff --ci</c> judges: dive's rules on B, and B against A.</summary>
    public static readonly IReadOnlyList<RuleName> DiffRules = [.. DiveRules, RuleName.HighestSizeGrowth, RuleName.HighestWastedGrowth, RuleName.LowestEfficiencyDrop];

    /// <summary>
    /// The rules on the advice (<c>layerdive advise</c>): judged by <c>--ci</c> beside dive's, reported in
    /// LayerDive's own section, so that dive's Results and its Result line stay dive's.
    /// </summary>
    public static readonly IReadOnlyList<RuleName> AdviceRules = [RuleName.HighestAvoidableBytes, RuleName.Secrets];

    public static string Key(RuleName name) => name switch
    {
        RuleName.LowestEfficiency => "lowestEfficiency",
        RuleName.HighestWastedBytes => "highestWastedBytes",
        RuleName.HighestSizeGrowth => "highestSizeGrowth",
        RuleName.HighestWastedGrowth => "highestWastedGrowth",
        RuleName.LowestEfficiencyDrop => "lowestEfficiencyDrop",
        RuleName.HighestAvoidableBytes => "highestAvoidableBytes",
        RuleName.Secrets => "secrets",
        _ => "highestUserWastedPercent",
    };

    private static string Kebab(RuleName name) => name switch
    {
        RuleName.LowestEfficiency => "lowest-efficiency",
        RuleName.HighestWastedBytes => "highest-wasted-bytes",
        RuleName.HighestSizeGrowth => "highest-size-growth",
        RuleName.HighestWastedGrowth => "highest-wasted-growth",
        RuleName.LowestEfficiencyDrop => "lowest-efficiency-drop",
        RuleName.HighestAvoidableBytes => "highest-avoidable-bytes",
        RuleName.Secrets => "secrets",
        _ => "highest-user-wasted-percent",
    };

    /// <summary>
    /// The rules in force: <paramref name="configYaml"/> (a .dive-ci file's text, or null) over the
    /// defaults, then <paramref name="flags"/> over both. Throws <see cref="RuleConfigException"/> for
    /// a value that does not parse or a ratio outside [0, 1].
    /// </summary>
    public static IReadOnlyList<RuleSetting> Resolve(string? configYaml, string? configName, IReadOnlyDictionary<RuleName, string?> flags, IReadOnlyList<RuleName>? names = null)
    {
        names ??= DiveRules;
        var texts = new Dictionary<RuleName, string>(Defaults);
        if (configYaml is not null)
            foreach (var (name, value) in ReadConfig(configYaml, configName ?? ".dive-ci", names))
                texts[name] = value;
        foreach (var (name, value) in flags)
            if (value is not null) texts[name] = value;
        return names.Select(n => Parse(n, texts[n], configName)).ToList();
    }

    private static IEnumerable<(RuleName, string)> ReadConfig(string yaml, string source, IReadOnlyList<RuleName> names)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new RuleConfigException(Text.Fill(Strings.Settings_NotYaml, source, ex.Message));
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) yield break;
        if (!root.Children.TryGetValue(new YamlScalarNode("rules"), out var rulesNode)) yield break;
        if (rulesNode is not YamlMappingNode rules)
        {
            if (rulesNode is YamlScalarNode { Value: null or "" or "~" or "null" }) yield break;
            throw new RuleConfigException(Text.Fill(Strings.CiRules_NotMapping, source));
        }
        foreach (var (k, v) in rules.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            var name = names.FirstOrDefault(n => key == Key(n) || key == Kebab(n), (RuleName)(-1));
            if ((int)name < 0) continue; // dive ignores keys it does not know (and --ci the regression rules of diff --ci)
            if (v is not YamlScalarNode scalar)
                throw new RuleConfigException(Text.Fill(Strings.CiRules_ValueNotScalar, source, Key(name)));
            yield return (name, scalar.Value ?? "");
        }
    }

    /// <summary>Parses one rule value: disabled/off/false/empty, a ratio in [0, 1], or a byte size.</summary>
    public static RuleSetting Parse(RuleName name, string text, string? source = null)
    {
        var t = text.Trim();
        if (t.Length == 0 || t.Equals("disabled", StringComparison.OrdinalIgnoreCase) || t.Equals("off", StringComparison.OrdinalIgnoreCase) || t.Equals("false", StringComparison.OrdinalIgnoreCase))
            return new RuleSetting(name, t.Length == 0 ? "disabled" : t, null);
        string where = source is null ? "" : source + ": ";
        if (name is RuleName.HighestSizeGrowth or RuleName.HighestWastedGrowth)
        {
            if (t.EndsWith('%'))
            {
                if (!double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || !double.IsFinite(percent) || percent < 0)
                    throw new RuleConfigException(where + Text.Fill(Strings.CiRules_NotShare, Key(name), text));
                return new RuleSetting(name, t, percent / 100, Relative: true);
            }
            var growth = ParseBytes(t) ?? throw new RuleConfigException(where + Text.Fill(Strings.CiRules_NotSizeOrShare, Key(name), text));
            return new RuleSetting(name, t, growth);
        }
        if (name == RuleName.Secrets)
        {
            // on (any secret fails), or the words above for off
            if (t.ToLowerInvariant() is "fail" or "true" or "on" or "enabled" or "yes") return new RuleSetting(name, t, 0);
            throw new RuleConfigException(where + Text.Fill(Strings.CiRules_NotOnOff, Key(name), text));
        }
        if (name is RuleName.HighestWastedBytes or RuleName.HighestAvoidableBytes)
        {
            var bytes = ParseBytes(t) ?? throw new RuleConfigException(where + Text.Fill(Strings.CiRules_NotSize, Key(name), text));
            return new RuleSetting(name, t, bytes);
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) || double.IsNaN(ratio))
            throw new RuleConfigException(where + Text.Fill(Strings.CiRules_NotNumber, Key(name), text));
        if (ratio < 0 || ratio > 1)
            throw new RuleConfigException(where + Text.Fill(Strings.CiRules_OutOfRange, Key(name), text));
        return new RuleSetting(name, t, ratio);
    }

    private static readonly Dictionary<string, double> ByteUnits = new(StringComparer.Ordinal)
    {
        [""] = 1, ["b"] = 1,
        ["kib"] = 1L << 10, ["ki"] = 1L << 10, ["kb"] = 1e3, ["k"] = 1e3,
        ["mib"] = 1L << 20, ["mi"] = 1L << 20, ["mb"] = 1e6, ["m"] = 1e6,
        ["gib"] = 1L << 30, ["gi"] = 1L << 30, ["gb"] = 1e9, ["g"] = 1e9,
        ["tib"] = 1L << 40, ["ti"] = 1L << 40, ["tb"] = 1e12, ["t"] = 1e12,
        ["pib"] = 1L << 50, ["pi"] = 1L << 50, ["pb"] = 1e15, ["p"] = 1e15,
        ["eib"] = 1L << 60, ["ei"] = 1L << 60, ["eb"] = 1e18, ["e"] = 1e18,
    };

    /// <summary>go-humanize ParseBytes: "20MB" = "20Mb" = 20,000,000; "20MiB" = 20 x 2^20; "1,000" = 1000.</summary>
    public static double? ParseBytes(string s)
    {
        int last = 0;
        while (last < s.Length && (char.IsAsciiDigit(s[last]) || s[last] is '.' or ',')) last++;
        var number = s[..last].Replace(",", "");
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var f)) return null;
        var unit = s[last..].Trim().ToLowerInvariant();
        if (!ByteUnits.TryGetValue(unit, out var multiplier)) return null;
        var value = Math.Floor(f * multiplier);
        return value >= 1.8446744073709552E+19 ? null : value;
    }

    /// <summary>
    /// Judges the figures by the rules; strict comparisons: equal to the threshold passes. The regression
    /// rules judge <paramref name="figures"/> against <paramref name="before"/> (image A of a diff).
    /// </summary>
    public static List<RuleResult> Evaluate(IReadOnlyList<RuleSetting> rules, ImageFigures figures, MetricSet metrics, ImageFigures? before = null)
    {
        if (rules.Any(r => r.Name is RuleName.HighestAvoidableBytes or RuleName.Secrets))
            return EvaluateAdvice(rules, figures.Advice);
        var results = new List<RuleResult>();
        foreach (var rule in rules.OrderBy(r => Key(r.Name), StringComparer.Ordinal))
        {
            if (rule.Threshold is not double t)
            {
                results.Add(new RuleResult(rule, RuleStatus.Skip, "disabled"));
                continue;
            }
            if (rule.Name is RuleName.HighestSizeGrowth or RuleName.HighestWastedGrowth or RuleName.LowestEfficiencyDrop)
            {
                results.Add(before is null ? new RuleResult(rule, RuleStatus.Skip, "compares two images (diff --ci)") : Regression(rule, t, before, figures, metrics));
                continue;
            }
            string? failure = (rule.Name, metrics) switch
            {
                (RuleName.LowestEfficiency, MetricSet.Dive) when t > figures.Efficiency =>
                    $"image efficiency is too low (efficiency={Go(figures.Efficiency)} < threshold={Go(t)})",
                (RuleName.HighestWastedBytes, MetricSet.Dive) when figures.WastedBytes > t =>
                    $"too many bytes wasted (wasted-bytes={figures.WastedBytes} > threshold={(ulong)t})",
                (RuleName.HighestUserWastedPercent, MetricSet.Dive) when t < figures.UserWastedPercent =>
                    $"too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={Go(figures.UserWastedPercent)} > threshold={Go(t)})",
                (RuleName.LowestEfficiency, MetricSet.Overlay) when t > figures.OverlayEfficiency =>
                    $"image efficiency is too low (overlay-efficiency={Go(figures.OverlayEfficiency)} < threshold={Go(t)})",
                (RuleName.HighestWastedBytes, MetricSet.Overlay) when figures.RemovableBytes > t =>
                    $"too many removable bytes (removable-bytes={figures.RemovableBytes} > threshold={(ulong)t})",
                (RuleName.HighestUserWastedPercent, MetricSet.Overlay) when t < figures.RemovablePercent =>
                    $"too many removable bytes, relative to the user bytes added (removable-percent={Go(figures.RemovablePercent)} > threshold={Go(t)})",
                _ => null,
            };
            results.Add(failure is null ? new RuleResult(rule, RuleStatus.Pass, rule.Text) : new RuleResult(rule, RuleStatus.Fail, failure));
        }
        return results;
    }

    /// <summary>The advice rules: the total a build could save, and secrets (the figures have no advice: skipped, saying so).</summary>
    private static List<RuleResult> EvaluateAdvice(IReadOnlyList<RuleSetting> rules, Advice.AdviceResult? advice)
    {
        var results = new List<RuleResult>();
        foreach (var rule in rules.OrderBy(r => Key(r.Name), StringComparer.Ordinal))
        {
            if (rule.Threshold is not double t) { results.Add(new RuleResult(rule, RuleStatus.Skip, "disabled")); continue; }
            if (advice is null) { results.Add(new RuleResult(rule, RuleStatus.Skip, "no advice computed")); continue; }
            string? failure = rule.Name switch
            {
                RuleName.HighestAvoidableBytes when advice.TotalBytes > t =>
                    $"a rebuild could save too many bytes (avoidable-bytes={advice.TotalBytes} > threshold={(ulong)t})",
                RuleName.Secrets when advice.Secrets > 0 =>
                    $"{advice.Secrets} secret(s) stored in the image's layers: " + string.Join(", ", advice.Findings.Where(f => f.Kind == Advice.AdviceKind.Secret)
                        .Select(f => $"{PathText.Escape(f.Paths[0].Path)} (layer {f.Steps[0].Layer}{(f.RemovedIn is int gone ? $", deleted in layer {gone}" : "")})")),
                _ => null,
            };
            results.Add(failure is null ? new RuleResult(rule, RuleStatus.Pass, rule.Text) : new RuleResult(rule, RuleStatus.Fail, failure));
        }
        return results;
    }

    private static RuleResult Regression(RuleSetting rule, double t, ImageFigures a, ImageFigures b, MetricSet metrics)
    {
        bool overlay = metrics == MetricSet.Overlay;
        string? failure = null;
        switch (rule.Name)
        {
            case RuleName.HighestSizeGrowth:
                failure = Growth("size", a.Dive.SizeBytes, b.Dive.SizeBytes);
                break;
            case RuleName.HighestWastedGrowth:
                failure = overlay ? Growth("removable-bytes", a.RemovableBytes, b.RemovableBytes) : Growth("wasted-bytes", a.WastedBytes, b.WastedBytes);
                break;
            default:
                double before = overlay ? a.OverlayEfficiency : a.Efficiency, after = overlay ? b.OverlayEfficiency : b.Efficiency;
                if (before - after > t)
                    failure = $"image efficiency fell too far ({(overlay ? "overlay-" : "")}efficiency {Go(before)} -> {Go(after)}: a drop of {Go(before - after)} > threshold={Go(t)})";
                break;
        }
        return failure is null ? new RuleResult(rule, RuleStatus.Pass, rule.Text) : new RuleResult(rule, RuleStatus.Fail, failure);

        string? Growth(string what, long from, long to)
        {
            long growth = to - from;
            if (rule.Relative)
            {
                double share = from == 0 ? (growth > 0 ? double.PositiveInfinity : 0) : (double)growth / from;
                return share > t ? $"{what} grew too much ({from} -> {to} bytes: +{(share * 100).ToString("0.##", CultureInfo.InvariantCulture)}% > threshold={rule.Text})" : null;
            }
            return growth > t ? $"{what} grew too much ({from} -> {to} bytes: +{growth} > threshold={(ulong)t})" : null;
        }
    }

    /// <summary>A float as Go's %v prints it (shortest round-trip; NaN, +Inf, -Inf).</summary>
    public static string Go(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf"
        : v.ToString("R", CultureInfo.InvariantCulture);
}
