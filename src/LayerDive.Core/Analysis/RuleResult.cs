namespace LayerDive.Core.Analysis;

internal enum RuleStatus
{
    Pass,
    Fail,
    Skip,
}

internal sealed record RuleResult(RuleSetting Setting, RuleStatus Status, string Message);
