using LayerDive.Core.Loading;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Reports;

/// <summary>How far a load has come, in words: the explorer's progress screen and the commands' progress line on stderr.</summary>
internal static class ProgressText
{
    /// <summary>
    /// "Reading layers: 3 of 9 merged, 310 MB of 514 MB read at 150 MB/s, about 2 s left"; while a stream
    /// is read up to the image's config, "Reading the image: 120 MB read at 30 MB/s"; with no known size, no total.
    /// </summary>
    public static string Of(LoadProgress p)
    {
        var rate = p.Elapsed >= TimeSpan.FromSeconds(0.5) && p.BytesRead > 0
            ? Text.Fill(Strings.Progress_Rate, Units.HumanBytes((long)(p.BytesRead / p.Elapsed.TotalSeconds))) : "";
        return p.LayerCount == 0 ? Text.Fill(Strings.Progress_Stream, Units.HumanBytes(p.BytesRead), rate)
            : p.BytesTotal <= 0 ? Text.Fill(Strings.Progress_LayersNoTotal, p.LayersMerged, p.LayerCount, Units.HumanBytes(p.BytesRead), rate)
            : Text.Fill(Strings.Progress_Layers, p.LayersMerged, p.LayerCount, Units.HumanBytes(p.BytesRead), Units.HumanBytes(Math.Max(p.BytesTotal, p.BytesRead)),
                p.Remaining is { } left ? Text.Fill(Strings.Progress_TimeLeft, Math.Max(1, (int)Math.Ceiling(left.TotalSeconds))) : "", rate);
    }
}
