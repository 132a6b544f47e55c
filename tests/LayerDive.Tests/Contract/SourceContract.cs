using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using LayerDive.Core;
using LayerDive.Core.Loading;
using LayerDive.Core.Reports;
using LayerDive.Core.Sources;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// What every source must do, written once (as containerd's content test suite): each source's test
/// class derives from it and says how it names the same image, dive's test image (14 layers,
/// hardlinks, a whiteout), and how it names a copy whose layer 3 is cut.
/// </summary>
public abstract class SourceContract
{
    protected static readonly string Archive = Paths.Public("dive__.data_test-docker-image.tar");

    /// <summary>The image of <paramref name="archive"/> (a docker-archive) as this source names it, with the options it needs (environment, stdin).</summary>
    protected abstract (string Reference, SourceOptions Options) Image(string archive);

    private (string Reference, SourceOptions Options) Image() => Image(Archive);

    /// <summary>A copy of the image whose layer <see cref="CutLayer"/> is cut short, as this source names it.</summary>
    protected abstract (string Reference, SourceOptions Options) CutImage();

    /// <summary>The layer the cut copy cuts, or null where the source cannot say in advance (a stream cut at a byte count).</summary>
    protected virtual int? CutLayer => 3;

    /// <summary>The kind of fault the cut copy is: damaged bytes, or for a source behind a network, a transfer that keeps breaking off.</summary>
    protected virtual FaultKind CutKind => FaultKind.Damaged;

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

    /// <summary>The archive's own manifest.json and config, read here with a tar reader: the expected layers.</summary>
    protected static (string Tag, List<string> DiffIds, List<string> LayerMembers) Expected()
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

    /// <summary>Loads the image as this source names it, keeping the last progress report.</summary>
    protected (LayerDive.Core.Model.ImageModel Model, LoadProgress Last) LoadWithProgress()
    {
        var reports = new List<LoadProgress>();
        var (reference, options) = Image();
        var model = ImageLoader.Load(reference, new LoadOptions { Source = options, Progress = new ProgressLog(reports) }, TestContext.Current.CancellationToken);
        return (model, reports[^1]);
    }

    private static string Listing(LayerDive.Core.Model.ImageModel model)
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
        var image = chosen.Resolve();
        Assert.Equal(diffIds, image.Config.DiffIds);
        Assert.Equal(diffIds, image.Layers.Select(l => l.DiffId));
        Assert.Equal(Enumerable.Range(0, diffIds.Count), image.Layers.Select(l => l.Index));
    }

    [Fact]
    public void The_platform_asked_for_is_chosen()
    {
        SkipUnlessReady();
        var (reference, options) = Image();
        using var source = SourceCatalog.Open(reference, options with { Platform = "linux/amd64" }, TestContext.Current.CancellationToken);
        var image = source.Select(options with { Platform = "linux/amd64" }, out _).Resolve();
        Assert.Equal("linux/amd64", image.Config.Platform);
    }

    [Fact]
    public void Every_digest_verifies_and_the_tree_equals_the_archive_listing()
    {
        SkipUnlessReady();
        var (reference, options) = Image();
        var model = ImageLoader.Load(reference, new LoadOptions { Source = options }, TestContext.Current.CancellationToken);
        Assert.All(model.Layers, l => Assert.True(l.Verified, $"layer {l.Index} not verified"));
        Assert.Equal(Expected().DiffIds, model.Layers.Select(l => l.DiffId));
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
        using var source = SourceCatalog.Open(reference, options, ct);
        var image = source.Select(options, out _).Resolve();
        var blobs = source.Blobs;
        if (blobs.Access == BlobAccess.Random)
        {
            // any blob, any order: the top one first, each stream whole (its sha256 is the blob's digest,
            // or the diff id where the source names no digest: an uncompressed layer)
            foreach (var l in image.Layers.Reverse())
            {
                using var s = blobs.Open(l);
                Assert.Equal(l.Digest ?? l.DiffId, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(s)));
            }
        }
        else
        {
            Assert.Throws<InvalidOperationException>(() => blobs.Open(image.Layers[0]));
        }
        var came = new List<int>();
        blobs.ReadInOrder(image.Layers, (indexes, arrival) =>
        {
            came.AddRange(indexes);
            var hash = arrival.Stream is { } s ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(s)) : null;
            foreach (var i in indexes)
                if (hash is not null) Assert.Equal(image.Layers[i].Digest ?? image.Layers[i].DiffId, hash);
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
        var line = ex.Describe();
        Assert.DoesNotContain("\n", line);
        Assert.Equal(CutKind, ex.Kind);
        if (CutLayer is { } k) Assert.Equal(k, ex.LayerIndex);
        else Assert.Matches("layer", line);
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

/// <summary>
/// The same image as an OCI image layout, written here from the docker-archive's own members: its
/// config and layer tars become blobs named by their sha256, a manifest and an index point at them.
/// </summary>
internal static class OciLayouts
{
    public static string FromDockerArchive(string archive, string folder, int? cutLayer = null)
    {
        var files = new Dictionary<string, byte[]>();
        using (var tar = new TarReader(File.OpenRead(archive)))
            for (var e = tar.GetNextEntry(); e is not null; e = tar.GetNextEntry())
                if (e.DataStream is not null)
                {
                    using var ms = new MemoryStream();
                    e.DataStream.CopyTo(ms);
                    files[e.Name] = ms.ToArray();
                }
        using var manifest = JsonDocument.Parse(files["manifest.json"]);
        var entry = manifest.RootElement[0];
        var layout = Directory.CreateDirectory(Path.Combine(folder, "layout-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var blobs = Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256")).FullName;
        string Blob(byte[] bytes)
        {
            var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
            File.WriteAllBytes(Path.Combine(blobs, hex), bytes);
            return "sha256:" + hex;
        }
        var config = files[entry.GetProperty("Config").GetString()!];
        var layers = entry.GetProperty("Layers").EnumerateArray().Select(l => files[l.GetString()!]).ToList();
        var layerDescriptors = layers.Select((bytes, i) =>
        {
            var digest = Blob(bytes);
            if (i == cutLayer) File.WriteAllBytes(Path.Combine(blobs, digest[7..]), bytes[..(bytes.Length / 2)]);
            return $"{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{digest}\",\"size\":{bytes.Length}}}";
        });
        var manifestJson = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Blob(config)}\",\"size\":{config.Length}}},\"layers\":[{string.Join(',', layerDescriptors)}]}}");
        var manifestDigest = Blob(manifestJson);
        var tag = entry.GetProperty("RepoTags")[0].GetString()!;
        File.WriteAllText(Path.Combine(layout, "index.json"),
            $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{manifestDigest}\",\"size\":{manifestJson.Length},\"annotations\":{{\"io.containerd.image.name\":\"docker.io/library/{tag}\"}}}}]}}");
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return layout;
    }

    public static string Tar(string layout)
    {
        var path = layout + ".tar";
        TarFile.CreateFromDirectory(layout, path, includeBaseDirectory: false);
        return path;
    }
}

/// <summary>An OCI image layout directory, read in place.</summary>
public sealed class OciLayoutSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => (OciLayouts.FromDockerArchive(archive, _dir.Path), new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (OciLayouts.FromDockerArchive(Archive, _dir.Path, cutLayer: 3), new SourceOptions());
    public void Dispose() => _dir.Dispose();
}

/// <summary>The OCI layout in a tar (an oci-archive).</summary>
public sealed class OciArchiveSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => (OciLayouts.Tar(OciLayouts.FromDockerArchive(archive, _dir.Path)), new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (OciLayouts.Tar(OciLayouts.FromDockerArchive(Archive, _dir.Path, cutLayer: 3)), new SourceOptions());
    public void Dispose() => _dir.Dispose();
}

/// <summary>An uncompressed docker-archive file: random access, layers read in parallel.</summary>
public sealed class ArchiveFileSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => (archive, new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (WriteCutArchive(_dir.Path, 3), new SourceOptions());
    public void Dispose() => _dir.Dispose();
}

/// <summary>The same archive gzipped as a whole: read in the archive's order, two passes over the file.</summary>
public sealed class CompressedArchiveSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();

    private string Gzip(string path)
    {
        var gz = Path.Combine(_dir.Path, Path.GetFileName(path) + ".gz");
        using (var input = File.OpenRead(path))
        using (var output = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
            input.CopyTo(output);
        return gz;
    }

    protected override (string, SourceOptions) Image(string archive) => (Gzip(archive), new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (Gzip(WriteCutArchive(_dir.Path, 3)), new SourceOptions());
    public void Dispose() => _dir.Dispose();
}

/// <summary>Standard input ("-"): one pass, manifest.json at the end, layers placed as their hashes complete.</summary>
public sealed class StdinSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => ("-", new SourceOptions { StandardInput = () => File.OpenRead(archive) });
    protected override (string, SourceOptions) CutImage()
    {
        var cut = WriteCutArchive(_dir.Path, 3);
        return ("-", new SourceOptions { StandardInput = () => File.OpenRead(cut) });
    }

    [Fact]
    public void Standard_input_is_read_once()
    {
        using var source = SourceCatalog.Open("-", Image(Archive).Item2, TestContext.Current.CancellationToken);
        var image = source.Select(new SourceOptions(), out _).Resolve();
        source.Blobs.ReadInOrder(image.Layers, (_, _) => { }, TestContext.Current.CancellationToken);
        var again = Assert.Throws<ImageException>(() => source.Blobs.ReadInOrder(image.Layers, (_, _) => { }, TestContext.Current.CancellationToken));
        Assert.Contains("standard input", again.Message);
        Assert.Equal(FaultKind.Unsupported, again.Kind);
    }

    public void Dispose() => _dir.Dispose();
}
