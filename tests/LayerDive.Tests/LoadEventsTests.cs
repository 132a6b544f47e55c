using System.Collections.Concurrent;
using System.Formats.Tar;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// How a front end follows a load: <see cref="ImageModel.LayerMerged"/> once per layer, in order, with
/// the model let go, and <see cref="ImageModel.Read{T}"/> showing a model still loading as its merged
/// layers have it. The image is made so that what each layer leaves is known from how it is made.
/// </summary>
public sealed class LoadEventsTests
{
    private const int Layers = 12, FilesPerLayer = 3000;

    /// <summary>
    /// Layer k writes the directory lk and FilesPerLayer files in it, and (from layer 1) deletes l(k-1)/f0:
    /// after layer i, i+1 directories and (i+1)*FilesPerLayer - i files are there. Thousands of entries a
    /// layer: a layer above is read (and its entries held) while the one below is merged.
    /// </summary>
    private static ImageBuilder Image()
    {
        var image = new ImageBuilder();
        for (int k = 0; k < Layers; k++)
        {
            int layer = k;
            image.Layer($"layer {k}", l =>
            {
                l.Dir($"l{layer}");
                for (int j = 0; j < FilesPerLayer; j++) l.File($"l{layer}/f{j}", $"{layer}:{j}\n");
                if (layer > 0) l.Whiteout($"l{layer - 1}/f0");
            });
        }
        return image;
    }

    /// <summary>Nodes visible after layer <paramref name="i"/>, the root included (what <see cref="ImageModel.Walk"/> yields).</summary>
    private static int VisibleAfter(int i) => 1 + (i + 1) + (i + 1) * FilesPerLayer - i;

    /// <summary>Each layer's tar entries, counted by .NET's own tar reader.</summary>
    private static int[] EntriesByLayer(ImageBuilder image) => image.Layers.Select(l =>
    {
        using var reader = new TarReader(new MemoryStream(l.ToTar()));
        int n = 0;
        while (reader.GetNextEntry() is not null) n++;
        return n;
    }).ToArray();

    /// <summary>The highest layer any node has a record of (the root's is -1).</summary>
    private static int TopRecord(ImageModel m)
    {
        int top = -1;
        foreach (var n in m.AllNodes())
            foreach (var r in n.History) top = Math.Max(top, r.Layer);
        return top;
    }

    private sealed record Seen(int Layer, bool ReadElsewhere, int MergedInside, int TopRecord, int Visible, int EntryCount, bool AboveUnset);

    [Fact]
    public void LayerMerged_comes_once_per_layer_in_order_with_the_model_let_go()
    {
        using var dir = new TempDir();
        var image = Image();
        var path = dir.File("image");
        image.WriteOciLayout(path, "t");
        var entries = EntriesByLayer(image);

        var seen = new ConcurrentQueue<Seen>();
        bool blocked = false;
        // two readers at once: a layer above is read while the one below is merged; the handler is
        // attached before the first layer is read (LoadOptions.LayerMerged), so none is missed
        ImageModel? model = null;
        void Merged(object? sender, int index)
        {
            model ??= (ImageModel)sender!;
            Assert.Same(model, sender);
            // from another thread: were the model's lock still held here, this read would wait for it and time out
            var elsewhere = Task.Run(() => model.Read(m => m.LayersMerged));
            bool done = !blocked && elsewhere.Wait(TimeSpan.FromSeconds(30)); // once blocked, it would be each time
            blocked |= !done;
            seen.Enqueue(model.Read(m => new Seen(
                index, done && elsewhere.Result == index + 1, m.LayersMerged,
                TopRecord(m),
                m.Walk(index).Count(),
                m.Layers[index].EntryCount,
                m.Layers.Skip(index + 1).All(l => l.EntryCount == 0 && l.DiffId is null))));
        }
        var load = ImageLoader.Start(path, new LoadOptions { MaxParallelism = 2, LayerMerged = Merged }, TestContext.Current.CancellationToken);
        Assert.Same(model ?? load.Model, load.Model);
        model = load.Model;
        using (load) load.Wait();

        var all = seen.ToArray();
        Assert.Equal(Enumerable.Range(0, Layers), all.Select(s => s.Layer)); // once per layer, in order
        foreach (var s in all)
        {
            Assert.True(s.ReadElsewhere, $"layer {s.Layer}: another thread could not read the model while the event was handled");
            Assert.Equal(s.Layer + 1, s.MergedInside);
            // the layer above has begun but none of its entries went in: nothing of it is in the tree yet
            Assert.Equal(s.Layer, s.TopRecord);
            Assert.Equal(VisibleAfter(s.Layer), s.Visible);
            Assert.Equal(entries[s.Layer], s.EntryCount);
            Assert.True(s.AboveUnset, $"layer {s.Layer}: a layer above had figures");
        }
        Assert.True(model.IsComplete);
    }

    [Fact]
    public async Task A_reader_during_the_load_sees_the_merged_layers_as_they_stay()
    {
        using var dir = new TempDir();
        var image = Image();
        var path = dir.File("image");
        image.WriteOciLayout(path, "t");
        var entries = EntriesByLayer(image);

        var load = ImageLoader.Start(path, new LoadOptions { MaxParallelism = 2 }, TestContext.Current.CancellationToken);
        var model = load.Model;
        var reads = new List<(int Merged, int TopRecord, int Visible, int[] Counts, bool AboveUnset)>();
        // reads as fast as it can while the load goes on, on a thread of its own
        var reader = Task.Run(() =>
        {
            while (!load.Completion.IsCompleted)
            {
                reads.Add(model.Read(m =>
                {
                    int merged = m.LayersMerged;
                    return (merged,
                        TopRecord(m),
                        merged == 0 ? 0 : m.Walk(merged - 1).Count(),
                        m.Layers.Take(merged).Select(l => l.EntryCount).ToArray(),
                        m.Layers.Skip(merged + 1).All(l => l.EntryCount == 0 && l.DiffId is null && l.Added == 0));
                }));
            }
        }, TestContext.Current.CancellationToken);
        using (load) load.Wait();
        await reader.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var during = reads.Where(r => r.Merged < Layers).ToList();
        Assert.NotEmpty(during);
        foreach (var r in during)
        {
            // the layer being merged may be in part; none above it
            Assert.InRange(r.TopRecord, r.Merged - 1, r.Merged);
            if (r.Merged > 0) Assert.Equal(VisibleAfter(r.Merged - 1), r.Visible);
            Assert.Equal(entries.Take(r.Merged), r.Counts);
            Assert.True(r.AboveUnset, $"with {r.Merged} layers merged, a layer above the one being merged had figures");
        }
        // and what a merged layer shows stays: after the load, the same
        for (int i = 0; i < Layers; i++) Assert.Equal(VisibleAfter(i), model.Walk(i).Count());
    }
}
