using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>issue 29 in the explorer: <c>a</c> lists the advice; each press chooses a finding, selects its layer and shows its paths in the tree.</summary>
public sealed class AdviseExplorerTests
{
    [Fact]
    public void A_chooses_each_finding_in_turn_and_the_tree_shows_its_paths()
    {
        using var dir = new TempDir();
        var path = dir.File("image.oci.tar");
        AdviseTests.Base()
            .Layer("RUN /bin/sh -c make-data", l => l.Dir("data").File("data/big.bin", AdviseTests.Noise(300_000, 2)).File("data/keep.txt", "kept\n"))
            .Layer("RUN /bin/sh -c rm -f /data/big.bin", l => l.Dir("data").Whiteout("data/big.bin"))
            .Layer("RUN /bin/sh -c pip install x", l => l.Dir("root").Dir("root/.cache").Dir("root/.cache/pip").File("root/.cache/pip/wheel.whl", AdviseTests.Noise(20_000, 3)))
            .WriteOciArchive(path);
        using var ui = new UiHarness(path, height: 40);

        ui.Press(new Key('a'));
        Assert.True(ui.ViewModel.Viewer.IsOpen);
        Assert.Contains("Advice 1 of 2: removed later", ui.Screen);
        Assert.Contains(">   1.", ui.Screen);
        Assert.Equal(1, ui.ViewModel.Layer); // the layer that stored /data/big.bin
        ui.Press(Key.Esc);
        Assert.False(ui.ViewModel.Viewer.IsOpen);
        Assert.Contains("big.bin", ui.Screen);
        Assert.DoesNotContain("keep.txt", ui.Screen); // only the finding's paths
        ui.Press(new Key('e')); // explain still works on the path shown
        Assert.Contains("/data/big.bin", ui.ViewModel.Viewer.Title);
        ui.Press(Key.Esc);

        ui.Press(new Key('a')); // reopens on the finding chosen
        Assert.Contains("Advice 1 of 2", ui.Screen);
        ui.Press(new Key('a')); // the next
        Assert.Contains("Advice 2 of 2: package manager cache", ui.Screen);
        Assert.Equal(3, ui.ViewModel.Layer);
        ui.Press(Key.Esc);
        Assert.Contains("wheel.whl", ui.Screen);
    }

    [Fact]
    public void A_clean_image_says_there_is_no_advice()
    {
        using var dir = new TempDir();
        var path = dir.File("image.oci.tar");
        AdviseTests.Base().Layer("COPY app /app", l => l.Dir("app").File("app/server", AdviseTests.Noise(1000, 4))).WriteOciArchive(path);
        using var ui = new UiHarness(path, height: 40);
        ui.Press(new Key('a'));
        Assert.False(ui.ViewModel.Viewer.IsOpen);
        Assert.Contains("No advice: nothing to change in the build", ui.Screen);
    }
}
