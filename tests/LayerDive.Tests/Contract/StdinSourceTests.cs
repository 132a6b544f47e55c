using LayerDive.Core;
using LayerDive.Core.Loading;
using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>Standard input ("-"): one pass, manifest.json at the end, layers placed as their hashes complete.</summary>
[ContractFor("docker-archive")]
public sealed class StdinSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => ("-", new SourceOptions { StandardInput = () => File.OpenRead(archive) });
    protected override (string, SourceOptions) CutImage()
    {
        var cut = WriteCutArchive(_dir.Path, 3);
        return ("-", new SourceOptions { StandardInput = () => File.OpenRead(cut) });
    }

    /// <summary>The oci-archive of the layout on standard input.</summary>
    protected override (string, SourceOptions)? MultiPlatformImage(string layout)
    {
        var tar = OciLayouts.Tar(layout, _dir.Path);
        return ("-", new SourceOptions { StandardInput = () => File.OpenRead(tar) });
    }

    [Fact]
    public void Standard_input_is_read_once()
    {
        using var source = SourceCatalog.Open("-", Image(Archive).Item2, TestContext.Current.CancellationToken);
        var image = source.Select(new SourceOptions(), out _).Resolve(TestContext.Current.CancellationToken);
        image.Blobs.ReadInOrder(image.Layers, (_, _) => { }, TestContext.Current.CancellationToken);
        var again = Assert.Throws<ImageException>(() => image.Blobs.ReadInOrder(image.Layers, (_, _) => { }, TestContext.Current.CancellationToken));
        Assert.Contains("standard input", again.Message);
        Assert.Equal(FaultKind.Unsupported, again.Kind);
    }

    /// <summary>
    /// A stream cut at a byte count (<c>docker save | head -c</c>) inside the bottom layer of a legacy
    /// archive, whose layer members are named by v1 ids and placed only by their hashes: the layer is
    /// named by its &lt;id&gt;/json, which has no parent. Where the cut falls is worked out from the archive.
    /// </summary>
    [Fact]
    public void A_stream_cut_inside_the_bottom_layer_names_it()
    {
        var bytes = File.ReadAllBytes(Archive);
        var cut = _dir.File("cut-at-a-byte-count.tar");
        File.WriteAllBytes(cut, bytes[..(int)MiddleOfLayer(bytes, 0)]);
        var ex = Assert.Throws<ImageException>(() => ImageLoader.Load("-", new LoadOptions { Source = new SourceOptions { StandardInput = () => File.OpenRead(cut) } }, TestContext.Current.CancellationToken));
        Assert.Equal(FaultKind.Damaged, ex.Kind);
        Assert.Equal(0, ex.LayerIndex);
        Assert.Contains(Expected().LayerMembers[0], ex.Message);
    }

    public void Dispose() => _dir.Dispose();
}
