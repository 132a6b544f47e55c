using System.Text;
using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Core.Layers;
using LayerDive.Core.Loading;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// The load's observers (dive's metrics, --json's file lists) see each batch of merged entries after
/// the model's lock is let go: a reader of the model is not held up by them, and what they compute is
/// what they computed when they saw each entry right after it merged, even where a later entry of the
/// same batch changed the tree (a path written again, a file turned into the directory a path below
/// implies, a directory and what this layer made in it replaced by a file).
/// </summary>
public sealed class BatchedObserverTests
{
    /// <summary>Blocks in its first batch until let go, saying when it is there.</summary>
    private sealed class SlowObserver : ILayerObserver
    {
        public readonly ManualResetEventSlim Entered = new(false);
        public readonly ManualResetEventSlim Release = new(false);
        public int Batches;

        public void OnEntries(LayerInfo layer, MergedBatch batch)
        {
            if (Batches++ > 0) return;
            Entered.Set();
            Release.Wait(TimeSpan.FromSeconds(120));
        }

        public void OnLayerMerged(LayerInfo layer) { }
    }

    [Fact]
    public async Task A_reader_of_the_model_is_not_held_up_by_a_slow_observer()
    {
        using var dir = new TempDir();
        var image = new ImageBuilder();
        for (int k = 0; k < 3; k++)
        {
            int layer = k;
            image.Layer($"layer {k}", l =>
            {
                l.Dir($"l{layer}");
                for (int j = 0; j < 600; j++) l.File($"l{layer}/f{j}", $"{layer}:{j}\n");
            });
        }
        var path = dir.File("image");
        image.WriteOciLayout(path, "t");

        var slow = new SlowObserver();
        var load = ImageLoader.Start(path, new LoadOptions { MaxParallelism = 2, Observers = [slow] }, TestContext.Current.CancellationToken);
        using (load)
        {
            try
            {
                Assert.True(slow.Entered.Wait(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken), "the observer never saw a batch");
                // while the observer holds the load's thread, another thread reads the model: were the
                // observer called under the model's lock, this read would wait for it and time out
                var read = Task.Run(() => load.Model.Read(m => (m.LayersMerged, m.Root.ChildCount)), TestContext.Current.CancellationToken);
                var first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
                Assert.True(first == read, "a reader of the model waited for the observer");
                Assert.False(slow.Release.IsSet);
                // the first batch (256 entries: l0 and 255 of its files) is in the tree, no layer is merged yet
                Assert.Equal((0, 1), await read);
            }
            finally
            {
                slow.Release.Set();
            }
            load.Wait();
        }
        Assert.True(load.Model.IsComplete);
        Assert.Equal(3 * 3, slow.Batches); // 601 entries a layer: batches of 256, 256 and 89
    }

    /// <summary>
    /// Entries whose merge changes what an earlier entry of the same layer merged, each set within one
    /// batch: <paramref name="p"/> is a prefix that keeps each set's paths apart.
    /// </summary>
    private static void Rewrites(LayerBuilder l, string p)
    {
        // a path written twice: the later wins, the earlier's version is the one dive lists... once
        l.File($"{p}twice", "first\n");
        l.File($"{p}twice", "second, longer\n", mode: 0x1ED);
        // a file, then a path below it: the file becomes the directory the path implies
        l.File($"{p}plain", "a file\n");
        l.File($"{p}plain/below", "under it\n");
        // a directory and what this layer made in it, then a file in its place: the tree forgets the
        // paths made in it, which dive's tree keeps (a file there that became a directory is no leaf)
        l.Dir($"{p}gone");
        l.Dir($"{p}gone/sub");
        l.File($"{p}gone/sub/deep", "deep\n");
        l.File($"{p}gone/leaf", "leaf\n");
        l.Hardlink($"{p}gone/link", $"{p}gone/leaf");
        l.File($"{p}gone/made", "made a file, then a directory\n");
        l.File($"{p}gone/made/below", "below\n");
        l.File($"{p}gone", "now a file\n");
        // the same over a directory of a layer below, with a file of its own and one of the layer's
        l.File($"base/{p}keep/new", "new\n");
        l.File($"base/{p}keep", "replaced\n");
        // a whiteout of a path the layer wrote, then wrote again
        l.Whiteout($"base/{p}old");
        l.File($"base/{p}old", "again\n");
    }

    private static ImageBuilder Image() => new ImageBuilder()
        .Layer("base", l =>
        {
            l.Dir("base");
            foreach (var p in new[] { "a-", "b-" })
            {
                l.Dir($"base/{p}keep");
                l.File($"base/{p}keep/lower", "lower\n");
                l.File($"base/{p}old", "old\n");
            }
            l.Dir("etc");
            l.File("etc/conf", "conf\n");
            l.Dir("lib");
            l.File("lib/x.so", new byte[3000]);
            l.File("lib/y.so", new byte[1000]);
            l.Dir("opt");
            l.Dir("opt/old");
            l.File("opt/old/z", new byte[700]);
            l.Dir("bin");
            l.File("bin/tool", new byte[1200], mode: 0x1ED);
        })
        .Layer("rewrites", l =>
        {
            Rewrites(l, "a-");
            // enough entries for a second batch, where the same happens again
            for (int i = 0; i < 300; i++) l.File($"fill/f{i:D3}", $"{i}\n");
            Rewrites(l, "b-");
            l.Whiteout("etc/conf");
            l.Whiteout("opt/old");
            l.Opaque("lib");
            l.File("lib/new.so", new byte[500]);
            l.Hardlink("bin/tool2", "bin/tool");
            l.Whiteout("nothing/there");
        })
        .Layer("again", l =>
        {
            l.File("lib/new.so", new byte[500]);
            l.File("bin/tool", new byte[1200], mode: 0x1C0);
            l.Whiteout("a-twice");
            l.Whiteout("fill");
            l.Opaque("b-plain");
            l.File("b-plain/other", "other\n");
            l.File("b-gone", "now a file\n");
        });

    /// <summary>The figures and file lists the two observers give for a run of the load (or of the one-entry harness).</summary>
    private sealed class Figures
    {
        public readonly DiveMetrics Dive = new();
        public readonly List<string> Lists = [];
        public readonly LayerFileLists FileLists;

        public Figures(bool lists = true)
        {
            FileLists = new LayerFileLists(new ListText(Lists));
            Observers = lists ? [Dive, FileLists] : [Dive];
        }

        /// <summary>Each layer's list as JSON text, written as its blocks come (on the merge's thread).</summary>
        private sealed class ListText(List<string> lists) : IFileListSink
        {
            private readonly FileListWriter _items = new();
            private MemoryStream? _ms;
            private Utf8JsonWriter? _w;
            private int _index;

            public FileListBlock Rent() => new();

            public void Post(FileListBlock block)
            {
                if (block.Layer is { } layer)
                {
                    (_index, _ms) = (layer.Index, new MemoryStream());
                    _w = new Utf8JsonWriter(_ms, new JsonWriterOptions { Indented = true });
                    _w.WriteStartArray();
                }
                _items.Write(_w!, block);
                if (!block.Ends) return;
                _w!.WriteEndArray();
                _w.Dispose();
                lists.Add($"layer {_index}:\n" + Encoding.UTF8.GetString(_ms!.ToArray()));
            }
        }

        public IReadOnlyList<ILayerObserver> Observers { get; }

        public string Text()
        {
            var r = Dive.Result();
            var sb = new StringBuilder();
            sb.AppendLine($"efficiency {r.Efficiency:R} size {r.SizeBytes} user {r.UserSizeBytes} wasted {r.WastedBytes} user wasted {r.UserWastedPercent:R}");
            foreach (var i in r.Inefficiencies) sb.AppendLine($"{i.Count} {i.CumulativeSize} {i.Path}");
            foreach (var l in Lists) sb.Append(l).AppendLine();
            return sb.ToString();
        }
    }

    /// <summary>
    /// What the observers computed when they were told of each entry right after it merged: the image's
    /// layers merged one entry at a time, each entry shown to them as a batch of one. With
    /// <paramref name="late"/>, what they would compute told of a whole layer at its end, the versions
    /// taken from the tree as the layer left it, and the parents the tree forgot kept only with
    /// <paramref name="parents"/>: that these differ shows the image tells the ways apart.
    /// </summary>
    private static string Observe(ImageBuilder image, bool late = false, bool parents = true, bool lists = true)
    {
        var figures = new Figures(lists);
        var merger = new OverlayMerger();
        var detached = new Dictionary<int, int>();
        merger.DetachedParents = detached;
        var tree = merger.Root.Tree;
        var layers = image.Layers;
        for (int k = 0; k < layers.Count; k++)
        {
            var contents = LayerReader.Read(new MemoryStream(layers[k].ToTar()), new LayerReadOptions { LayerIndex = k }, TestContext.Current.CancellationToken);
            var layer = new LayerInfo { Index = k };
            layer.SetRead(contents.Compression, false, 0, contents.UncompressedSize, contents.EntryCount, contents.HeaderSizeTotal, null, null, false);
            merger.BeginLayer(layer);
            var entries = contents.Entries.ToArray();
            var merged = new MergedEntry[entries.Length];
            for (int i = 0; i < entries.Length; i++)
            {
                var node = merger.Add(entries[i]);
                merged[i].Node = node?.Number ?? TreeStore.None;
                if (late) continue;
                merged[i].Version = VersionOf(entries[i], merged[i].Node);
                foreach (var o in figures.Observers) o.OnEntries(layer, new MergedBatch(tree, entries.AsSpan(i, 1), merged.AsSpan(i, 1), detached));
                detached.Clear();
            }
            if (late)
            {
                for (int i = 0; i < entries.Length; i++) merged[i].Version = VersionOf(entries[i], merged[i].Node);
                foreach (var o in figures.Observers) o.OnEntries(layer, new MergedBatch(tree, entries, merged, parents ? detached : null));
                detached.Clear();
            }
            merger.EndLayer(contents.Problems);
            foreach (var o in figures.Observers) o.OnLayerMerged(layer);

            int VersionOf(in RawEntry e, int node) =>
                e.Kind == RawKind.Entry && node != TreeStore.None && tree.TryRecordIn(node, k, out var r) ? r.Attr : TreeStore.None;
        }
        return figures.Text();
    }

    [Fact]
    public void Batched_observers_give_the_figures_and_lists_of_one_entry_at_a_time()
    {
        using var dir = new TempDir();
        var image = Image();
        var path = dir.File("image");
        image.WriteOciLayout(path, "t");

        var batched = new Figures();
        var model = Images.Load(path, new LoadOptions { MaxParallelism = 2, Observers = batched.Observers });
        Assert.InRange(model.Layers[1].EntryCount, 257, 512); // two batches, each with a set of rewrites
        var expected = Observe(image);
        Assert.Equal(expected, batched.Text());
        // the image has what tells a batch seen as it merged from one seen late: the versions a later
        // entry replaced (the file lists), the parents of the paths a file replacing their directory
        // took out of the tree (dive's figures)
        Assert.NotEqual(expected, Observe(image, late: true));
        Assert.NotEqual(Observe(image, lists: false), Observe(image, late: true, parents: false, lists: false));
    }
}
