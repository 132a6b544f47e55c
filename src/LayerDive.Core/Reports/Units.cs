using System.Globalization;

namespace LayerDive.Core.Reports;

/// <summary>Byte and duration texts exactly as the Go tools print them (dive: go-humanize; docker: go-units).</summary>
internal static class Units
{
    private static readonly string[] SiSuffixes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

    /// <summary>A ratio as a percentage with two decimals: "81.35 %" (dive's words where there is no number: "NaN %", "+Inf %").</summary>
    public static string Percent(double ratio) =>
        double.IsFinite(ratio) ? (ratio * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %" : CiReports.GoPercent(ratio) + " %";

    /// <summary>A change in bytes: "+1.2 MB", "-5 B", "0 B".</summary>
    public static string SignedBytes(long bytes) => bytes == 0 ? "0 B" : (bytes > 0 ? "+" : "-") + HumanBytes(Math.Abs(bytes));

    /// <summary>go-humanize <c>Bytes</c>: "32 kB", "1.2 MB", "5 B" (dive's sizes).</summary>
    public static string HumanBytes(long bytes)
    {
        if (bytes < 10) return $"{bytes} B";
        int e = (int)Math.Floor(Math.Log(bytes) / Math.Log(1000));
        e = Math.Min(e, SiSuffixes.Length - 1);
        double val = Math.Floor(bytes / Math.Pow(1000, e) * 10 + 0.5) / 10;
        return val < 10
            ? val.ToString("0.0", CultureInfo.InvariantCulture) + " " + SiSuffixes[e]
            : Math.Round(val, MidpointRounding.ToEven).ToString("0", CultureInfo.InvariantCulture) + " " + SiSuffixes[e]; // Go's %.0f: half to even (18.5 -> 18)
    }

    /// <summary>go-units <c>HumanSizeWithPrecision(size, 3)</c>: "1.22MB", "12.8kB", "0B" (docker history).</summary>
    public static string DockerSize(long bytes)
    {
        double size = bytes;
        int i = 0;
        while (size >= 1000 && i < SiSuffixes.Length - 1)
        {
            size /= 1000;
            i++;
        }
        return GoG3(size) + SiSuffixes[i];
    }

    private static string GoG3(double v)
    {
        if (v == 0) return "0";
        var s = v.ToString("G3", CultureInfo.InvariantCulture);
        // Go writes exponents as e+03, .NET as E+03
        return s.Replace("E+0", "e+0").Replace("E", "e");
    }

    /// <summary>go-units <c>HumanDuration</c> (docker's "CREATED" column, before " ago").</summary>
    public static string DockerDuration(TimeSpan d)
    {
        int seconds = (int)d.TotalSeconds;
        if (seconds < 1) return "Less than a second";
        if (seconds == 1) return "1 second";
        if (seconds < 60) return $"{seconds} seconds";
        int minutes = (int)d.TotalMinutes;
        if (minutes == 1) return "About a minute";
        if (minutes < 60) return $"{minutes} minutes";
        int hours = (int)(d.TotalHours + 0.5);
        if (hours == 1) return "About an hour";
        if (hours < 48) return $"{hours} hours";
        if (hours < 24 * 7 * 2) return $"{hours / 24} days";
        if (hours < 24 * 30 * 2) return $"{hours / 24 / 7} weeks";
        if (hours < 24 * 365 * 2) return $"{hours / 24 / 30} months";
        return $"{(int)d.TotalHours / 24 / 365} years";
    }
}
