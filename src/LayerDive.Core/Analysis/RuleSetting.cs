namespace LayerDive.Core.Analysis;

/// <summary>A rule configuration that cannot be used: exit 2, naming the rule and the value.</summary>
internal sealed class RuleConfigException(string message) : Exception(message);

/// <summary>The three dive CI rules, and the regression rules of <c>diff --ci</c> (B judged against A).</summary>
internal enum RuleName
{
    HighestUserWastedPercent,
    HighestWastedBytes,
    LowestEfficiency,
    /// <summary>How much B may grow over A: bytes (20MB) or a share of A (10%).</summary>
    HighestSizeGrowth,
    /// <summary>How much B's wasted bytes (removable bytes with --metrics overlay) may grow over A's: bytes or a share.</summary>
    HighestWastedGrowth,
    /// <summary>How far B's efficiency may fall below A's (a ratio: 0.05 is five points).</summary>
    LowestEfficiencyDrop,
    /// <summary>The most bytes the advice may say a build could save (its total): bytes, or disabled.</summary>
    HighestAvoidableBytes,
    /// <summary>A secret in a layer (visible or deleted later) fails the gate unless disabled.</summary>
    Secrets,
}

/// <summary>Which figures the rules judge: dive's (the default, for parity) or the overlay merge's.</summary>
internal enum MetricSet
{
    Dive,
    Overlay,
}

/// <summary>One rule as configured: its text, and the threshold it parses to (null when disabled); <paramref name="Relative"/>: a share (10%) rather than bytes.</summary>
internal sealed record RuleSetting(RuleName Name, string Text, double? Threshold, bool Relative = false)
{
    public bool Enabled => Threshold is not null;
    public string Key => CiRules.Key(Name);
}
