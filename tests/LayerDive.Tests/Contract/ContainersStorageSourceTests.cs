using System.Formats.Tar;
using System.Text.Json;
using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>
/// containers-storage: the image podman loaded into a real store under a temporary root
/// (<see cref="StoreFixture"/>), read from the store's files with no engine running. The cut copy is a
/// copy of the store in which a file layer 3 adds is one byte shorter than its tar-split says.
/// </summary>
public abstract class ContainersStorageContract(StoreFixture stores, string driver) : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();

    protected override void SkipUnlessReady()
    {
        if (stores.SkipReason is { } why) Assert.Skip(why);
    }

    /// <summary>The name the fixture loaded <paramref name="archive"/> under.</summary>
    private string Name(string archive) =>
        stores.Images.FirstOrDefault(i => i.Value == archive).Key ?? throw new InvalidOperationException($"{archive} is not loaded in the test stores");

    protected override (string, SourceOptions) Image(string archive) => (stores.Reference(driver, Name(archive)), new SourceOptions());

    protected override (string, SourceOptions) CutImage()
    {
        var root = _dir.File("root");
        var copy = Scripts.Exec("cp", "-a", stores.StoreRoot(driver), root);
        Assert.True(copy.ExitCode == 0, copy.Stderr);
        // the store's id of layer 3: the layer whose diff digest is layer 3's diff id
        using var layers = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, driver + "-layers", "layers.json")));
        var id = layers.RootElement.EnumerateArray().First(l => l.GetProperty("diff-digest").GetString() == Expected().DiffIds[CutLayer]).GetProperty("id").GetString()!;
        // a regular file the layer's tar holds, as the layer's folder keeps it (overlay: diff/; vfs: the folder itself)
        string? file = null;
        using (var tar = new TarReader(new MemoryStream(LayerBytes(CutLayer))))
            for (var e = tar.GetNextEntry(); e is not null && file is null; e = tar.GetNextEntry())
                if (e.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && e.Length > 0) file = e.Name;
        Assert.NotNull(file);
        var path = driver == "overlay" ? Path.Combine(root, "overlay", id, "diff", file) : Path.Combine(root, "vfs", "dir", id, file);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path); // a new file: nothing else the copy holds shares its bytes
        File.WriteAllBytes(path, bytes[..^1]);
        return ($"containers-storage:[{driver}@{root}]{Name(Archive)}", new SourceOptions());
    }

    /// <summary>
    /// Overridden: an image in a store is one instance of one platform (a store keeps each platform pulled
    /// as an image of its own, with no index to choose from).
    /// </summary>
    [Fact]
    public override void The_platform_asked_for_is_chosen() => Another_platform_is_not_found();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The overlay driver's store: a layer's files in overlay/ID/diff, whiteouts as 0/0 devices.</summary>
[Collection("stores")]
[ContractFor("containers-storage")]
public sealed class ContainersStorageOverlaySourceTests(StoreFixture stores) : ContainersStorageContract(stores, "overlay");

/// <summary>The vfs driver's store: each layer a whole copy of the tree in vfs/dir/ID.</summary>
[Collection("stores")]
[ContractFor("containers-storage")]
public sealed class ContainersStorageVfsSourceTests(StoreFixture stores) : ContainersStorageContract(stores, "vfs");
