using System.Formats.Tar;
using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;

namespace LayerDive.Tests;

/// <summary>
/// Tests that measure the whole process (its heap), or drive a real terminal while a native build
/// compiles (two cores), and so run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(SerialCollection), DisableParallelization = true)]
public sealed class SerialCollection;

/// <summary>
/// Allocation regression tests (counts, never timings): what merging and keeping a layer costs per
/// entry. docs/performance.md allows 100 bytes of peak memory per tar entry over a fixed 64 MB.
/// </summary>
[Collection(nameof(SerialCollection))]
public sealed class AllocationTests
{
    private const int Entries = 100_000;

    /// <summary>A layer like a distribution's: 100 files to a directory, realistic name lengths.</summary>
    private static LayerContents ReadLayer()
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true))
        {
            for (int i = 0; i < Entries; i++)
            {
                if (i % 100 == 0) w.WriteEntry(new GnuTarEntry(TarEntryType.Directory, $"usr/share/package-{i / 100:D5}/"));
                w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, $"usr/share/package-{i / 100:D5}/file-{i:D6}.txt") { DataStream = new MemoryStream([(byte)i]) });
            }
        }
        ms.Position = 0;
        return LayerReader.Read(ms, new LayerReadOptions { LayerIndex = 0 }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Merging_allocates_a_bounded_number_of_bytes_per_entry()
    {
        var contents = ReadLayer();
        var merger = new OverlayMerger();
        var layer = new LayerInfo { Index = 0 };
        long before = GC.GetAllocatedBytesForCurrentThread();
        merger.Apply(layer, contents);
        merger.Complete();
        long perEntry = (GC.GetAllocatedBytesForCurrentThread() - before) / contents.EntryCount;
        TestContext.Current.TestOutputHelper?.WriteLine($"merge: {perEntry} B/entry");
        // measured 98-194 B/entry (.NET 10.0; 208 with an object per path, 373 while children and names were kept in
        // dictionaries): the tree's arrays (docs/model.md) as they grow, the child table rehashed as it doubles
        Assert.InRange(perEntry, 1, 300);
    }

    /// <summary>
    /// What a loaded image keeps per tar entry with everything the commands compute from it: the tree
    /// and its histories, dive's metrics, the overlay metrics, the explorer's path order, and the
    /// per-layer file lists of --json (written as the layers merge). The budget is 100 bytes an
    /// entry (docs/performance.md) over what a load keeps whatever its size (buffers and pools, the
    /// 64 MB of the peak target): so the cost of an entry is what 100,000 more files in the image
    /// cost, divided by the entries they add. The image is the benchmark's synthetic one (files in
    /// directories of 100, 50 layers, a tenth of the files written again), as bench/run.sh makes it.
    /// </summary>
    [Fact]
    public void A_loaded_image_keeps_at_most_100_bytes_an_entry_with_every_analysis()
    {
        // the heap is the process's: what another test left behind may still be freed (or finalized)
        // during a measurement. So each image is measured twice, in turns, and a measurement counts
        // only when both agree (nothing else came or went meanwhile)
        using var smallImage = new TempDir();
        using var largeImage = new TempDir();
        LayerDive.Samples.SyntheticImage.WriteOciLayout(smallImage.Path, 100_000, 50);
        LayerDive.Samples.SyntheticImage.WriteOciLayout(largeImage.Path, 200_000, 50);
        long? perEntry = null;
        for (int attempt = 0; attempt < 8 && perEntry is null; attempt++)
        {
            var (small, smallEntries) = Retained(smallImage.Path, 100_000);
            var (large, largeEntries) = Retained(largeImage.Path, 200_000);
            var (small2, _) = Retained(smallImage.Path, 100_000);
            var (large2, _) = Retained(largeImage.Path, 200_000);
            bool steady = Math.Abs(small - small2) * 50 < small && Math.Abs(large - large2) * 50 < large; // within 2%
            TestContext.Current.TestOutputHelper?.WriteLine($"loaded with every analysis: {small}, {small2} bytes for {smallEntries} entries, {large}, {large2} for {largeEntries}{(steady ? "" : ": disturbed, again")}");
            if (steady) perEntry = ((large + large2) / 2 - (small + small2) / 2) / (largeEntries - smallEntries);
        }
        Assert.True(perEntry is not null, "every measurement was disturbed by the rest of the process");
        TestContext.Current.TestOutputHelper?.WriteLine($"{perEntry} B/entry");
        Assert.InRange(perEntry.Value, 1, 100);
    }

    /// <summary>The bytes a load of the synthetic image at <paramref name="layout"/> keeps with every analysis, and its tar entries.</summary>
    private static (long Bytes, int Entries) Retained(string layout, int files)
    {
        long before = Settled();
        var kept = LoadWithEveryAnalysis(layout);
        long retained = Settled() - before;
        int entries = kept.Model.Layers.Sum(l => l.EntryCount);
        // files, a directory for each 100, a tenth written again: the figures are not empty
        Assert.True(entries > files * 11 / 10, $"{entries} entries");
        Assert.True(kept.Dive.Inefficiencies.Count > 0 && kept.Overlay.Items.Count > 0);
        GC.KeepAlive(kept);
        return (retained, entries);
    }

    private static long Settled()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (ImageModel Model, LayerDive.Core.Analysis.DiveMetricsResult Dive, LayerDive.Core.Analysis.OverlayMetricsResult Overlay, int[] Ranks, object Export)
        LoadWithEveryAnalysis(string layout)
    {
        var dive = new LayerDive.Core.Analysis.DiveMetrics();
        var export = new LayerDive.Core.Reports.DiveExportWriter(Stream.Null);
        var model = LayerDive.Core.Loading.ImageLoader.Load(layout, new LayerDive.Core.Loading.LoadOptions { Observers = [dive, export.Observer] }, TestContext.Current.CancellationToken);
        var diveResult = dive.Result();
        var overlay = LayerDive.Core.Analysis.OverlayMetrics.Compute(model);
        export.Finish(model, diveResult, overlay);
        return (model, diveResult, overlay, model.PathRanks(), export);
    }

    /// <summary>
    /// A link costs its target's characters and a few bytes more, not an object and a string: a tenth of
    /// a distribution's paths are symlinks or hardlinks (alternatives, busybox, pnpm's store), and at 200
    /// bytes each they alone took a fifth of the budget. Measured as what a tree of links keeps beyond a
    /// tree of plain files of the same names.
    /// </summary>
    [Fact]
    public void A_link_keeps_its_targets_characters_and_little_more()
    {
        const int count = 50_000;
        const string target = "../lib/node_modules/some-package/bin/cli.js"; // 43 characters, a typical relative target
        LayerContents Layer(Func<int, TarEntry> entry)
        {
            var ms = new MemoryStream();
            using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true))
            {
                w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "usr/lib/data.bin") { DataStream = new MemoryStream([1, 2, 3]) });
                for (int i = 0; i < count; i++) w.WriteEntry(entry(i));
            }
            ms.Position = 0;
            return LayerReader.Read(ms, new LayerReadOptions { LayerIndex = 0 }, TestContext.Current.CancellationToken);
        }
        string Name(int i) => $"usr/bin/tool-{i:D6}";
        // each target distinct (nothing to share), as the paths of a hardlinked store are
        string Target(int i) => target[..^9] + $"{i:D6}.js";
        // the layer read inside the measurement and let go once merged, as a load lets its batches go: what
        // is counted is what the tree keeps of it (read in a method of its own, whose frame is gone by the
        // time the heap is counted: a debug build keeps a method's temporaries alive to its end)
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        OverlayMerger Merged(Func<int, TarEntry> entry)
        {
            var merger = new OverlayMerger();
            merger.Apply(new LayerInfo { Index = 0 }, Layer(entry));
            merger.Complete();
            return merger;
        }
        long Kept(Func<int, TarEntry> entry)
        {
            long before = Settled();
            var merger = Merged(entry);
            long kept = Settled() - before;
            GC.KeepAlive(merger);
            return kept;
        }
        TarEntry File(int i) => new GnuTarEntry(TarEntryType.RegularFile, Name(i)) { DataStream = new MemoryStream([(byte)i]) };
        TarEntry Symlink(int i) => new GnuTarEntry(TarEntryType.SymbolicLink, Name(i)) { LinkName = Target(i) };
        TarEntry Hardlink(int i) => new GnuTarEntry(TarEntryType.HardLink, Name(i)) { LinkName = "usr/lib/data.bin" };
        long plain = Math.Min(Kept(File), Kept(File));
        long perSymlink = (Math.Min(Kept(Symlink), Kept(Symlink)) - plain) / count;
        long perHardlink = (Math.Min(Kept(Hardlink), Kept(Hardlink)) - plain) / count;
        TestContext.Current.TestOutputHelper?.WriteLine($"beyond a file: a symlink {perSymlink} B, a hardlink {perHardlink} B");
        // the target's characters (one byte each), its length and 16 bytes of link data (found by the version's
        // rank among the links: 1.5 bits a version; a few bytes of the last chunks' room): measured 62 and 35
        // bytes; with a dictionary to find them, 100 and 72; as an object and a string, 225 and 170
        Assert.InRange(perSymlink, 0, target.Length + 2 + 16 + 8);
        Assert.InRange(perHardlink, 0, "usr/lib/data.bin".Length + 2 + 16 + 8);
    }

    [Fact]
    public void Reading_a_layer_allocates_a_bounded_number_of_bytes_per_entry()
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true))
            for (int i = 0; i < 20_000; i++)
                w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, $"usr/lib/x86_64-linux-gnu/lib-{i:D6}.so") { DataStream = new MemoryStream([(byte)i, 1, 2]) });
        ms.Position = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var contents = LayerReader.Read(ms, new LayerReadOptions { LayerIndex = 0 }, TestContext.Current.CancellationToken);
        long perEntry = (GC.GetAllocatedBytesForCurrentThread() - before) / contents.EntryCount;
        TestContext.Current.TestOutputHelper?.WriteLine($"read: {perEntry} B/entry");
        // measured 376 B/entry (.NET 10.0; 677 with System.Formats.Tar's reader, before issue 24): the name,
        // its attributes and the entry as the list keeps it; the reader's own buffers are reused from entry to entry
        Assert.InRange(perEntry, 1, 500);
    }
}
