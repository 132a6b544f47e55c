using System.Text;
using System.Text.RegularExpressions;
using LayerDive.Samples;
using LayerDive.Tests.Support;
using LayerDive.Ui.Explorer;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>
/// The explorer's rows are virtual (made only for the rows on screen): what the screen shows for each key
/// (the next layer, the aggregated view, fold all, unfold all, a filter, pages down past the rows made at
/// once) is checked against rows worked out here from how the image is built, by the overlay rules
/// (a whiteout hides a path and all beneath it, an opaque directory hides every lower child) and dive's
/// statuses, never from the explorer's own output.
/// </summary>
public sealed class TreeRowsTests : IDisposable
{
    private readonly TempDir _dir = new();

    // a directory with more files than the rows made around the screen at once, so that paging lays out new windows
    private const int Big = 300;

    /// <summary>What each layer writes: files (path, content), directories, whiteouts and opaque directories.</summary>
    private static readonly List<(string Op, string Path, string Content)>[] Layers =
    [
        [
            ("dir", "a", ""), ("dir", "a/b", ""), ("dir", "a/b/c", ""), ("file", "a/b/c/f0", "zero"), ("file", "a/b/c/f1", "one!"),
            ("dir", "a/big", ""), .. Enumerable.Range(0, Big).Select(i => ("file", $"a/big/f{i:D3}", new string('x', 1 + i % 7))),
            ("dir", "x", ""), ("file", "x/old1", "old"), ("dir", "x/sub", ""), ("file", "x/sub/deep", "deeper"),
            ("dir", "z", ""), ("file", "z/z1", "z1"), ("file", "z/z2", "z2z2"),
        ],
        [
            ("whiteout", "a/b/c/f1", ""), ("file", "a/b/c/g", "gg"), ("file", "z/z1", "z1 changed"),
            ("opaque", "x", ""), ("file", "x/new", "new file"),
        ],
        [
            ("whiteout", "a/b", ""), ("dir", "a/n", ""), ("file", "a/n/m.txt", "m"), ("file", "a/big/f007", new string('x', 1 + 7 % 7)),
        ],
    ];

    private string Image()
    {
        var b = new ImageBuilder();
        for (int i = 0; i < Layers.Length; i++)
        {
            var ops = Layers[i];
            b.Layer($"layer {i}", l =>
            {
                foreach (var (op, path, content) in ops)
                    _ = op switch
                    {
                        "dir" => l.Dir(path),
                        "file" => l.File(path, content),
                        "whiteout" => l.Whiteout(path),
                        _ => l.Opaque(path),
                    };
            });
        }
        var file = _dir.File("rows.tar");
        b.WriteOciArchive(file);
        return file;
    }

    /// <summary>The merged tree after each layer: path to (directory, content), by the overlay rules.</summary>
    private static List<SortedDictionary<string, (bool Dir, string Content)>> Merged()
    {
        var states = new List<SortedDictionary<string, (bool, string)>>();
        var now = new SortedDictionary<string, (bool Dir, string Content)>(StringComparer.Ordinal);
        foreach (var ops in Layers)
        {
            now = new(now, StringComparer.Ordinal);
            foreach (var (op, path, _) in ops)
            {
                if (op == "whiteout") Remove(now, path, self: true);
                if (op == "opaque") Remove(now, path, self: false);
            }
            foreach (var (op, path, content) in ops)
                if (op is "dir" or "file") now[path] = (op == "dir", content);
            states.Add(now);
        }
        return states;

        static void Remove(SortedDictionary<string, (bool, string)> tree, string path, bool self)
        {
            foreach (var p in tree.Keys.Where(p => p.StartsWith(path + "/", StringComparison.Ordinal) || self && p == path).ToList()) tree.Remove(p);
        }
    }

    private static bool Wrote(int layer, string path) => Layers[layer].Any(o => o.Op is "dir" or "file" && o.Path == path);

    /// <summary>dive's status of each path shown after <paramref name="layer"/>: what that layer did, or (aggregated) layers 1..N against layer 0.</summary>
    private static Dictionary<string, RowStatus> Statuses(int layer, bool aggregate)
    {
        var merged = Merged();
        var now = merged[layer];
        var before = aggregate ? merged[0] : layer > 0 ? merged[layer - 1] : new SortedDictionary<string, (bool Dir, string Content)>();
        var s = new Dictionary<string, RowStatus>();
        foreach (var (path, entry) in now)
        {
            if (aggregate && layer == 0) s[path] = RowStatus.Unchanged;
            else if (!before.TryGetValue(path, out var was)) s[path] = RowStatus.Added;
            else if (!Enumerable.Range(aggregate ? 1 : layer, aggregate ? layer : 1).Any(l => Wrote(l, path))) s[path] = RowStatus.Unchanged;
            else s[path] = was == entry ? RowStatus.Unmodified : RowStatus.Modified;
        }
        if (layer > 0)
            foreach (var path in before.Keys.Where(p => !now.ContainsKey(p))) s[path] = RowStatus.Removed;
        // a directory with a change beneath shows Modified (as dive does)
        foreach (var path in s.Keys.ToList())
            if (s[path] is RowStatus.Unchanged or RowStatus.Unmodified && (now.TryGetValue(path, out var e) ? e.Dir : before[path].Dir)
                && s.Any(c => c.Key.StartsWith(path + "/", StringComparison.Ordinal) && c.Value != RowStatus.Unchanged))
                s[path] = RowStatus.Modified;
        return s;
    }

    private sealed record Expected(string Path, RowStatus Status, long Size, string Text);

    /// <summary>
    /// The rows: depth first, children by name, a filtered-out path kept when something beneath is; a folded
    /// directory's rows beneath left out; the tree glyphs from each ancestor's place among its shown siblings.
    /// </summary>
    private static List<Expected> Rows(int layer, bool aggregate = false, bool folded = false, Regex? filter = null, RowStatus? hide = null)
    {
        var merged = Merged();
        var status = Statuses(layer, aggregate);
        bool IsDir(string p) => merged[layer].TryGetValue(p, out var e) ? e.Dir : merged.Take(layer).Last(m => m.ContainsKey(p))[p].Dir;
        long Size(string p) => IsDir(p)
            ? status.Where(c => c.Key.StartsWith(p + "/", StringComparison.Ordinal) && c.Value != RowStatus.Removed && !IsDir(c.Key)).Sum(c => (long)Encoding.UTF8.GetByteCount(merged[layer][c.Key].Content))
            : status[p] == RowStatus.Removed ? Encoding.UTF8.GetByteCount(merged.Take(layer).Last(m => m.ContainsKey(p))[p].Content) : Encoding.UTF8.GetByteCount(merged[layer][p].Content);
        // hiding "unmodified" hides what the layer did not change too, leaving its changes (as dive does)
        bool Hidden(string p) => hide is { } h && (status[p] == h || h == RowStatus.Unmodified && status[p] == RowStatus.Unchanged);
        // a row is kept when its path matches and its kind is not hidden, or when a row beneath it is kept
        bool Kept(string p) => (filter is null || filter.IsMatch(p)) && !Hidden(p) || status.Keys.Any(c => c.StartsWith(p + "/", StringComparison.Ordinal) && !c[(p.Length + 1)..].Contains('/') && Kept(c));
        List<string> Children(string dir) => [.. status.Keys.Where(p => (dir.Length == 0 ? !p.Contains('/') : p.StartsWith(dir + "/", StringComparison.Ordinal) && !p[(dir.Length + 1)..].Contains('/')) && Kept(p)).Order(StringComparer.Ordinal)];
        var rows = new List<Expected>();
        void Add(string dir, string glyphs)
        {
            var kids = Children(dir);
            for (int i = 0; i < kids.Count; i++)
            {
                string p = kids[i];
                bool last = i == kids.Count - 1;
                bool hasKids = Layers.SelectMany(l => l).Any(o => o.Path.StartsWith(p + "/", StringComparison.Ordinal));
                string opaque = Layers[layer].Any(o => o.Op == "opaque" && o.Path == p) ? "  [opaque]" : "";
                rows.Add(new(p, status[p], Size(p), glyphs + (last ? "└── " : "├── ") + (folded && hasKids ? "⊕ " : "") + p.Split('/')[^1] + opaque));
                if (!folded) Add(p, glyphs + (last ? "    " : "│   "));
            }
        }
        Add("", "");
        return rows;
    }

    /// <summary>The tree pane's rows as the screen shows them (the text after the attribute columns), top to bottom.</summary>
    private static List<string> ScreenRows(UiHarness ui)
    {
        var lines = ui.Lines;
        int header = Array.FindIndex(lines, l => l.Contains(FileTreeView.AttributesHeader));
        int column = lines[header].IndexOf("Filetree", StringComparison.Ordinal);
        var rows = new List<string>();
        for (int i = header + 1; i < lines.Length; i++)
        {
            if (lines[i].Length <= column) break;
            string text = lines[i][column..];
            if (text.Contains('╯')) break; // the pane's bottom border
            // the pane's right border ends the line (the tree glyphs' "│" are followed by more)
            if (text.EndsWith('│')) text = text[..^1];
            text = text.TrimEnd();
            if (text.Length == 0) break;
            rows.Add(text);
        }
        return rows;
    }

    /// <summary>The screen shows a run of the expected rows, the cursor's among them, and every row (made one by one, from the end) is the expected one.</summary>
    private static void AssertRows(UiHarness ui, List<Expected> expected)
    {
        var tree = ui.Window.Tree;
        var rows = tree.VisibleRows;
        Assert.Equal(expected.Count, rows.Count);
        var screen = ScreenRows(ui);
        Assert.NotEmpty(screen);
        int top = expected.FindIndex(e => e.Text == screen[0]);
        Assert.True(top >= 0, $"the first row on screen, {screen[0]}, is not an expected row");
        Assert.Equal(expected.Skip(top).Take(screen.Count).Select(e => e.Text), screen);
        Assert.InRange(tree.Cursor, top, top + screen.Count - 1);
        Assert.Equal(expected[tree.Cursor].Path, tree.Current!.Node.Path);
        // from the end backwards: each row found by its index, across the windows of rows made at once
        for (int i = rows.Count - 1; i >= 0; i--)
        {
            var r = rows[i];
            Assert.Equal((expected[i].Path, expected[i].Status, expected[i].Size, expected[i].Text), (r.Node.Path, r.Status, r.Size, FileTreeView.RowText(r, attributes: false)));
        }
    }

    [Fact]
    public void The_rows_on_screen_for_each_key_are_the_tree_worked_out_from_the_layers()
    {
        using var ui = new UiHarness(Image());
        var tree = ui.Window.Tree;
        AssertRows(ui, Rows(0));
        Assert.Equal(Big + 13, tree.VisibleRows.Count); // a, a/b, a/b/c, 2 files, a/big and its files, x, x/old1, x/sub, x/sub/deep, z, 2 files

        ui.Press(Key.CursorDown); // the next layer: a whiteout, a file changed, an opaque directory
        AssertRows(ui, Rows(1));
        Assert.Contains(Rows(1), r => r.Text == "└── x  [opaque]" || r.Text == "├── x  [opaque]");

        ui.Press(Key.A.WithCtrl); // layers 1..N against layer 0
        AssertRows(ui, Rows(1, aggregate: true));
        ui.Press(Key.CursorDown); // and after layer 2, which whites out a directory
        AssertRows(ui, Rows(2, aggregate: true));
        ui.Press(Key.L.WithCtrl);
        AssertRows(ui, Rows(2));

        ui.Press(Key.Tab);
        for (int page = 0; page < 8; page++) // past the first rows made, and back
        {
            ui.Press(Key.PageDown);
            AssertRows(ui, Rows(2));
        }
        Assert.True(tree.Cursor > 256, $"the cursor went only to {tree.Cursor}");

        ui.Press(Key.Space.WithCtrl); // fold all: only the top directories
        AssertRows(ui, Rows(2, folded: true));
        Assert.Equal(3, tree.VisibleRows.Count);
        Assert.Equal("z", tree.Current!.Node.Path); // the cursor's row went under its folded directory: its index stays, clamped to the last row
        ui.Press(Key.Space.WithCtrl); // and unfold all
        AssertRows(ui, Rows(2));

        ui.Press(Key.F.WithCtrl).Type("f00"); // a filter: the matches and the directories that lead to them
        AssertRows(ui, Rows(2, filter: new Regex("f00")));
        Assert.Equal(1 + 1 + 10, tree.VisibleRows.Count); // a, a/big, f000..f009
        ui.Type("[37]$");
        AssertRows(ui, Rows(2, filter: new Regex("f00[37]$")));
        ui.Press(Key.Esc);
        AssertRows(ui, Rows(2));

        ui.Press(Key.U.WithCtrl); // hide what the layer did not change: its changes and the directories that lead to them
        AssertRows(ui, Rows(2, hide: RowStatus.Unmodified));
        ui.Press(Key.Tab, Key.CursorUp); // the previous layer, still hiding them
        AssertRows(ui, Rows(1, hide: RowStatus.Unmodified));
        ui.Press(Key.Tab, Key.A.WithCtrl); // hide the added ones as well
        var added = Rows(1, hide: RowStatus.Unmodified).Where(r => r.Status != RowStatus.Added).ToList();
        Assert.Equal(["a", "a/b", "a/b/c", "a/b/c/f1", "x", "x/old1", "x/sub", "x/sub/deep", "z", "z/z1"], added.Select(r => r.Path));
        Assert.Equal(added.Select(r => (r.Path, r.Status)), tree.VisibleRows.Select(r => (r.Node.Path, r.Status)));
    }

    [Fact]
    public void The_layer_pass_cut_in_slices_for_every_core_gives_the_rows_worked_out_from_the_layers()
    {
        // a million nodes are judged (and their names searched for a filter's texts) in slices of 65,536 on every
        // core at once; here slices of 7 cut this small tree in about fifty, children and parents in different slices
        using var load = LayerDive.Core.Loading.ImageLoader.Start(Image(), new LayerDive.Core.Loading.LoadOptions(), TestContext.Current.CancellationToken);
        var model = load.Wait();
        var rows = new TreeRows(model) { SliceNodes = 7 };
        foreach (bool aggregate in new[] { false, true })
            foreach (var hide in new RowStatus?[] { null, RowStatus.Unmodified })
                foreach (var filter in new[] { null, new Regex("f00|z1"), new Regex("b/c/f"), new Regex("x.sub") }) // within names, and across them
                    for (int layer = 0; layer < Layers.Length; layer++)
                    {
                        rows.Layer = layer;
                        rows.Aggregate = aggregate;
                        rows.Filter = filter;
                        rows.Hidden.Clear();
                        if (hide is { } h) rows.Hidden.Add(h);
                        rows.Layout();
                        var expected = Rows(layer, aggregate, filter: filter, hide: hide);
                        Assert.Equal(expected.Select(e => (e.Path, e.Status, e.Size)), rows.AllRows().Select(r => (r.Node.Path, r.Status, r.Size)));
                    }
    }

    [Fact]
    public void The_cursor_stays_on_its_path_when_the_rows_are_laid_out_again()
    {
        using var ui = new UiHarness(Image());
        var tree = ui.Window.Tree;
        ui.Press(Key.CursorDown, Key.Tab); // layer 1
        var expected = Rows(1);
        int target = expected.FindIndex(e => e.Path == "a/big/f280");
        tree.MoveTo(target);
        Assert.Equal("a/big/f280", tree.Current!.Node.Path);
        ui.Press(Key.Tab, Key.A.WithCtrl, Key.Tab); // the aggregated view lays the rows out again
        Assert.Equal("a/big/f280", tree.Current!.Node.Path);
        Assert.Equal(Rows(1, aggregate: true).FindIndex(e => e.Path == "a/big/f280"), tree.Cursor);
        ui.Press(Key.CursorLeft); // to the parent's row
        Assert.Equal("a/big", tree.Current!.Node.Path);
        ui.Press(Key.CursorLeft); // which folds
        Assert.Equal("a/big", tree.Current!.Node.Path);
        Assert.Equal(Rows(1, aggregate: true).Count - Big, tree.VisibleRows.Count);
        Assert.Contains("⊕ big", ui.Screen);
    }

    [Fact]
    public void A_filter_typed_at_once_is_matched_once_and_with_its_last_character()
    {
        using var ui = new UiHarness(Image());
        var tree = ui.Window.Tree;
        ui.Press(Key.CursorDown, Key.CursorDown, Key.Tab, Key.F.WithCtrl); // layer 2, the tree, the filter's prompt
        int passes = tree.Rows.FilterPasses;
        // keys that come at once: the loop handles them all, then lays out and draws
        ui.Press([.. "f007".Select(c => new Key(c))]);
        Assert.Equal(passes + 1, tree.Rows.FilterPasses); // one pass for the four characters
        AssertRows(ui, Rows(2, filter: new Regex("f007"))); // with the last one: a, a/big, a/big/f007
        Assert.Equal(3, tree.VisibleRows.Count);
        ui.RunPosted();
        Assert.Equal(passes + 1, tree.Rows.FilterPasses); // and nothing is matched again after

        // Enter typed with the text: the filter is the whole text, matched once
        ui.Press(Key.Backspace, new Key('8'), Key.Enter).RunPosted();
        Assert.Equal(passes + 2, tree.Rows.FilterPasses);
        AssertRows(ui, Rows(2, filter: new Regex("f008")));
        Assert.Equal(InputMode.Normal, ui.ViewModel.Mode);

        // Esc typed with more text: the filter goes, and the text typed is not applied after it
        ui.Press(Key.F.WithCtrl, new Key('9'), Key.Esc).RunPosted();
        AssertRows(ui, Rows(2));
        Assert.Null(tree.Rows.Filter);
    }

    /// <summary>Names of the generated trees: repeated names, dots, '.js' and 'json', non-ASCII, and names the tree shows escaped.</summary>
    private static readonly string[] FilterNames =
    [
        "a", "b", "ab", "ba", "A", "lib", "usr", "node_modules", "package.json", "package", "json", "index.js", "x.js", "js",
        "f007", "f0007", "é", "ж.txt", "日本語", "🙂.md", "back\\slash", "tab\there", "ctl\u001fgh", ".hidden", "a b", "s", "site-packages",
    ];

    /// <summary>A name as the tree shows it (and the filter reads it): a backslash and control characters as \xHH, as umoci's listings write them.</summary>
    private static string Shown(string name) =>
        string.Concat(name.Select(c => c < 0x20 || c == 0x7f || c == '\\' ? $"\\x{(int)c:x2}" : c.ToString()));

    private static readonly string[] FilterPatterns =
    [
        "", "a", "ab", "b/a", "a/", "/a", "^a", "^a/b", "a$", "b$", "^ab$", "^lib/", "js$", @"\.js$", "package.json", @"package\.json",
        @"^usr/.*\.js$", @"node_modules/.*\.js$", @"\bjs\b", @"\Bs", @"\Ajs", @"a\z", @"a\Z", "é", "ж", @"ж\.txt$", "日本", "🙂", "^🙂",
        @"\\x5c", "x09", @"\\", @"[^/]+$", "[/]", "^[^/]*$", "a.b", "a..b", "(?i)A", "A", "[A-Z]", "(a|b)$", "^(a|lib)/", "a|json",
        "(?<=/)a", "a(?=/)", "a(?!b)", @"(a)\1", @"\w+\.js", @"\d", @"\W", ".", "^", "$", "x*", "f0{2}7", "f0+7$", "f0{3,}7",
        @"\x2f", @"\u002f", @"\057", "[.-0]", @"\p{L}$", @"\P{L}", "s/i", "(?m)^a$", "(?s)a.b", "(?n)(a)b", "a{0,1}b", "(?:ab)+",
        @"[\w]", @"[^\W]", @"\S/", "[^a-z]", "[^/a]", @"[\/]", "(?x) a / b", "(?#a comment)ab", "(?>a)b", "(?>.*)(?<=a)", "(?>.*)(?<=b)", "(?>.*)(?<=c)", "(?<n>a)b", "(?-i:a)b$",
        "a{2}", "b+a", "a?b?$", "json$", ".json$", "a/b$", "s$", @"🙂\.md$", @"\.md\z", "日本語$", "ab+$", "(a|b)s$", "a|s$", @"e\x5cslash$", "^s$", "5cslash", "cslash$", "slash", "fgh", "1fgh$", "x1f", "gh", "9here", "x09h", @"^\w", @"\w$", "^.", ".$", "^a|b$", @"[\x2f]", "[^]]", "[]a]", "a]", "{", "a{", "a{1", "s{1,2}i",
    ];

    /// <summary>
    /// The filter reads names, not paths, where its pattern allows: on generated trees its rows are the rows the
    /// plain way keeps (the regex over each whole path as the tree shows it; a path kept when it matches or a
    /// path beneath it does), for plain texts and regexes, with '/', anchors, word boundaries, lookarounds,
    /// non-ASCII names and names shown escaped.
    /// </summary>
    [Fact]
    public void The_filter_keeps_the_rows_that_matching_each_whole_path_keeps()
    {
        var random = new Random(26);
        var patterns = new List<string>(FilterPatterns);
        string[] atoms =
        [
            "a", "b", "ab", "js", "json", "lib", "usr", "é", "ж", "日", "🙂", "/", ".", @"\.", @"\w", @"\d", @"\W", "[a-c]", "[^/]", "[^a]", "[./]",
            @"\/", "(a|b)", "(?:ab)", "x?", "a*", "b+", "s{1,2}", @"\b", @"\B", "(?=a)", "(?<=/)", "(?i)a", "[^/]*", ".*", @"\x5c", "^", "$", "0+", "f",
        ];
        while (patterns.Count < FilterPatterns.Length + 400)
        {
            var pattern = string.Concat(Enumerable.Range(0, random.Next(1, 5)).Select(_ => atoms[random.Next(atoms.Length)]));
            if (random.Next(5) == 0) pattern += "|" + atoms[random.Next(atoms.Length)];
            patterns.Add(pattern);
        }
        for (int t = 0; t < 3; t++)
        {
            // a tree of random depth and names: every prefix of a path a directory, the rest files
            var paths = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < 120; i++)
                paths.Add(string.Join('/', Enumerable.Range(0, random.Next(1, 7)).Select(_ => FilterNames[random.Next(FilterNames.Length)])));
            var dirs = new SortedSet<string>(paths.SelectMany(p => Enumerable.Range(1, p.Count(c => c == '/')).Select(n => string.Join('/', p.Split('/').Take(n)))), StringComparer.Ordinal);
            var files = paths.Where(p => !dirs.Contains(p)).ToList();
            var image = _dir.File($"filter{t}.tar");
            new ImageBuilder().Layer("tree", l =>
            {
                foreach (var d in dirs) l.Dir(d);
                foreach (var f in files) l.File(f, "x");
            }).WriteOciArchive(image);
            var all = dirs.Concat(files).ToList();
            using var load = Core.Loading.ImageLoader.Start(image, new Core.Loading.LoadOptions(), TestContext.Current.CancellationToken);
            var rows = new TreeRows(load.Wait()) { Layer = 0 };
            Assert.Equal(all.Count, rows.Build().Count);
            foreach (var pattern in patterns)
            {
                Regex regex;
                try { regex = new Regex(pattern, RegexOptions.CultureInvariant); }
                catch (ArgumentException) { continue; } // not a regex: the explorer keeps the last good one
                var matching = all.Where(p => regex.IsMatch(string.Join('/', p.Split('/').Select(Shown)))).ToList();
                var expected = all.Where(p => matching.Any(m => m == p || m.StartsWith(p + "/", StringComparison.Ordinal))).Order(StringComparer.Ordinal).ToList();
                rows.Filter = regex;
                var shown = rows.Build().Select(r => r.Node.Path).Order(StringComparer.Ordinal).ToList();
                Assert.True(expected.SequenceEqual(shown), $"filter '{pattern}': expected {expected.Count} rows, shown {shown.Count}: "
                    + string.Join(", ", expected.Except(shown).Take(3).Select(p => "missing " + p).Concat(shown.Except(expected).Take(3).Select(p => "extra " + p))));
            }
        }
    }

    /// <summary>What a pattern allows, read by hand from .NET's regex rules: the cases the faster ways rest on.</summary>
    [Theory]
    [InlineData("f00", "f00", true, false, true, "f00")]                       // a plain text without '/': within a name
    [InlineData("a/b", "a/b", false, false, true, "a,b")]                      // a plain text with '/': across names
    [InlineData("package.json", null, false, false, true, "package,json")]     // '.' may match the '/' between two names
    [InlineData(@"package\.json", "package.json", true, false, true, "package.json")]
    [InlineData(@"\.js$", null, true, true, false, ".js", ".js", true)]         // the end: the last name ends with it
    [InlineData(@"\w+\.js\z", null, true, true, false, ".js", ".js")]
    [InlineData(@"a+$", null, true, true, false, "a")]                        // 'a' once at least: no text the end is sure to follow
    [InlineData(@"a$|b", null, true, true, false, "")]                        // an alternation: no end for every match
    [InlineData(@"^usr/lib", null, false, true, true, "usr,lib")]
    [InlineData(@"node_modules/.*\.js$", null, false, true, false, "node_modules,.js", ".js")]
    [InlineData("[^/]+x", null, true, false, true, "x")]                       // a class without '/'
    [InlineData("[^a]x", null, false, false, true, "x")]                       // a class that holds '/'
    [InlineData("f0+7", null, true, false, true, "f0,7")]                      // '0' once at least, then the run ends
    [InlineData("f0*7|b", null, true, false, true, "")]                        // an alternation requires nothing
    [InlineData("a(?=b)", null, false, false, false, "a")]                     // a lookahead looks past the match
    [InlineData("(?i)abc", null, true, false, true, "")]                       // ignoring case: no text is required as written
    [InlineData("(?x)a b", null, false, false, false, "")]                     // ignoring whitespace: left to the plain way
    public void The_filter_is_read_for_what_its_pattern_allows(string pattern, string? literal, bool withinName, bool context, bool monotone, string required, string? suffix = null, bool suffixOnly = false)
    {
        var filter = PathFilter.Of(new Regex(pattern, RegexOptions.CultureInvariant));
        Assert.Equal((literal, withinName, context, monotone), (filter.Literal, filter.WithinName, filter.Context, filter.Monotone));
        Assert.Equal((suffix, suffixOnly, suffix is not null), (filter.Suffix, filter.SuffixOnly, filter.AtEnd && filter.Suffix is not null));
        Assert.Equal(required.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal), filter.Required.Order(StringComparer.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
