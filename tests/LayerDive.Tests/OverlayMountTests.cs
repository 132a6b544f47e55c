using System.Formats.Tar;

namespace LayerDive.Tests;

/// <summary>
/// docs/explorer.md, for real: lay out each layer as `layerdive overlay` prints, mount it with the printed command
/// (root), and the merged folder is the tree `layerdive ls` shows (tests/overlay/mount.sh).
/// </summary>
public sealed class OverlayMountTests
{
    public static TheoryData<string> Images => new(["sample.oci.tar", .. LayerDive.Samples.Lessons.All.Select(l => "lessons/" + l.Name + ".oci.tar")]);

    [Theory]
    [MemberData(nameof(Images))]
    public async Task The_printed_mount_gives_the_tree_ls_shows(string image)
    {
        if (Environment.UserName != "root") Assert.Skip("overlay mounts need root");
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        using var dir = new TempDir();
        using (var archive = File.OpenRead(Path.Combine(Paths.RepoRoot, "samples", image)))
            await TarFile.ExtractToDirectoryAsync(archive, dir.Path, overwriteFiles: false, TestContext.Current.CancellationToken);
        var (code, output) = await Scripts.Run("tests/overlay/mount.sh", Scripts.Layerdive, dir.Path, Paths.CorpusTools);
        if (code == 77) Assert.Skip(output.Trim());
        Assert.True(code == 0, output);
        Assert.Contains("the same tree as layerdive ls", output);
    }
}
