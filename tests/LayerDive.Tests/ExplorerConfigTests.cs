using LayerDive.Cli;
using LayerDive.Ui.Explorer;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>
/// dive's configuration in the explorer (docs/cli.md, Configuration): the files and their order,
/// DIVE_* and LAYERDIVE_* variables, every keybinding spelt as dive spells it, a bad value as one line;
/// and the key table the explorer dispatches from, the status bar and help read, and the config rebinds.
/// </summary>
public sealed class ExplorerConfigTests
{
    /// <summary>A working directory and a home of the test's own (the user's ~/.dive.yaml never leaks in).</summary>
    private sealed class Place : IDisposable
    {
        private readonly TempDir _dir = new();
        public string Work => Directory.CreateDirectory(Path.Combine(_dir.Path, "work")).FullName;
        public string Home => Directory.CreateDirectory(Path.Combine(_dir.Path, "home")).FullName;
        public string Root => _dir.Path;
        public Dictionary<string, string> Env { get; } = [];

        public string Write(string relative, string yaml)
        {
            var path = Path.Combine(_dir.Path, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, yaml);
            return path;
        }

        public CliContext Context(bool terminal = false, StringWriter? error = null)
        {
            var env = new Dictionary<string, string>(Env) { ["HOME"] = Home };
            return new CliContext(TextWriter.Null, error ?? new StringWriter(), n => env.TryGetValue(n, out var v) ? v : null, Work, terminal);
        }

        public ExplorerSettings Load(string? config = null, string? theme = null)
        {
            var context = Context();
            return ExplorerSettings.Load(config, context.GetEnvironment, context.WorkingDirectory, theme);
        }

        public void Dispose() => _dir.Dispose();
    }

    [Fact]
    public void A_dive_yaml_in_the_working_directory_hides_the_attributes_and_rebinds_keys()
    {
        using var place = new Place();
        place.Write("work/.dive.yaml", """
            filetree:
              show-attributes: false
            keybinding:
              quit: x
              toggle-added-files: ctrl+t
            """);
        using var ui = new UiHarness(Paths.Sample, settings: place.Load());
        ui.Press(Key.Tab);
        Assert.DoesNotContain("Permission", ui.Screen); // the attribute columns are hidden from the start
        Assert.Contains("Filetree", ui.Screen);
        // the status bar shows the key bound, not dive's default
        Assert.Contains("^T Added", ui.Lines[^1]);
        Assert.DoesNotContain("^A Added", ui.Lines[^1]);
        Assert.Contains("os-release", ui.Screen);
        ui.Press(Key.T.WithCtrl); // layer 0 adds everything: hiding the added hides it all
        Assert.Equal(UiCommand.Added, ui.ViewModel.LastCommand);
        Assert.DoesNotContain("os-release", ui.Screen);
        ui.Press(Key.A.WithCtrl); // no longer bound in the tree
        Assert.Equal(UiCommand.Added, ui.ViewModel.LastCommand);
        Assert.DoesNotContain("os-release", ui.Screen);
        ui.Press(Key.Q); // q is no longer quit
        Assert.Equal(UiCommand.Added, ui.ViewModel.LastCommand);
        ui.Press(new Key('?'));
        Assert.Matches(@"\^T\s+show/hide added", ui.Screen); // the help lists what is bound
        Assert.Matches(@"x\s+quit", ui.Screen);
        ui.Press(Key.Esc);
        ui.Press(Key.X);
        Assert.Equal(UiCommand.Quit, ui.ViewModel.LastCommand);
    }

    [Fact]
    public void DIVE_and_LAYERDIVE_variables_override_the_files()
    {
        using var place = new Place();
        place.Write("work/.dive.yaml", """
            keybinding:
              toggle-added-files: ctrl+t
            layer:
              show-aggregated-changes: true
            layerdive:
              theme: high-contrast
            """);
        place.Env["DIVE_KEYBINDING_TOGGLE_ADDED_FILES"] = "ctrl+g";
        place.Env["DIVE_LAYER_SHOW_AGGREGATED_CHANGES"] = "false";
        place.Env["LAYERDIVE_THEME"] = "light";
        var settings = place.Load();
        Assert.Equal([Key.G.WithCtrl], settings.Keys.Get(UiCommand.Added).Keys);
        Assert.False(settings.Aggregated);
        Assert.Equal("light", settings.Theme);
        // and a flag over both
        Assert.Equal("dark", place.Load(theme: "dark").Theme);
        using var ui = new UiHarness(Paths.Sample, settings: settings);
        ui.Press(Key.Tab);
        Assert.Contains("^G Added", ui.Lines[^1]);
    }

    [Fact]
    public void The_files_are_merged_in_their_order_of_precedence()
    {
        using var place = new Place();
        var explicitFile = place.Write("elsewhere/mine.yaml", "keybinding:\n  quit: z\nlayerdive:\n  theme: high-contrast\n");
        var work = place.Write("work/.dive.yaml", "keybinding:\n  quit: x\n  toggle-view: ctrl+w\nfiletree:\n  collapse-dir: true\n");
        var workDir = place.Write("work/.dive/config.yaml", "keybinding:\n  toggle-view: ctrl+v\n  filter-files: ctrl+k\n");
        var home = place.Write("home/.dive.yaml", "keybinding:\n  quit: y\n  filter-files: ctrl+j\nlayer:\n  show-aggregated-changes: yes\ndiff:\n  hide:\n    - unmodified\n    - removed\n");
        place.Env["XDG_CONFIG_HOME"] = Path.Combine(place.Root, "xdg");
        var xdg = place.Write("xdg/dive/config.yaml", "keybinding:\n  quit: w\nfiletree:\n  pane-width: 0.7\n  show-attributes: false\n");
        place.Env["XDG_CONFIG_DIRS"] = Path.Combine(place.Root, "sys1") + ":" + Path.Combine(place.Root, "sys2");
        var sys2 = place.Write("sys2/dive/config.yaml", "keybinding:\n  quit: v\n  extract-file: ctrl+x\nfiletree:\n  show-attributes: true\n");

        var s = place.Load(explicitFile);
        Assert.Equal([explicitFile, work, workDir, home, xdg, sys2], s.Files);
        Assert.Equal([Key.Z], s.Keys.Get(UiCommand.Quit).Keys); // --config first
        Assert.Equal("high-contrast", s.Theme);
        Assert.Equal([Key.W.WithCtrl], s.Keys.Get(UiCommand.Switch).Keys); // ./.dive.yaml before ./.dive/config.yaml
        Assert.Equal([Key.K.WithCtrl], s.Keys.Get(UiCommand.Filter).Keys); // ./.dive/config.yaml before ~/.dive.yaml
        Assert.True(s.CollapseDirectories);
        Assert.True(s.Aggregated);
        Assert.Equal(new HashSet<RowStatus> { RowStatus.Unmodified, RowStatus.Removed }, s.Hide);
        Assert.Equal(0.7, s.PaneWidth);
        Assert.False(s.ShowAttributes); // $XDG_CONFIG_HOME before $XDG_CONFIG_DIRS
        Assert.Equal([Key.X.WithCtrl], s.Keys.Get(UiCommand.Extract).Keys); // set by the last file only
        Assert.Equal(KeyMap.Default.Get(UiCommand.Help).Keys, s.Keys.Get(UiCommand.Help).Keys); // set by none

        // without --config the working directory's file wins
        Assert.Equal([Key.X], place.Load().Keys.Get(UiCommand.Quit).Keys);
    }

    [Fact]
    public void The_settings_shape_the_explorer_from_the_start()
    {
        using var place = new Place();
        place.Write("work/.dive.yaml", """
            filetree:
              collapse-dir: true
              pane-width: 0.75
            layer:
              show-aggregated-changes: true
            diff:
              hide: [added]
            """);
        using var ui = new UiHarness(Paths.Sample, settings: place.Load());
        Assert.Contains("Aggregated Layer Contents", ui.Screen);
        Assert.Contains("⊕ bin", ui.Screen); // collapsed
        ui.Press(Key.Tab);
        Assert.Contains(RowStatus.Added, ui.Window.Tree.Rows.Hidden);
        Assert.DoesNotContain(ui.Window.Tree.VisibleRows, r => r.Status == RowStatus.Added);
        // the tree pane takes three quarters of the 120 columns: the layers frame ends at column 30
        Assert.Equal(30, ui.Lines[0].IndexOf('╮') + 1);
    }

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "keybinding:\n  quit: ctrl+banana\n", "keybinding.quit", "ctrl+banana" },
        { "keybinding:\n  quit: \"\"\n", "keybinding.quit", "" },
        { "keybinding:\n  toggle-view: hyper+q\n", "keybinding.toggle-view", "hyper+q" },
        { "filetree:\n  show-attributes: maybe\n", "filetree.show-attributes", "maybe" },
        { "filetree:\n  pane-width: 1.5\n", "filetree.pane-width", "1.5" },
        { "diff:\n  hide: [added, sideways]\n", "diff.hide", "added,sideways" },
        { "layer:\n  show-aggregated-changes: 2\n", "layer.show-aggregated-changes", "2" },
        { "layerdive:\n  theme: neon\n", "layerdive.theme", "neon" },
        { "layerdive:\n  language: fr\n", "layerdive.language", "fr" },
        { "layerdive:\n  viewer-limit: lots\n", "layerdive.viewer-limit", "lots" },
        { "layerdive:\n  viewer-limit: 0\n", "layerdive.viewer-limit", "0" },
    };

    [Fact]
    public void The_viewer_limit_is_a_size_from_the_files_or_LAYERDIVE_VIEWER_LIMIT()
    {
        using var place = new Place();
        Assert.Equal(256L << 20, place.Load().ViewerLimit); // the default: 256 MiB
        place.Write("work/.dive.yaml", "layerdive:\n  viewer-limit: 64MiB\n");
        Assert.Equal(64L << 20, place.Load().ViewerLimit);
        place.Env["LAYERDIVE_VIEWER_LIMIT"] = "1GB"; // go-humanize: 10^9
        Assert.Equal(1_000_000_000, place.Load().ViewerLimit);
        place.Env["LAYERDIVE_VIEWER_LIMIT"] = "5000";
        Assert.Equal(5000, place.Load().ViewerLimit);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_is_one_line_naming_the_file_the_key_and_the_value(string yaml, string key, string value)
    {
        using var place = new Place();
        var file = place.Write("work/.dive.yaml", yaml);
        var error = new StringWriter();
        int code = CommandLine.Run([Paths.Sample], place.Context(terminal: true, error));
        Assert.Equal(2, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("layerdive: error: ", line);
        Assert.Contains(file, line);
        Assert.Contains($": {key}: '{value}' ", line);
    }

    [Fact]
    public void A_bad_variable_names_the_variable_and_bad_YAML_names_the_file()
    {
        using var place = new Place();
        place.Env["DIVE_KEYBINDING_QUIT"] = "ctrl+";
        var error = new StringWriter();
        Assert.Equal(2, CommandLine.Run([Paths.Sample], place.Context(terminal: true, error)));
        Assert.Contains("DIVE_KEYBINDING_QUIT: keybinding.quit: 'ctrl+' ", Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        place.Env.Clear();
        var file = place.Write("work/.dive.yaml", "keybinding: [unclosed\n");
        error = new StringWriter();
        Assert.Equal(2, CommandLine.Run([Paths.Sample], place.Context(terminal: true, error)));
        Assert.Contains($"{file}: not valid YAML", Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        error = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["--config", "missing.yaml", Paths.Sample], place.Context(terminal: true, error)));
        Assert.Contains("missing.yaml: the configuration file does not exist", error.ToString());
    }

    [Theory]
    [InlineData("ctrl+c", "^C")]
    [InlineData("ctrl+slash", "^/")]
    [InlineData("CTRL+A", "^A")]
    [InlineData("q", "q")]
    [InlineData("N", "N")]
    [InlineData("shift+n", "N")]
    [InlineData("pgup", "PgUp")]
    [InlineData("pgdn", "PgDn")]
    [InlineData("space", "Space")]
    [InlineData("ctrl+space", "^Space")]
    [InlineData("esc", "Esc")]
    [InlineData("tab", "Tab")]
    [InlineData("shift+tab", "Shift+Tab")]
    [InlineData("enter", "Enter")]
    [InlineData("up", "Up")]
    [InlineData("f5", "F5")]
    [InlineData("alt+x", "M-x")]
    [InlineData("?", "?")]
    [InlineData("/", "/")]
    public void Keys_are_spelt_as_dive_spells_them(string spelling, string shown)
    {
        var key = Assert.Single(KeySpelling.ParseAll(spelling));
        Assert.Equal(shown, KeySpelling.Display(key));
    }

    [Fact]
    public void Key_lists_parse_as_dive_writes_them()
    {
        Assert.Equal([Key.F.WithCtrl, new Key('/').WithCtrl], KeySpelling.ParseAll("ctrl+f, ctrl+slash"));
        Assert.Equal([Key.PageUp, Key.U], KeySpelling.ParseAll("pgup,u"));
        Assert.Equal([Key.N.WithShift], KeySpelling.ParseAll("shift+n"));
        Assert.Equal(KeySpelling.ParseAll("N"), KeySpelling.ParseAll("shift+n"));
        Assert.Equal([Key.Space.WithCtrl], KeySpelling.ParseAll("ctrl+space"));
        Assert.Empty(KeySpelling.ParseAll(""));
        Assert.Throws<FormatException>(() => KeySpelling.ParseAll("ctrl+banana"));
        Assert.Throws<FormatException>(() => KeySpelling.ParseAll("super+q"));
        // every default spelling parses, and dive's own defaults are dive's
        foreach (var b in KeyMap.Defaults) Assert.NotEmpty(b.Keys);
        Assert.Equal("ctrl+f, ctrl+slash", KeyMap.Defaults.Single(b => b.ConfigKey == "keybinding.filter-files").Spelling);
    }

    [Fact]
    public void Every_dive_keybinding_is_in_the_table()
    {
        // dive v0.13.1's keys (cmd/root.go: viper.SetDefault("keybinding.*"))
        string[] dive =
        [
            "quit", "toggle-view", "filter-files", "close-filter-files", "compare-all", "compare-layer",
            "toggle-collapse-dir", "toggle-collapse-all-dir", "toggle-sort-order", "toggle-filetree-attributes",
            "toggle-added-files", "toggle-removed-files", "toggle-modified-files", "toggle-unmodified-files",
            "toggle-wrap-tree", "extract-file", "page-up", "page-down", "up", "down", "left", "right",
        ];
        var ours = KeyMap.Defaults.Select(b => b.ConfigKey).ToHashSet();
        foreach (var k in dive) Assert.Contains("keybinding." + k, ours);
        Assert.Equal("DIVE_KEYBINDING_TOGGLE_ADDED_FILES", ExplorerSettings.Variable("keybinding.toggle-added-files"));
        Assert.Equal("LAYERDIVE_THEME", ExplorerSettings.Variable("layerdive.theme"));
        Assert.Equal("LAYERDIVE_KEYBINDING_VIEWER_DIFF", ExplorerSettings.Variable("layerdive.keybinding.viewer-diff"));
    }
}
