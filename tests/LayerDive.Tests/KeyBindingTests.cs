using LayerDive.Ui.Explorer;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>The key table as the user meets it: every binding, pressed in the real window, runs its command and changes the screen.</summary>
public sealed class KeyBindingTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _image;

    public KeyBindingTests()
    {
        _image = Path.Combine(_dir.Path, "viewer.oci.tar");
        ViewerTests.Image().WriteOciArchive(_image);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Every binding of the table, pressed where it works (its pane, its mode): the table dispatches it
    /// (the window names the action it ran) and the user sees something change (the screen's text, the mode, the row the cursor is on).
    /// </summary>
    [Fact]
    public void Every_binding_runs_its_action()
    {
        void Tree(UiHarness ui) => ui.Press(Key.Tab);
        void At(UiHarness ui, int layer, string path) { ui.Press(Enumerable.Repeat(Key.CursorDown, layer).ToArray()); ui.Press(Key.Tab); ui.Type("/" + path); ui.Press(Key.Enter); }
        void Viewer(UiHarness ui) { At(ui, 1, "usr/share/notes.txt"); ui.Press(Key.Enter); }
        var setups = new Dictionary<UiCommand, Action<UiHarness>>
        {
            [UiCommand.CloseFilter] = ui => { ui.Press(Key.F.WithCtrl); ui.Type("notes"); },
            [UiCommand.LayerChanges] = ui => ui.Press(Key.A.WithCtrl),
            [UiCommand.Up] = ui => ui.Press(Key.CursorDown),
            [UiCommand.PageUp] = ui => ui.Press(Key.CursorDown, Key.CursorDown),
            [UiCommand.Parent] = Tree,
            [UiCommand.Expand] = ui => ui.Press(Key.Tab, Key.Space),
            [UiCommand.View] = ui => At(ui, 1, "usr/share/notes.txt"),
            [UiCommand.Explain] = ui => At(ui, 1, "usr/share/notes.txt"),
            [UiCommand.Waste] = ui => At(ui, 1, "usr/share/notes.txt"),
            [UiCommand.Extract] = Tree,
            [UiCommand.SearchNext] = ui => { Tree(ui); ui.Type("/o"); ui.Press(Key.Enter); },
            [UiCommand.SearchPrevious] = ui => { Tree(ui); ui.Type("/o"); ui.Press(Key.Enter); },
            [UiCommand.ViewerTop] = ui => { Viewer(ui); ui.Press(Key.PageDown); },
            // layer 1 removes, modifies and leaves paths unmodified: each toggle hides rows there
            [UiCommand.Removed] = ui => ui.Press(Key.CursorDown, Key.Tab),
            [UiCommand.Modified] = ui => ui.Press(Key.CursorDown, Key.Tab),
            [UiCommand.Unmodified] = ui => ui.Press(Key.CursorDown, Key.Tab),
        };
        foreach (var b in KeyMap.Default.All)
        {
            using var ui = new UiHarness(_image, width: b.Command == UiCommand.Wrap ? 40 : 120, height: 24, extract: true); // rows wrap in a narrow pane
            if (setups.TryGetValue(b.Command, out var setup)) setup(ui);
            else if ((b.Pane & Pane.Layers) != 0) { }
            else if ((b.Pane & Pane.Tree) != 0) Tree(ui);
            else Viewer(ui);
            var before = (ui.Screen, ui.ViewModel.Mode, ui.ViewModel.HelpVisible, ui.Window.Tree.Current?.Node.Path, ui.Pager.Match);
            var last = ui.ViewModel.LastCommand;
            ui.Press(b.Keys[0]);
            // the prompt's close key is the prompt's own, not the table's dispatch
            if (b.Command != UiCommand.CloseFilter) Assert.True(b.Command == ui.ViewModel.LastCommand, $"{b.Command} ({b.Shown}): ran {ui.ViewModel.LastCommand?.ToString() ?? "nothing"}");
            else Assert.Equal(last, ui.ViewModel.LastCommand);
            if (b.Command == UiCommand.Quit) continue; // the loop is asked to stop: nothing is drawn again
            Assert.True(before != (ui.Screen, ui.ViewModel.Mode, ui.ViewModel.HelpVisible, ui.Window.Tree.Current?.Node.Path, ui.Pager.Match), $"{b.Command} ({b.Shown}): nothing changed on the screen");
        }
    }

    /// <summary>
    /// The README's two key tables ("rebindable") list the keys the table binds by default, and no other:
    /// a key the explorer does not bind from its table (a fixed one, as Ctrl+Z) has no place there.
    /// </summary>
    [Fact]
    public void The_README_key_tables_list_exactly_the_bound_keys()
    {
        var readme = File.ReadAllLines(Path.Combine(Paths.RepoRoot, "README.md"));
        var listed = new SortedSet<string>(StringComparer.Ordinal);
        bool inTable = false;
        foreach (var line in readme)
        {
            if (line.StartsWith("| keys (", StringComparison.Ordinal) && line.Contains("rebindable", StringComparison.Ordinal)) { inTable = true; continue; }
            if (!inTable) continue;
            if (!line.StartsWith('|')) { inTable = false; continue; }
            var first = line.Split('|')[1];
            // `Up`/`k`, `Ctrl+A` `Ctrl+R`: every spelling in backticks in the first column
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(first, "`([^`]+)`"))
                listed.Add(KeySpelling.Display(KeySpelling.Parse(m.Groups[1].Value)));
        }
        var bound = new SortedSet<string>(KeyMap.Defaults.SelectMany(b => b.Keys).Select(KeySpelling.Display), StringComparer.Ordinal);
        Assert.True(listed.Count > 20, $"only {listed.Count} keys read from the README's tables");
        Assert.True(listed.SetEquals(bound), $"in the README, not bound: {string.Join(' ', listed.Except(bound))}; bound, not in the README: {string.Join(' ', bound.Except(listed))}");
    }
}
