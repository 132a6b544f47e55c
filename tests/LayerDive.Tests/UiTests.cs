using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;
using LayerDive.Ui.Explorer;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>
/// The explorer as a user sees it (docs/explorer.md), driven headless through Terminal.Gui's ANSI driver: keys
/// are injected into the real window and the screen buffer is read back as text and colours.
/// Expectations come from samples/LayerDive.Samples/SampleImage.cs and dive's test image.
/// </summary>
public sealed class UiTests
{
    private static readonly string DiveImage = Paths.Public("dive__.data_test-docker-image.tar");

    [Fact]
    public void The_progress_line_follows_a_stream_before_and_after_its_layers_are_known()
    {
        var culture = System.Globalization.CultureInfo.CurrentUICulture;
        LayerDive.Core.Text.Use("en");
        try
        {
            // an engine's export read up to the image's config: no layer count yet
            Assert.Equal("Reading the image: 36 MB read at 9.0 MB/s", ProgressText.Of(new LoadProgress(0, 0, 36_000_000, 1_000_000_000, TimeSpan.FromSeconds(4))));
            // standard input: the size is not known
            Assert.Equal("Reading layers: 2 of 9 merged, 600 MB read at 200 MB/s", ProgressText.Of(new LoadProgress(2, 9, 600_000_000, 0, TimeSpan.FromSeconds(3))));
            // a known size: the rate and what is left at that pace (300 MB in 3 s, 200 MB left: 2 s)
            Assert.Equal("Reading layers: 2 of 9 merged, 300 MB of 500 MB read at 100 MB/s, about 2 s left", ProgressText.Of(new LoadProgress(2, 9, 300_000_000, 500_000_000, TimeSpan.FromSeconds(3))));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentUICulture = culture;
        }
    }

    [Fact]
    public void Layers_pane_lists_every_layer_with_its_command_and_steps_without_a_layer_dimmed()
    {
        using var ui = new UiHarness(DiveImage);
        Assert.Contains("  #     Size   Stored Share Kind  Command", ui.Screen);
        Assert.Matches(@"  3   6\.4 kB   9\.2 kB .{5} RUN   cp /somefile", ui.Lines[ui.Find("  3   6.4 kB").Row]);
        Assert.Matches(@"  0   1\.2 MB .{8} .{5} base  ADD file:", ui.Lines[ui.Find("  0   1.2 MB").Row]); // below the base image's CMD
        Assert.Contains(@"CMD [""sh""]", ui.Screen); // the step that made no layer
        Assert.Equal(Color.DarkGray, ui.ColorOf(@"CMD [""sh""]"));
        Assert.Contains("Efficiency: 98.44 % (dive), wasted 32 kB", ui.Screen);
    }

    /// <summary>The image details list the inefficient files dive's --ci lists for its test image, in its order.</summary>
    [Fact]
    public void Image_details_list_dives_inefficient_files_in_its_order()
    {
        using var ui = new UiHarness(DiveImage);
        int header = ui.Find("Count  Wasted Space  File Path").Row;
        int saved = ui.Find("2      13 kB         /root/saved.txt").Row;
        // cut at the pane's edge
        int first = ui.Find("2      13 kB         /root/example/somefile1.t").Row;
        int third = ui.Find("2      6.4 kB        /root/example/somefile3.t").Row;
        Assert.Equal([header + 1, header + 2, header + 3], [saved, first, third]);
    }

    [Fact]
    public void Layers_are_browsable_as_they_are_merged_while_the_rest_is_still_read()
    {
        // the load is held after its bottom layer: the reporting thread waits until the test lets it go on
        using var release = new ManualResetEventSlim();
        var progress = new HeldProgress(release, holdAt: 1);
        var dive = new DiveMetrics();
        var load = ImageLoader.Start(Paths.Sample, new LoadOptions { Observers = [dive], Progress = progress }, TestContext.Current.CancellationToken);
        Assert.True(progress.Held.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        var model = load.Model;
        Assert.Equal(1, model.LayersMerged);
        int layers = model.Layers.Count;

        using var ui = new UiHarness(new ExplorerWindow(model, null, color: true));
        // wired as the explorer is: the load tells, one update is posted to the UI loop
        int updates = 0, merged = 0;
        using var signal = new UiSignal(ui.App, () =>
        {
            updates++;
            Assert.True(ui.Window.Follow(load.Completion, dive.Result, progress.Last));
        });
        model.LayerMerged += (_, _) =>
        {
            Interlocked.Increment(ref merged);
            signal.Raise();
        };
        signal.Raise(); // what came before the window, as the explorer does
        ui.RunPosted();
        Assert.Matches(@"  0 +\d", ui.Lines[ui.Find("  0 ").Row]);           // the merged layer, with its size
        Assert.Matches(@"  1 +… +…", ui.Lines[ui.Find("  1 ").Row]);          // the others still being read
        Assert.Contains("Reading layers: 1 of " + layers + " merged", ui.Screen);
        Assert.Contains("Current Layer Contents (layer 0)", ui.Screen);
        Assert.Contains("── etc", ui.Screen);                                  // the bottom layer's tree is there to browse
        ui.Press(Key.CursorDown);
        Assert.Contains("Current Layer Contents (layer 0)", ui.Screen);        // a layer not yet merged cannot be chosen
        ui.Press(Key.Tab, Key.E);
        Assert.Contains("Still reading the image", ui.Screen);                 // explain needs every layer

        release.Set();
        load.Wait();
        // every layer above told, while the UI loop did not run: one update waits, not one a layer
        Assert.Equal(layers - 1, merged);
        Assert.Equal(1, updates);
        ui.RunPosted();
        Assert.Equal(2, updates);
        ui.RunPosted();
        Assert.Equal(2, updates);
        ui.Press(Key.Tab, Key.CursorDown);
        Assert.Contains("Current Layer Contents (layer 1)", ui.Screen);
        Assert.DoesNotContain("…", ui.Screen);
        Assert.Contains("Efficiency:", ui.Screen);
    }

    /// <summary>Holds the loader's reporting thread at a number of merged layers until released.</summary>
    private sealed class HeldProgress(ManualResetEventSlim release, int holdAt) : IProgress<LoadProgress>
    {
        public ManualResetEventSlim Held { get; } = new();
        public LoadProgress? Last { get; private set; }

        public void Report(LoadProgress value)
        {
            Last = value;
            if (value.LayersMerged != holdAt) return;
            Held.Set();
            release.Wait(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public void File_names_are_coloured_by_what_the_layer_did()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown); // layer 6
        Assert.Contains("Current Layer Contents (layer 6)", ui.Screen);
        Assert.Equal(Color.Green, ui.ColorOf("libapp.so.1 → usr/lib/a"));                   // added (a hardlink)
        Assert.Equal(Color.Red, ui.ColorOf("daemon.pid"));                                    // removed with its directory
        Assert.Equal(Color.Yellow, ui.ColorOf("── run"));                                     // var/run: dir -> file, modified
        Assert.Equal(Color.Red, ui.ColorOf("── daemon.pid"));                                  // still listed under it, removed
        Assert.Equal(Color.Yellow, ui.ColorOf("── var"));                                     // a directory with changes beneath
    }

    [Fact]
    public void A_layer_shows_its_removed_paths_and_an_opaque_directory_marked()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.CursorDown, Key.CursorDown, Key.CursorDown); // layer 3: rm -rf /etc/app && mkdir /etc/app
        Assert.Contains("app  [opaque]", ui.Screen);
        Assert.Equal(Color.Red, ui.ColorOf("defaults.json"));
        Assert.Equal(Color.Green, ui.ColorOf("site.json"));
    }

    [Fact]
    public void Space_collapses_a_directory()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.Tab); // to the tree
        Assert.Contains("os-release", ui.Screen);
        while (!ui.Window.Tree.Current!.Node.Path.Equals("etc", StringComparison.Ordinal)) ui.Press(Key.CursorDown);
        ui.Press(Key.Space);
        Assert.Contains("└── ⊕ etc", ui.Screen.Replace("├── ⊕ etc", "└── ⊕ etc"));
        Assert.DoesNotContain("os-release", ui.Screen);
        ui.Press(Key.Space);
        Assert.Contains("os-release", ui.Screen);
    }

    [Fact]
    public void The_filter_keeps_matches_and_their_parents()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.F.WithCtrl).Type("motd");
        var rows = ui.Window.Tree.VisibleRows.Select(r => r.Node.Path).ToList();
        Assert.Equal(["etc", "etc/motd"], rows);
        Assert.Contains("Filter:", ui.Screen);
        ui.Press(Key.Esc);
        Assert.True(ui.Window.Tree.VisibleRows.Count > 10);
    }

    [Fact]
    public void Attributes_can_be_hidden_and_changes_filtered_by_kind()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.Tab);
        Assert.Contains(FileTreeView.AttributesHeader, ui.Screen);
        ui.Press(Key.B.WithCtrl);
        Assert.DoesNotContain(FileTreeView.AttributesHeader, ui.Screen);
        Assert.DoesNotContain("drwxr-xr-x", ui.Screen);
        // layer 6, hide unmodified and unchanged? dive hides per kind: hide added, the hardlink goes
        ui.Press(Key.Tab);
        for (int i = 0; i < 6; i++) ui.Press(Key.CursorDown);
        ui.Press(Key.Tab, Key.A.WithCtrl);
        Assert.DoesNotContain("libapp.so.1", ui.Screen);
        ui.Press(Key.A.WithCtrl);
        Assert.Contains("libapp.so.1", ui.Screen);
    }

    [Fact]
    public void Hiding_unmodified_leaves_only_what_the_layer_changed()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.CursorDown, Key.CursorDown); // layer 2: rm -rf /var/cache/apt/archives /var/log/apt/history.log
        ui.Press(Key.Tab, Key.U.WithCtrl);
        var rows = ui.Window.Tree.VisibleRows.Select(r => (r.Node.Path, r.Status)).ToList();
        Assert.Equal(
        [
            ("var", RowStatus.Modified), ("var/cache", RowStatus.Modified), ("var/cache/apt", RowStatus.Modified),
            ("var/cache/apt/archives", RowStatus.Removed), ("var/cache/apt/archives/app_1.0_amd64.deb", RowStatus.Removed),
            ("var/log", RowStatus.Modified), ("var/log/apt", RowStatus.Modified), ("var/log/apt/history.log", RowStatus.Removed),
        ], rows);
    }

    [Fact]
    public void Sort_by_size_puts_the_biggest_first()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.CursorDown); // layer 1: usr/lib/app/libapp.so (12 kB) and the 20 kB .deb
        ui.Press(Key.Tab, Key.O.WithCtrl);
        var top = ui.Window.Tree.VisibleRows.Where(r => r.Depth == 0).Select(r => r.Node.Name).ToList();
        Assert.Equal("var", top[0]); // var holds the 20 kB .deb and the 8 kB cache: the biggest directory
        Assert.Contains("^O By size", ui.Lines[^1]);
    }

    [Fact]
    public void Aggregated_changes_compare_with_layer_zero()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.A.WithCtrl); // in the layers pane
        Assert.Contains("Aggregated Layer Contents (layers 1..0 over 0)", ui.Screen);
        ui.Press(Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown);
        Assert.Equal(Color.Green, ui.ColorOf("site.json"));
        Assert.DoesNotContain("defaults.json", ui.Screen); // added in 1, gone by 3: not a change against layer 0
        ui.Press(Key.L.WithCtrl);
        Assert.Contains("Current Layer Contents (layer 6)", ui.Screen);
    }

    [Fact]
    public void Help_overlay_lists_every_key_and_the_status_bar_follows_the_focused_pane()
    {
        using var ui = new UiHarness(Paths.Sample);
        Assert.StartsWith("^L This layer ^A Aggregated", ui.Lines[^1]);
        ui.Press(Key.Tab);
        Assert.StartsWith("Enter View Space Fold ^Space Fold all ^A Added ^R Removed", ui.Lines[^1]);
        ui.Press(new Key('?'));
        Assert.True(ui.ViewModel.HelpVisible);
        foreach (var k in KeyMap.Defaults) Assert.Contains(k.Action, ui.Screen);
        ui.Press(Key.Esc);
        Assert.False(ui.ViewModel.HelpVisible);
    }

    [Fact]
    public void Without_colour_nothing_is_coloured()
    {
        using var ui = new UiHarness(Paths.Sample, color: false);
        ui.Press(Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown);
        Assert.NotEqual(Color.Green, ui.ColorOf("libapp.so.1"));
        Assert.NotEqual(Color.Red, ui.ColorOf("daemon.pid"));
    }

    [Fact]
    public void At_80_by_24_the_panes_still_fit()
    {
        using var ui = new UiHarness(DiveImage, 80, 24);
        Assert.Equal(24, ui.Lines.Length);
        Assert.All(ui.Lines, l => Assert.True(l.Length <= 80));
        Assert.Contains("Layers", ui.Lines[0]);
        Assert.Contains("bin", ui.Screen);
    }
}

public sealed class UiNavigationTests
{
    [Fact]
    public void Slash_searches_and_n_goes_to_the_next_match()
    {
        using var ui = new UiHarness(Paths.Sample);
        for (int i = 0; i < 6; i++) ui.Press(Key.CursorDown); // layer 6: etc/app holds config.json and site.json
        ui.Press(Key.Tab, new Key('/')).Type("json");
        Assert.Contains("Search:", ui.Lines[^1]);
        Assert.Equal("etc/app/config.json", ui.Window.Tree.Current!.Node.Path); // the first match below the cursor
        ui.Press(Key.Enter, Key.N);
        Assert.Equal("etc/app/site.json", ui.Window.Tree.Current!.Node.Path);
        ui.Press(Key.N.WithShift);
        Assert.Equal("etc/app/config.json", ui.Window.Tree.Current!.Node.Path);
        ui.Press(new Key('/')).Type("no-such-name").Press(Key.Enter, Key.N);
        Assert.Contains("no path matches 'no-such-name'", ui.Lines[^1]);
    }

    [Fact]
    public void W_jumps_to_the_layer_that_stored_the_wasted_bytes()
    {
        using var ui = new UiHarness(Paths.Sample);
        for (int i = 0; i < 5; i++) ui.Press(Key.CursorDown); // layer 5: chmod 4755 /usr/bin/tool
        ui.Press(Key.Tab);
        while (ui.Window.Tree.Current!.Node.Path != "usr/bin/tool") ui.Press(Key.CursorDown);
        ui.Press(Key.W);
        Assert.Equal(0, ui.Window.Layers.SelectedLayer); // layer 0 stored the 3 kB that layer 5 replaced
        Assert.Contains("layer 0 stored 3.0 kB of /usr/bin/tool that layer 5 replaced", ui.Lines[^1]);
    }

    [Fact]
    public void A_narrow_tree_pane_drops_the_attribute_columns()
    {
        using var ui = new UiHarness(Paths.Sample, 80, 24);
        Assert.DoesNotContain(FileTreeView.AttributesHeader, ui.Screen);
        Assert.Contains("Filetree", ui.Screen);
        using var wide = new UiHarness(Paths.Sample, 160, 40);
        Assert.Contains(FileTreeView.AttributesHeader, wide.Screen);
    }
}

public sealed class UiWrapTests
{
    [Fact]
    public void Ctrl_P_wraps_long_rows_instead_of_cutting_them()
    {
        using var ui = new UiHarness(Paths.Sample, 80, 40);
        for (int i = 0; i < 6; i++) ui.Press(Key.CursorDown); // layer 6: usr/lib/libapp.so.1 → usr/lib/app/libapp.so
        ui.Press(Key.Tab);
        var cut = ui.Lines.Single(l => l.Contains("libapp.so.1"));
        Assert.DoesNotContain("usr/lib/app/libapp.so", cut);
        ui.Press(Key.P.WithCtrl);
        var (row, col) = ui.Find("libapp.so.1");
        int paneStart = ui.Lines[row].IndexOf('│', 1) + 2; // the tree pane's first column
        string joined = ui.Lines[row][col..].TrimEnd('│', ' ') + ui.Lines[row + 1][paneStart..].TrimEnd('│', ' ');
        Assert.Contains("libapp.so.1 → usr/lib/app/libapp.so", joined.Replace("│", ""));
        Assert.True(ui.Window.Tree.Wrap);
        ui.Press(Key.P.WithCtrl);
        Assert.DoesNotContain("usr/lib/app/libapp.so", ui.Lines.Single(l => l.Contains("libapp.so.1")));
    }
}
