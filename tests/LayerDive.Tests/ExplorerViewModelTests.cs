using LayerDive.Core.Analysis;
using LayerDive.Core.Loading;
using LayerDive.Samples;
using LayerDive.Ui.Explorer;

namespace LayerDive.Tests;

/// <summary>
/// The explorer's view-model driven with no terminal at all: commands in, state out (the layer, the
/// focus, the rows and their kinds, the toggles, the prompt, the message, the viewer). Expectations
/// come from the image the test builds.
/// </summary>
public sealed class ExplorerViewModelTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ImageLoad _load;
    private readonly ExplorerViewModel _vm;

    public ExplorerViewModelTests()
    {
        var path = _dir.File("vm.oci.tar");
        new ImageBuilder()
            .Layer("ADD rootfs", l => l.Dir("etc").Dir("app").File("etc/motd", "hello\n").File("app/a.txt", "a1\n").File("app/b.txt", "b\n"))
            .Layer("RUN edit a; rm b; add c", l => l.Dir("app").File("app/a.txt", "a2\n").Whiteout("app/b.txt").File("app/c.txt", "c\n"))
            .WriteOciArchive(path);
        var dive = new DiveMetrics();
        _load = ImageLoader.Start(path, new LoadOptions { Observers = [dive] }, TestContext.Current.CancellationToken);
        _vm = new ExplorerViewModel(_load.Wait(), dive.Result());
        _vm.Viewer.ReadContent = (version, output, ct) => FileContent.Copy(_load, version, output, ct);
        _vm.Viewer.Folder = _dir.Path;
    }

    public void Dispose()
    {
        _vm.Dispose();
        _load.Dispose();
        _dir.Dispose();
    }

    private List<(string Path, RowStatus Status)> Rows() => [.. _vm.Tree.VisibleRows.Select(r => (r.Node.Path, r.Status))];

    /// <summary>Runs a command and lets a copy into the viewer end, as the window's ticker would.</summary>
    private void Run(UiCommand command)
    {
        _vm.Execute(command);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_vm.Viewer.IsCopying && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            _vm.Poll();
            Thread.Sleep(5);
        }
        Assert.False(_vm.Viewer.IsCopying, "a copy into the viewer did not end in 60 s");
    }

    private void SearchFor(string text)
    {
        Run(UiCommand.Search);
        _vm.PromptTyped(text);
        _vm.EndPrompt(accepted: true, text);
    }

    [Fact]
    public void Every_command_has_one_binding_and_runs_without_a_terminal()
    {
        foreach (var command in Enum.GetValues<UiCommand>())
        {
            Assert.Single(KeyMap.Defaults, b => b.Command == command);
            using var vm = new ExplorerViewModel(_vm.Model, null);
            vm.Execute(command);
            Assert.Equal(command, vm.LastCommand);
        }
    }

    [Fact]
    public void Layers_and_the_tree_follow_the_commands()
    {
        Assert.Equal((0, Pane.Layers, InputMode.Normal), (_vm.Layer, _vm.KeyPane, _vm.Mode));
        Run(UiCommand.Down);
        Assert.Equal(1, _vm.Layer);
        Assert.Equal(1, _vm.Tree.Rows.Layer);
        Run(UiCommand.Down); // there is no layer 2
        Assert.Equal(1, _vm.Layer);
        Run(UiCommand.Switch);
        Assert.Equal(Pane.Tree, _vm.KeyPane);
        // layer 1 modified a.txt, removed b.txt, added c.txt, left etc alone: hiding the unmodified leaves its changes
        Run(UiCommand.Unmodified);
        Assert.Equal([("app", RowStatus.Modified), ("app/a.txt", RowStatus.Modified), ("app/b.txt", RowStatus.Removed), ("app/c.txt", RowStatus.Added)], Rows());
        Run(UiCommand.Removed);
        Assert.DoesNotContain(("app/b.txt", RowStatus.Removed), Rows());
        Assert.Equal(new HashSet<RowStatus> { RowStatus.Unmodified, RowStatus.Removed }, _vm.Hidden);
        Run(UiCommand.Switch);
        Run(UiCommand.Up);
        Assert.Equal((0, Pane.Layers), (_vm.Layer, _vm.KeyPane));
    }

    [Fact]
    public void Toggles_say_whether_they_are_on_and_the_status_bar_highlights_them()
    {
        UiCommand[] toggles = [UiCommand.Added, UiCommand.Removed, UiCommand.Modified, UiCommand.Unmodified, UiCommand.Attributes, UiCommand.Sort, UiCommand.Wrap];
        // every kind of change shown and the attribute columns on, sorted by name, rows cut: dive's defaults
        bool[] initially = [true, true, true, true, true, false, false];
        Run(UiCommand.Switch);
        for (int i = 0; i < toggles.Length; i++)
        {
            var binding = _vm.Keys.Get(toggles[i]);
            StatusItem Item() => _vm.Status().Single(s => s.Text == $"{binding.First} {binding.Short}");
            Assert.Equal(initially[i], _vm.IsActive(toggles[i]));
            Assert.Equal(initially[i], Item().Active);
            Run(toggles[i]);
            Assert.Equal(!initially[i], _vm.IsActive(toggles[i]));
            Assert.Equal(!initially[i], Item().Active);
        }
        Assert.Equal((false, true, true, false), (_vm.Tree.ShowAttributes, _vm.Tree.Rows.SortBySize, _vm.Tree.Wrap, _vm.Hidden.Count == 0));
        // the layers pane's pair: this layer's changes, or layers 1..N over layer 0
        Run(UiCommand.Switch);
        Assert.Equal((true, false), (_vm.IsActive(UiCommand.LayerChanges), _vm.IsActive(UiCommand.Aggregated)));
        Run(UiCommand.Aggregated);
        Assert.Equal((false, true, true), (_vm.IsActive(UiCommand.LayerChanges), _vm.IsActive(UiCommand.Aggregated), _vm.Aggregate));
        // a command that is no toggle is never on
        Assert.All(Enum.GetValues<UiCommand>().Except([.. toggles, UiCommand.LayerChanges, UiCommand.Aggregated, UiCommand.ViewerDiff, UiCommand.ViewerHex]),
            c => Assert.False(_vm.IsActive(c), c.ToString()));
    }

    [Fact]
    public void The_prompt_filters_and_searches_and_a_message_lasts_until_the_next_command()
    {
        Run(UiCommand.Filter);
        Assert.Equal(InputMode.Filter, _vm.Mode);
        Assert.False(Assert.Single(_vm.Status()).Active); // the prompt's label, where the keys were
        _vm.PromptTyped("motd");
        Assert.Equal([("etc", RowStatus.Added), ("etc/motd", RowStatus.Added)], Rows());
        _vm.EndPrompt(accepted: false, "motd"); // Esc: the filter goes
        Assert.Equal((InputMode.Normal, Pane.Tree), (_vm.Mode, _vm.KeyPane));
        Assert.Equal(["app", "app/a.txt", "app/b.txt", "etc", "etc/motd"], Rows().Select(r => r.Path)); // all of layer 0 again
        SearchFor("b.txt");
        Assert.Equal("app/b.txt", _vm.Tree.Current!.Node.Path);
        Assert.Equal("b.txt", _vm.SearchText);
        Run(UiCommand.SearchNext); // the only match: found again
        Assert.Equal("app/b.txt", _vm.Tree.Current!.Node.Path);
        Assert.Null(_vm.Message);
        SearchFor("no-such-name");
        Run(UiCommand.SearchNext);
        Assert.Contains("no-such-name", _vm.Message);
        Assert.True(Assert.Single(_vm.Status()).Active);
        Run(UiCommand.Down);
        Assert.Null(_vm.Message);
    }

    [Fact]
    public void The_viewer_shows_a_file_from_its_layer_and_its_diff()
    {
        Run(UiCommand.Down);
        Run(UiCommand.Switch);
        SearchFor("a.txt");
        Run(UiCommand.View);
        Assert.Equal((InputMode.Viewer, Pane.Viewer), (_vm.Mode, _vm.KeyPane));
        Assert.Equal(["a2"], Lines());
        Run(UiCommand.ViewerDiff);
        Assert.True(_vm.IsActive(UiCommand.ViewerDiff));
        Assert.Contains("-a1", Lines());
        Assert.Contains("+a2", Lines());
        Run(UiCommand.ViewerHex);
        Assert.Equal((true, false), (_vm.IsActive(UiCommand.ViewerHex), _vm.IsActive(UiCommand.ViewerDiff)));
        Assert.StartsWith("00000000  61 32 0a", Assert.Single(Lines())); // "a2\n"
        Run(UiCommand.ViewerClose);
        Assert.Equal((InputMode.Normal, Pane.Tree), (_vm.Mode, _vm.KeyPane));
        bool quit = false;
        _vm.QuitRequested += () => quit = true;
        Run(UiCommand.Quit);
        Assert.True(quit);
    }

    private List<string> Lines()
    {
        var lines = new List<string>();
        for (int i = 0; _vm.Viewer.Pager.Content.Line(i) is { } line; i++) lines.Add(line);
        return lines;
    }
}
