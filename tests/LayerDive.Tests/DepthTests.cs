using System.Text;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// Issue 13, item 4: depth costs linear time and memory. A path thousands of directories deep is
/// listed, explained and extracted (ls and ls --changes held every path at once: a 20,000-deep path
/// took 1.27 GB; extract checked every component of every path: 1,000 deep took ~56 s); memory
/// figures are in the benchmark, these check what the user sees.
/// </summary>
public sealed class DepthTests : IDisposable
{
    private const int Depth = 3000;
    private readonly TempDir _dir = new();

    private static string DeepPath(int depth) => string.Join('/', Enumerable.Repeat("d", depth)) + "/f";

    private string DeepImage()
    {
        var path = _dir.File("deep.tar");
        new ImageBuilder().Layer("deep", l => l.File(DeepPath(Depth), "deep\n")).WriteOciArchive(path);
        return path;
    }

    [Fact]
    public void Paths_sort_by_their_bytes_without_being_built()
    {
        // siblings whose names extend a directory's with a byte below '/' fall between it and its subtree
        string[] names = ["lib", "lib-x", "lib.so", "lib/a", "lib/a/b", "lib/a-b", "lib0", "a b", "a", "a/z", "Z", "_", "é", "é/x", "😀", "\uE000", "lib/a.c"];
        var image = new ImageBuilder().Layer("names", l =>
        {
            foreach (var n in names.Order(StringComparer.Ordinal))
                if (names.Any(o => o.StartsWith(n + "/", StringComparison.Ordinal))) l.Dir(n);
                else l.File(n, n);
        });
        var model = Reference.Load(image);
        var ranks = model.PathRanks();
        var byRank = model.AllNodes().Where(n => !n.IsRoot).OrderBy(n => ranks[n.Number]).Select(n => n.Path).ToList();
        var byBytes = names.OrderBy(n => Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        Assert.Equal(byBytes, byRank);
        Assert.Equal(byBytes, Changes.OfLayer(model, 0).Select(c => c.Path).ToList());
    }

    [Fact]
    public void A_path_thousands_deep_is_listed_whole()
    {
        var image = DeepImage();
        var ls = Tool.Run("ls", image, "--format", "tsv");
        Assert.True(ls.ExitCode == 0, ls.Stderr);
        var lines = ls.StdoutLines;
        Assert.Equal(1 + 1 + Depth + 1, lines.Length); // header, ".", the directories, the file
        Assert.StartsWith(DeepPath(Depth) + "\tfile\t", lines[^1]);
        Assert.StartsWith(string.Join('/', Enumerable.Repeat("d", Depth)) + "\tdir\t", lines[^2]);

        var changes = Tool.Run("ls", image, "--changes", "--layer", "0");
        Assert.True(changes.ExitCode == 0, changes.Stderr);
        Assert.Equal(Depth + 1, changes.StdoutLines.Count(l => l.StartsWith('A')));

        var explain = Tool.Run("explain", image, "/" + DeepPath(Depth));
        Assert.True(explain.ExitCode == 0, explain.Stderr);
        Assert.Equal("/" + DeepPath(Depth), explain.StdoutLines[0]);
        Assert.Contains(explain.StdoutLines, l => l.StartsWith("Visible since layer 0: -rw-r--r-- 0:0, 5 B", StringComparison.Ordinal));
    }

    [Fact]
    public void Extract_writes_what_the_file_system_can_hold_and_names_the_rest()
    {
        var image = DeepImage();
        var output = _dir.File("out");
        var r = Tool.Run("extract", image, "/", "--output", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // PATH_MAX is 4096 bytes with the closing NUL: "output/d/d/.../d" of k levels is len + 2k bytes
        int fits = (4095 - Encoding.UTF8.GetByteCount(output)) / 2;
        Assert.Equal($"extracted 0 files (0 B), {fits} directories, 0 symlinks to {output}", r.StdoutLines[0]);
        var note = Assert.Single(r.StderrLines);
        Assert.StartsWith("layerdive: note: skipped /d/d/", note);
        Assert.EndsWith($"(and the {Depth - fits} paths under it: longer than the file system's 4096-byte path limit)", note);
        var deepest = output + string.Concat(Enumerable.Repeat("/d", fits));
        Assert.True(Directory.Exists(deepest));
        Assert.Empty(Directory.GetFileSystemEntries(deepest));
    }

    /// <summary>The explorer laid its rows out by recursion: a 20,000-deep path overflowed the stack and killed it.</summary>
    [Fact]
    public void The_explorer_lays_out_and_filters_a_tree_deeper_than_any_call_stack()
    {
        const int depth = 20_000;
        var path = _dir.File("deeper.tar");
        new ImageBuilder().Layer("deep", l => l.File(DeepPath(depth), "deep\n")).WriteOciArchive(path);
        using var ui = new UiHarness(path);
        var tree = ui.Window.Tree;
        Assert.Equal(depth + 1, tree.VisibleRows.Count);
        Assert.Equal("f", tree.VisibleRows[^1].Node.Name);
        Assert.Equal(depth, tree.VisibleRows[^1].Depth);
        Assert.Contains("└── d", ui.Lines[2]);

        tree.Rows.Filter = new System.Text.RegularExpressions.Regex("/f$");
        tree.Rebuild();
        Assert.Equal(depth + 1, tree.VisibleRows.Count); // the file matches; its directories stay to lead to it
        tree.Rows.Filter = new System.Text.RegularExpressions.Regex("^d/x");
        tree.Rebuild();
        Assert.Empty(tree.VisibleRows);
    }

    public void Dispose() => _dir.Dispose();
}
