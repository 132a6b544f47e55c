using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;

namespace LayerDive.Tests;

/// <summary>
/// The merge takes a layer's entries as the tar streams them, yet the spec's result does not depend on
/// where a layer's whiteouts and opaque markers stand: they hide only what the layers below left. Random
/// layers over a small namespace (so paths collide, nest, change type and come back) are merged with
/// their markers first (whiteouts, then opaque markers: the order the spec's reading implies), last, and
/// as generated; every path's whole history and every whiteout's figures must come out the same.
/// </summary>
public sealed class MergeOrderTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void The_merged_tree_does_not_depend_on_where_markers_stand_in_the_tar(int seed)
    {
        var random = new Random(seed);
        for (int image = 0; image < 200; image++)
        {
            var layers = Enumerable.Range(0, 4).Select(i => RandomLayer(random, i)).ToList();
            string reference = Describe(Merge(layers, MarkersFirst));
            string input = string.Join("\n", layers.Select((l, i) => $"layer {i}: " + string.Join(", ", l.Select(Show))));
            Assert.Equal(reference + "\n" + input, Describe(Merge(layers, l => l)) + "\n" + input);
            Assert.Equal(reference + "\n" + input, Describe(Merge(layers, MarkersLast)) + "\n" + input);
        }
    }

    [Fact]
    public void A_whiteout_after_the_layer_wrote_under_the_directory_keeps_what_the_layer_wrote()
    {
        var lower = new List<RawEntry> { Dir("d"), File("d/old", 1), File("d/kept", 2) };
        var upper = new List<RawEntry> { File("d/new", 3), Whiteout("d") };
        var root = Merge([lower, upper], l => l).Root;
        var d = root.Child("d")!.Value;
        Assert.True(d.IsVisibleAt(1));
        Assert.True(d.StateAt(1)!.Value.Attributes.Implicit);
        Assert.Equal(RemovalCause.AncestorWhiteout, d.Child("old")!.Value.RecordIn(1)!.Value.Cause);
        Assert.False(d.Child("kept")!.Value.IsVisibleAt(1));
        Assert.Equal(ChangeKind.Added, d.Child("new")!.Value.RecordIn(1)!.Value.Kind);
    }

    [Fact]
    public void Paths_are_built_and_compared_from_the_names_as_their_strings_are()
    {
        // names that are prefixes of one another, sort around '/' ('-' below it, 'b' above), wide and
        // beyond the narrow range, and long: every pair of nodes, against the strings themselves
        string[] names = ["a", "ab", "a-b", "a.b", "b", "\u00e9", "\u0416", "\U0001F600", new string('x', 300), "a\u00e9"];
        var random = new Random(26);
        var entries = new List<RawEntry>();
        for (int i = 0; i < 300; i++)
        {
            var path = string.Join('/', Enumerable.Range(0, random.Next(1, 5)).Select(_ => names[random.Next(names.Length)]));
            entries.Add(File(path, i));
        }
        var root = Merge([entries.Where(e => !entries.Any(o => o.Path.StartsWith(e.Path + "/", StringComparison.Ordinal))).ToList()], l => l).Root;
        var nodes = new List<TreeNode>();
        var stack = new Stack<TreeNode>([root]);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            nodes.Add(node);
            foreach (var c in node.AllChildren) stack.Push(c);
        }
        static string Joined(TreeNode n)
        {
            var names = new List<string>();
            for (var at = n; at.Parent is { } parent; at = parent) names.Insert(0, at.Name);
            return string.Join('/', names);
        }
        Assert.True(nodes.Count > 100, $"{nodes.Count} nodes");
        foreach (var x in nodes)
        {
            Assert.Equal(Joined(x), x.Path);
            foreach (var y in nodes)
                Assert.Equal(Math.Sign(string.CompareOrdinal(Joined(x), Joined(y))), Math.Sign(root.Tree.ComparePathsOrdinal(x.Number, y.Number)));
        }
    }

    private static string Show(RawEntry e) => e.Kind switch
    {
        RawKind.Whiteout => "wh " + e.Path,
        RawKind.Opaque => "opq " + e.Path,
        _ => e.HardlinkTarget is not null ? $"link {e.Path}->{e.HardlinkTarget}" : $"{e.Attributes!.Value.Type} {e.Path} {e.Attributes.Value.ContentHash}",
    };

    private static List<RawEntry> MarkersFirst(List<RawEntry> l) =>
        [.. l.Where(e => e.Kind == RawKind.Whiteout), .. l.Where(e => e.Kind == RawKind.Opaque), .. l.Where(e => e.Kind == RawKind.Entry)];

    private static List<RawEntry> MarkersLast(List<RawEntry> l) =>
        [.. l.Where(e => e.Kind == RawKind.Entry), .. l.Where(e => e.Kind == RawKind.Whiteout), .. l.Where(e => e.Kind == RawKind.Opaque)];

    private static (TreeNode Root, List<LayerInfo> Layers) Merge(List<List<RawEntry>> layers, Func<List<RawEntry>, List<RawEntry>> order)
    {
        var merger = new OverlayMerger();
        var infos = new List<LayerInfo>();
        for (int i = 0; i < layers.Count; i++)
        {
            var info = new LayerInfo { Index = i };
            merger.BeginLayer(info);
            foreach (var e in order(layers[i])) merger.Add(e);
            merger.EndLayer([]);
            infos.Add(info);
        }
        merger.Complete();
        return (merger.Root, infos);
    }

    /// <summary>Every node's history (type, mode, content, kind, cause per layer), every layer's counts and whiteout figures.</summary>
    private static string Describe((TreeNode Root, List<LayerInfo> Layers) merged)
    {
        var lines = new List<string>();
        var stack = new Stack<TreeNode>();
        stack.Push(merged.Root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            foreach (var r in node.History)
                lines.Add($"{node.Path} @{r.Layer} {r.Kind} {r.Cause} {r.Attributes.Type} {r.Attributes.Mode} {r.Attributes.ContentHash} {r.Attributes.Implicit} {r.Changed}");
            foreach (var c in node.AllChildren) stack.Push(c);
        }
        lines.Sort(StringComparer.Ordinal);
        foreach (var l in merged.Layers)
        {
            lines.Add($"layer {l.Index}: +{l.Added} ~{l.Modified} ={l.Unmodified} -{l.Removed}");
            lines.AddRange(l.Whiteouts.Select(w => $"  {w}").Order(StringComparer.Ordinal));
        }
        return string.Join('\n', lines);
    }

    private static List<RawEntry> RandomLayer(Random random, int index)
    {
        var entries = new List<RawEntry>();
        int count = random.Next(1, 9);
        for (int i = 0; i < count; i++)
        {
            string path = RandomPath(random);
            switch (random.Next(8))
            {
                case 0 or 1: entries.Add(Dir(path, mode: random.Next(2) == 0 ? 0x1ED : 0x1C0)); break;
                case 2 or 3: entries.Add(File(path, random.Next(3))); break;
                case 4: entries.Add(Whiteout(path)); break;
                case 5: entries.Add(new RawEntry(RawKind.Opaque, path, null, MarkerPath: path + "/.wh..wh..opq")); break;
                case 6: entries.Add(new RawEntry(RawKind.Entry, path, new EntryAttributes { Type = FileType.Symlink, Mode = 0x1FF, Uid = 0, Gid = 0, LinkTarget = "x" })); break;
                default:
                    entries.Add(new RawEntry(RawKind.Entry, path, new EntryAttributes { Type = FileType.File, Mode = 0x1A4, Uid = 0, Gid = 0 }, HardlinkTarget: RandomPath(random)));
                    break;
            }
        }
        return entries;
    }

    private static string RandomPath(Random random) =>
        string.Join('/', Enumerable.Range(0, random.Next(1, 4)).Select(_ => Names[random.Next(Names.Length)]));

    private static RawEntry Dir(string path, int mode = 0x1ED) =>
        new(RawKind.Entry, path, new EntryAttributes { Type = FileType.Directory, Mode = mode, Uid = 0, Gid = 0 });

    private static RawEntry File(string path, int content) =>
        new(RawKind.Entry, path, new EntryAttributes { Type = FileType.File, Mode = 0x1A4, Uid = 0, Gid = 0, Size = 1, ContentHash = (UInt128)content, Inode = content });

    private static RawEntry Whiteout(string path) =>
        new(RawKind.Whiteout, path, null, MarkerPath: MarkerOf(path));

    /// <summary>The <c>.wh.NAME</c> marker that hides <paramref name="path"/>.</summary>
    private static string MarkerOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..];
    }
}
