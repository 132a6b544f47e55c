namespace LayerDive.Core.Analysis;

public enum RuleStatus
{
    Pass,
    Fail,
    Skip,
}

public sealed record RuleResult(RuleSetting Setting, RuleStatus Status, string Message);
