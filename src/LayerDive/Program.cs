using System.Diagnostics;
using System.Runtime.CompilerServices;
using LayerDive.Cli;

var clock = Stopwatch.StartNew();
int code = CommandLine.Run(args, Console.Out, Console.Error);
if (Environment.GetEnvironmentVariable("LAYERDIVE_STATS") is "1") Stats.Print(clock);
return code;

internal static class Stats
{
    /// <summary>One line of figures for the benchmark and for profiling sessions (a method of its own: the process API loads only when asked for).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Print(Stopwatch clock)
    {
        var gc = GC.GetGCMemoryInfo();
        using var self = Process.GetCurrentProcess();
        Console.Error.WriteLine(
            $"layerdive: stats: wall {clock.Elapsed.TotalSeconds:0.000} s, cpu {self.TotalProcessorTime.TotalSeconds:0.000} s, " +
            $"peak rss {self.PeakWorkingSet64 >> 20} MiB, gc heap {gc.HeapSizeBytes >> 20} MiB (peak committed {gc.TotalCommittedBytes >> 20} MiB), " +
            $"allocated {GC.GetTotalAllocatedBytes() >> 20} MiB, gc {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
    }
}
