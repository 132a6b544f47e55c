namespace LayerDive.Core.Analysis;

/// <summary>The figures the rules judge, both metric sets side by side.</summary>
internal sealed record ImageFigures(DiveMetricsResult Dive, OverlayMetricsResult Overlay)
{
    public double Efficiency => Dive.Efficiency;
    public long WastedBytes => Dive.WastedBytes;
    public double UserWastedPercent => Dive.UserWastedPercent;
    public long RemovableBytes => Overlay.RemovableBytes;
    public double OverlayEfficiency => Overlay.OverlayEfficiency;
    public double RemovablePercent => Overlay.RemovablePercent;
    /// <summary>What <c>layerdive advise</c> finds, where CI mode computed it.</summary>
    public Advice.AdviceResult? Advice { get; init; }
}
