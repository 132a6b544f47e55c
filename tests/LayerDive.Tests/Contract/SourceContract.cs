using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using LayerDive.Core;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>
/// The source kinds, as <see cref="SourceCatalog"/> names them, that a contract class reads its image
/// as. Every class deriving from <see cref="SourceContract"/> carries it, and every kind of the catalog
/// has such a class (<see cref="ContractCoverageTests"/> fails otherwise, naming the kind).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ContractForAttribute(params string[] kinds) : Attribute
{
    public IReadOnlyList<string> Kinds { get; } = kinds;
}

/// <summary>
/// What every source must do, written once (as containerd's content test suite): each source's test
/// class derives from it and says how it names the same image, dive's test image (14 layers,
/// hardlinks, a whiteout), a copy whose layer <see cref="CutLayer"/> is cut, and a two-platform image.
/// A test that cannot apply to a source in principle is overridden there, saying why.
/// </summary>
public abstract class SourceContract
{
    protected static readonly string Archive = Paths.Public("dive__.data_test-docker-image.tar");

    /// <summary>An OCI layout whose index holds an index of linux/amd64 then linux/arm64 (stereoscope's test data).</summary>
    protected static readonly string MultiPlatformLayout = Paths.Public("stereoscope__pkg_image_oci_testdata_multiplatform_oci_dir");

    /// <summary>The platform the platform check asks for: not linux/amd64, not the index's first, so not the default pick.</summary>
    protected const string OtherPlatform = "linux/arm64";

    /// <summary>The image of <paramref name="archive"/> (a docker-archive) as this source names it, with the options it needs (environment, stdin).</summary>
    protected abstract (string Reference, SourceOptions Options) Image(string archive);

    private (string Reference, SourceOptions Options) Image() => Image(Archive);

    /// <summary>A copy of the image whose layer <see cref="CutLayer"/> is cut short inside, as this source names it.</summary>
    protected abstract (string Reference, SourceOptions Options) CutImage();

    /// <summary>The layer the cut copy is cut in: the error must name it.</summary>
    protected virtual int CutLayer => 3;

    /// <summary>The kind of fault the cut copy is: damaged bytes, or for a source behind a network, a transfer that keeps breaking off.</summary>
    protected virtual FaultKind CutKind => FaultKind.Damaged;

    /// <summary>
    /// Layers the source puts above the image's own (a container's read-write layer): made by the source
    /// as it reads them, so no digest names them and none is checked.
    /// </summary>
    protected virtual int LayersOnTop => 0;

    /// <summary>
    /// <see cref="MultiPlatformLayout"/> in the form this source takes (a layout, an archive of it, a
    /// registry it was pushed to). A source that holds one platform per image returns null and overrides
    /// <see cref="The_platform_asked_for_is_chosen"/> with <see cref="Another_platform_is_not_found"/>, saying why.
    /// </summary>
    protected virtual (string Reference, SourceOptions Options)? MultiPlatformImage(string layout) => null;

    /// <summary>
    /// An image the source does not have, named as <see cref="Image(string)"/> names its own: a path beside
    /// it, a tag nothing pushed or loaded; standard input, which has no name, asked for an image it lacks.
    /// </summary>
    protected virtual (string Reference, SourceOptions Options) MissingImage()
    {
        var (reference, options) = Image();
        if (reference == "-") return (reference, options with { Image = "layerdive-missing" });
        if (File.Exists(reference) || Directory.Exists(reference)) return (reference + ".missing", options);
        int slash = reference.LastIndexOf('/'), colon = reference.LastIndexOf(':');
        return ((colon > slash ? reference[..colon] : reference) + ":layerdive-missing", options);
    }

    protected virtual void SkipUnlessReady() { }

    private IReadOnlyList<string> Kinds =>
        GetType().GetCustomAttributes(typeof(ContractForAttribute), inherit: false) is [ContractForAttribute a] ? a.Kinds : [];

    /// <summary>The archive's own manifest.json and config, read here with a tar reader: the expected layers.</summary>
    internal static (string Tag, List<string> DiffIds, List<string> LayerMembers) Expected()
    {
        var files = new Dictionary<string, byte[]>();
        using (var tar = new TarReader(File.OpenRead(Archive)))
            for (var e = tar.GetNextEntry(); e is not null; e = tar.GetNextEntry())
                if (e.DataStream is not null && (e.Name.EndsWith(".json", StringComparison.Ordinal)))
                {
                    using var ms = new MemoryStream();
                    e.DataStream.CopyTo(ms);
                    files[e.Name] = ms.ToArray();
                }
        using var manifest = JsonDocument.Parse(files["manifest.json"]);
        var entry = manifest.RootElement[0];
        using var config = JsonDocument.Parse(files[entry.GetProperty("Config").GetString()!]);
        return (entry.GetProperty("RepoTags")[0].GetString()!,
            config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToList(),
            entry.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList());
    }

    /// <summary>
    /// What the layout's own documents say an image of <paramref name="platform"/> is, read here from the
    /// JSON (index, nested indexes, the manifest whose descriptor names the platform, its config): the
    /// config's os/architecture and its diff ids; and the platform of the index's first image.
    /// </summary>
    protected static (string Platform, List<string> DiffIds, string First) ExpectedPlatform(string layout, string platform)
    {
        JsonElement Read(string path) => JsonSerializer.Deserialize<JsonElement>(File.ReadAllBytes(path));
        JsonElement Document(string digest) => Read(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]));
        var images = new List<(string Platform, JsonElement Manifest)>();
        void Walk(JsonElement index)
        {
            foreach (var d in index.GetProperty("manifests").EnumerateArray())
            {
                var doc = Document(d.GetProperty("digest").GetString()!);
                if (doc.TryGetProperty("manifests", out _)) Walk(doc);
                else if (d.TryGetProperty("platform", out var p))
                    images.Add(($"{p.GetProperty("os").GetString()}/{p.GetProperty("architecture").GetString()}", doc));
            }
        }
        Walk(Read(Path.Combine(layout, "index.json")));
        var config = Document(images.Single(i => i.Platform == platform).Manifest.GetProperty("config").GetProperty("digest").GetString()!);
        return ($"{config.GetProperty("os").GetString()}/{config.GetProperty("architecture").GetString()}",
            config.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToList(),
            images[0].Platform);
    }

    /// <summary>Loads the image as this source names it, keeping the last progress report.</summary>
    protected (ImageModel Model, LoadProgress Last) LoadWithProgress()
    {
        var reports = new List<LoadProgress>();
        var (reference, options) = Image();
        var model = ImageLoader.Load(reference, new LoadOptions { Source = options, Progress = new ProgressLog(reports) }, TestContext.Current.CancellationToken);
        return (model, reports[^1]);
    }

    private static string Listing(ImageModel model)
    {
        var w = new StringWriter();
        RootfsListing.Write(model, model.TopLayer, w);
        return w.ToString();
    }

    [Fact]
    public void Candidates_name_the_image_and_resolve_to_its_layers()
    {
        SkipUnlessReady();
        var (tag, diffIds, _) = Expected();
        var (reference, options) = Image();
        using var source = SourceCatalog.Open(reference, options, TestContext.Current.CancellationToken);
        var chosen = source.Select(options, out _);
        Assert.Contains(chosen.Tags, t => t == tag || t.EndsWith("/" + tag, StringComparison.Ordinal));
        var image = chosen.Resolve(TestContext.Current.CancellationToken);
        Assert.Equal(diffIds, image.Config.DiffIds);
        Assert.Equal([.. diffIds, .. Enumerable.Repeat<string?>(null, LayersOnTop)], image.Layers.Select(l => l.DiffId));
        Assert.Equal(Enumerable.Range(0, diffIds.Count + LayersOnTop), image.Layers.Select(l => l.Index));
    }

    /// <summary>
    /// The two-platform image asked for its second platform: the image chosen is the one the index names
    /// for it (its config's platform, its layers' diff ids), and without asking it is another.
    /// </summary>
    [Fact]
    public virtual void The_platform_asked_for_is_chosen()
    {
        SkipUnlessReady();
        var (platform, diffIds, first) = ExpectedPlatform(MultiPlatformLayout, OtherPlatform);
        Assert.NotEqual(OtherPlatform, first);
        var (reference, options) = MultiPlatformImage(MultiPlatformLayout)
            ?? throw new InvalidOperationException($"{GetType().Name} gives no multi-platform image: override MultiPlatformImage, or, where the source holds one platform per image, override this test with Another_platform_is_not_found and say why");
        var ct = TestContext.Current.CancellationToken;
        var model = ImageLoader.Load(reference, new LoadOptions { Source = options with { Platform = OtherPlatform } }, ct);
        Assert.Equal(platform, model.Config.Platform);
        Assert.Equal(diffIds, model.Config.DiffIds);
        Assert.Equal(diffIds, model.Layers.Select(l => l.DiffId));
        Assert.All(model.Layers, l => Assert.True(l.Verified, $"layer {l.Index} not verified"));
        var byDefault = ImageLoader.Load(reference, new LoadOptions { Source = options }, ct);
        Assert.NotEqual(diffIds, byDefault.Layers.Select(l => l.DiffId));
    }

    /// <summary>
    /// For a source that holds one platform per image: asking for a platform its image lacks is an error
    /// of kind NotFound naming the platform, never the image it has.
    /// </summary>
    protected void Another_platform_is_not_found()
    {
        SkipUnlessReady();
        var (reference, options) = Image();
        var fault = Assert.Throws<ImageException>(() => ImageLoader.Load(reference, new LoadOptions { Source = options with { Platform = OtherPlatform } }, TestContext.Current.CancellationToken));
        Assert.Equal(FaultKind.NotFound, fault.Kind);
        Assert.Contains(OtherPlatform, fault.Message);
        Assert.DoesNotContain("\n", fault.Describe());
    }

    [Fact]
    public void Every_digest_verifies_and_the_tree_equals_the_archive_listing()
    {
        SkipUnlessReady();
        var (reference, options) = Image();
        var diffIds = Expected().DiffIds;
        var model = ImageLoader.Load(reference, new LoadOptions { Source = options }, TestContext.Current.CancellationToken);
        Assert.Contains(model.SourceKind, Kinds);
        Assert.Equal(diffIds.Count + LayersOnTop, model.Layers.Count);
        Assert.All(model.Layers.Take(diffIds.Count), l => Assert.True(l.Verified, $"layer {l.Index} not verified"));
        Assert.Equal(diffIds, model.Layers.Take(diffIds.Count).Select(l => l.DiffId));
        var reference0 = ImageLoader.Load(Archive, new LoadOptions(), TestContext.Current.CancellationToken);
        Assert.Equal(Listing(reference0), Listing(model));
    }

    /// <summary>The generated image with every edge case, through this source, against umoci's unpack of it.</summary>
    [Fact]
    public void The_tricky_image_equals_the_umoci_ground_truth()
    {
        var archive = Path.Combine(Paths.GeneratedCorpus, "tricky", "tricky.docker-archive.tar");
        var truth = Path.Combine(Paths.GeneratedCorpus, "tricky.rootfs.tsv");
        if (!File.Exists(archive) || !File.Exists(truth)) Assert.Skip($"generated corpus not present ({archive}); run: bash ../shared/tools/make-corpus.sh");
        SkipUnlessReady();
        var (reference, options) = Image(archive);
        var model = ImageLoader.Load(reference, new LoadOptions { FileSha256 = true, Source = options }, TestContext.Current.CancellationToken);
        var ours = new StringWriter { NewLine = "\n" };
        RootfsListing.Write(model, model.TopLayer, ours);
        Assert.Equal(File.ReadAllLines(truth), ours.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Blobs_are_read_in_the_order_the_source_allows()
    {
        SkipUnlessReady();
        var (reference, options) = Image();
        var ct = TestContext.Current.CancellationToken;
        int own = Expected().DiffIds.Count;
        using var source = SourceCatalog.Open(reference, options, ct);
        var image = source.Select(options, out _).Resolve(ct);
        var blobs = image.Blobs;
        // a blob's sha256 is its digest, or its diff id where the source names no digest (an uncompressed
        // layer); a layer the source made on top is named by neither
        string? Named(int i) => image.Layers[i].Digest ?? image.Layers[i].DiffId;
        Assert.All(image.Layers, l => Assert.True((l.Index < own) == (Named(l.Index) is not null), $"layer {l.Index}"));
        if (blobs is IRandomAccessBlobs random)
        {
            // any blob, any order: the top one first, each stream whole
            foreach (var l in image.Layers.Reverse().Where(l => l.Index < own))
            {
                using var s = random.Open(l);
                Assert.Equal(Named(l.Index), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(s)));
            }
        }
        var came = new List<int>();
        blobs.ReadInOrder(image.Layers, (indexes, arrival) =>
        {
            came.AddRange(indexes);
            var hash = arrival.Stream is { } s ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(s)) : null;
            foreach (var i in indexes.Where(i => i < own))
                if (hash is not null) Assert.Equal(Named(i), hash);
                else Assert.Equal(image.Layers[i].DiffId, arrival.Held!.Contents.DiffId);
        }, ct);
        Assert.Equal(Enumerable.Range(0, image.Layers.Count), came.Order());
    }

    [Fact]
    public void A_cut_layer_is_an_error_that_names_it()
    {
        SkipUnlessReady();
        var (reference, options) = CutImage();
        var ex = Assert.Throws<ImageException>(() => ImageLoader.Load(reference, new LoadOptions { Source = options }, TestContext.Current.CancellationToken));
        Assert.DoesNotContain("\n", ex.Describe());
        Assert.Equal(CutKind, ex.Kind);
        Assert.Equal(CutLayer, ex.LayerIndex);
        Assert.StartsWith($"layer {CutLayer}", ex.Describe());
    }

    [Fact]
    public void An_image_the_source_lacks_is_not_found()
    {
        SkipUnlessReady();
        var (reference, options) = MissingImage();
        var ex = Assert.Throws<ImageException>(() => ImageLoader.Load(reference, new LoadOptions { Source = options }, TestContext.Current.CancellationToken));
        Assert.Equal(FaultKind.NotFound, ex.Kind);
        Assert.DoesNotContain("\n", ex.Describe());
    }

    /// <summary>The bytes of the archive's layer <paramref name="layer"/>: its member, which an engine's export of the image holds as they are.</summary>
    internal static byte[] LayerBytes(int layer)
    {
        var member = Expected().LayerMembers[layer];
        using var tar = new TarReader(File.OpenRead(Archive));
        for (var e = tar.GetNextEntry(); e is not null; e = tar.GetNextEntry())
            if (e.Name == member && e.DataStream is not null)
            {
                using var ms = new MemoryStream();
                e.DataStream.CopyTo(ms);
                return ms.ToArray();
            }
        throw new InvalidOperationException($"{member} is not in {Archive}");
    }

    /// <summary>Where the middle of layer <paramref name="layer"/>'s bytes falls in <paramref name="stream"/> (an archive or an export holding them).</summary>
    internal static long MiddleOfLayer(byte[] stream, int layer)
    {
        var bytes = LayerBytes(layer);
        int at = stream.AsSpan().IndexOf(bytes);
        Assert.True(at >= 0, $"layer {layer}'s bytes are not in the stream");
        return at + bytes.Length / 2;
    }

    /// <summary>A copy of the archive whose layer <paramref name="layer"/> keeps only its first half (the outer tar stays valid).</summary>
    protected static string WriteCutArchive(string folder, int layer)
    {
        var member = Expected().LayerMembers[layer];
        var path = Path.Combine(folder, "cut.tar");
        using var input = new TarReader(File.OpenRead(Archive));
        using var output = new TarWriter(File.Create(path), TarEntryFormat.Pax, leaveOpen: false);
        for (var e = input.GetNextEntry(); e is not null; e = input.GetNextEntry())
        {
            if (e.Name == member && e.DataStream is not null)
            {
                var half = new byte[e.Length / 2];
                e.DataStream.ReadExactly(half);
                var cut = new PaxTarEntry(TarEntryType.RegularFile, e.Name) { DataStream = new MemoryStream(half) };
                output.WriteEntry(cut);
            }
            else output.WriteEntry(e);
        }
        return path;
    }
}
