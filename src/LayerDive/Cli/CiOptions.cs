using System.CommandLine;
using LayerDive.Core.Reports;

namespace LayerDive.Cli;

/// <summary>The options of CI mode, as dive spells them.</summary>
internal sealed class CiOptions
{
    public readonly Option<bool> Ci = new("--ci") { Description = "Run non-interactively and judge the image by the CI rules (also when the environment variable CI is true)" };
    public readonly Option<string?> CiConfig = new("--ci-config") { Description = "The rules file (default: .dive-ci in the working directory, when there is one)" };
    public readonly Option<string?> LowestEfficiency = new("--lowestEfficiency", "--lowest-efficiency") { Description = "Fail below this efficiency (0..1, or disabled); overrides the rules file" };
    public readonly Option<string?> HighestWastedBytes = new("--highestWastedBytes", "--highest-wasted-bytes") { Description = "Fail above this many wasted bytes (20MB, 20MiB, ... or disabled)" };
    public readonly Option<string?> HighestUserWastedPercent = new("--highestUserWastedPercent", "--highest-user-wasted-percent") { Description = "Fail above this wasted share of the user layers (0..1, or disabled)" };
    public readonly Option<string?> HighestAvoidableBytes = new("--highestAvoidableBytes", "--highest-avoidable-bytes") { Description = "Fail when a rebuild could save more than this many bytes, by layerdive advise's total (20MB, 20MiB, ... or disabled, the default)" };
    public readonly Option<string?> Secrets = new("--secrets") { Description = "fail (the default): a private key or credential in any layer, even one deleted later, fails the gate; disabled: reported only" };
    public readonly Option<string> Metrics = new("--metrics") { Description = "The figures the rules judge: dive (default, dive's numbers) or overlay (the real merge)", DefaultValueFactory = _ => "dive" };
    public readonly Option<string?> Json = new("--json", "-j") { Description = "Write the analysis as JSON (dive's export schema plus a layerdive object) to this file" };
    public readonly Option<string> CiFormat = new("--ci-format") { Description = "The CI report's format: text, json, junit, markdown or html (a self-contained page, as the report command writes it, with the verdict)", DefaultValueFactory = _ => "text" };
    public readonly Option<string?> CiOutput = new("--ci-output") { Description = "Write the CI report (in --ci-format) to this file; the text report still goes to stdout" };

    public CiOptions()
    {
        Metrics.AcceptOnlyFromAmong("dive", "overlay");
        CiFormat.AcceptOnlyFromAmong(CiReports.Formats);
    }

    public IEnumerable<Option> All => [Ci, CiConfig, LowestEfficiency, HighestWastedBytes, HighestUserWastedPercent, HighestAvoidableBytes, Secrets, Metrics, Json, CiFormat, CiOutput];

    /// <summary>CI mode: --ci, or CI=true/1/yes in the environment (as dive reads it).</summary>
    public bool Enabled(ParseResult p, CliContext context) =>
        p.GetValue(Ci) || context.GetEnvironment("CI")?.Trim().ToLowerInvariant() is "true" or "1" or "yes";
}
