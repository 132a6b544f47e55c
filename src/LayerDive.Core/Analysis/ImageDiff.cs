using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>
/// One path that differs: <see cref="ChangeKind.Added"/> (in B only), <see cref="ChangeKind.Removed"/> (in A
/// only) or <see cref="ChangeKind.Modified"/> (in both, with other attributes or content), as a layer changes
/// the layers below it; its attributes in A (null when added) and in B (null when removed), and what changed.
/// </summary>
public readonly record struct PathDiff(string Path, ChangeKind Status, EntryAttributes? Old, EntryAttributes? New, AttributeChange Changed);

/// <summary>A layer both images hold (the same diff id); <see cref="SameChain"/> when every layer below it is the same too, so that an engine stores it once for both.</summary>
public sealed record SharedLayer(string DiffId, int IndexA, int IndexB, long Bytes, bool SameChain);

/// <summary>A directory whose files grew (or shrank) from A to B: the bytes of the visible files beneath it in each.</summary>
public sealed record DirectoryGrowth(string Path, long Before, long After)
{
    public long Growth => After - Before;
}

/// <summary>
/// Compares the final trees of two images (docs/cli.md): both trees walked together in the order of their
/// paths' UTF-8 bytes, each difference handed on as it is met, paths built from one buffer as the walk
/// goes (never from the root up), so that a comparison costs the size of the two trees.
/// </summary>
public static class ImageDiff
{
    private readonly record struct Item(string Key, TreeNode? A, TreeNode? B, bool Subtree);

    /// <summary>
    /// Walks both trees; calls <paramref name="onChange"/> for every path that differs, in path-byte order;
    /// returns the directories whose visible files grew or shrank most (<paramref name="growthCount"/> of each kind at most).
    /// A directory replaced by a file is modified, and what it held removed (and the other way round).
    /// </summary>
    public static IReadOnlyList<DirectoryGrowth> Compare(ImageModel a, ImageModel b, bool mtime, Action<PathDiff> onChange, int growthCount = 8)
    {
        int topA = a.TopLayer, topB = b.TopLayer;
        var path = new char[256];
        var growth = new List<DirectoryGrowth>();
        // a frame: a directory pair's items, the next one, the directory's path length in the buffer,
        // and the bytes of the visible files beneath it in A and in B
        var stack = new Stack<Frame>();
        stack.Push(new Frame(Items(a.Root, b.Root), 0));
        while (stack.Count > 0)
        {
            var f = stack.Peek();
            if (f.Next == f.Items.Length)
            {
                stack.Pop();
                if (stack.Count > 0)
                {
                    var parent = stack.Peek();
                    parent.Before += f.Before;
                    parent.After += f.After;
                    if (f.Before != f.After) Keep(growth, new string(path, 0, f.PathLength), f.Before, f.After, growthCount);
                }
                continue;
            }
            var item = f.Items[f.Next++];
            string name = item.Subtree ? item.Key[..^1] : item.Key;
            int at = f.PathLength == 0 ? 0 : f.PathLength + 1;
            int length = at + name.Length;
            if (length > path.Length) Array.Resize(ref path, Math.Max(length, path.Length * 2));
            if (f.PathLength > 0) path[f.PathLength] = '/';
            name.CopyTo(path.AsSpan(at));
            if (item.Subtree)
            {
                stack.Push(new Frame(Items(DirOf(item.A, topA), DirOf(item.B, topB)), length));
                continue;
            }
            var sa = Visible(item.A, topA);
            var sb = Visible(item.B, topB);
            if (sa is { } x && x.Type == FileType.File && x.HardlinkTarget is null) f.Before += x.Size;
            if (sb is { } y && y.Type == FileType.File && y.HardlinkTarget is null) f.After += y.Size;
            if (sa is null && sb is null) continue;
            if (sa is null) onChange(new PathDiff(new string(path, 0, length), ChangeKind.Added, null, sb, AttributeChange.None));
            else if (sb is null) onChange(new PathDiff(new string(path, 0, length), ChangeKind.Removed, sa, null, AttributeChange.None));
            else
            {
                var changed = sa.Value.Diff(sb.Value);
                if (!mtime) changed &= ~AttributeChange.MTime;
                if (changed != AttributeChange.None) onChange(new PathDiff(new string(path, 0, length), ChangeKind.Modified, sa, sb, changed));
            }
        }
        growth.Sort((x, y) => Math.Abs(y.Growth).CompareTo(Math.Abs(x.Growth)) is var c and not 0 ? c : PathText.CompareUtf8(x.Path, y.Path));
        return growth;

        Item[] Items(TreeNode? da, TreeNode? db)
        {
            var byName = new Dictionary<string, (TreeNode? A, TreeNode? B)>(StringComparer.Ordinal);
            if (da is { } a) foreach (var c in a.VisibleChildren(topA)) byName[c.Name] = (c, null);
            if (db is { } b) foreach (var c in b.VisibleChildren(topB)) byName[c.Name] = byName.TryGetValue(c.Name, out var p) ? (p.A, c) : (null, c);
            var items = new List<Item>(byName.Count * 2);
            foreach (var (key, (ca, cb)) in byName)
            {
                items.Add(new Item(key, ca, cb, false));
                if (DirOf(ca, topA) is { ChildCount: > 0 } || DirOf(cb, topB) is { ChildCount: > 0 }) items.Add(new Item(key + "/", ca, cb, true));
            }
            // full-path order: "lib", "lib-x", "lib.so", then "lib/..." (see ImageModel.PathRanks)
            items.Sort(static (x, y) => PathText.CompareUtf8(x.Key, y.Key));
            return [.. items];
        }
    }

    private sealed class Frame(Item[] items, int pathLength)
    {
        public readonly Item[] Items = items;
        public readonly int PathLength = pathLength;
        public int Next;
        public long Before, After;
    }

    private static EntryAttributes? Visible(TreeNode? n, int layer) => n?.StateAt(layer) is { IsPresent: true } s ? s.Attributes : null;

    private static TreeNode? DirOf(TreeNode? n, int layer) => Visible(n, layer) is { IsDirectory: true } ? n : null;

    private static void Keep(List<DirectoryGrowth> kept, string path, long before, long after, int count)
    {
        // the largest growths and the largest shrinkings, at most count of each
        var d = new DirectoryGrowth(path, before, after);
        kept.Add(d);
        if (kept.Count(k => Math.Sign(k.Growth) == Math.Sign(d.Growth)) > count)
        {
            var smallest = kept.Where(k => Math.Sign(k.Growth) == Math.Sign(d.Growth)).MinBy(k => Math.Abs(k.Growth))!;
            kept.Remove(smallest);
        }
    }

    /// <summary>
    /// The layers both images hold: the same diff id. Those whose whole chain below is the same too
    /// (the same base) an engine stores once for both; the same content in another chain, twice.
    /// </summary>
    public static IReadOnlyList<SharedLayer> SharedLayers(ImageModel a, ImageModel b)
    {
        var shared = new List<SharedLayer>();
        int prefix = 0;
        while (prefix < a.Layers.Count && prefix < b.Layers.Count && a.Layers[prefix].DiffId is { } d && d == b.Layers[prefix].DiffId) prefix++;
        var inB = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = b.Layers.Count - 1; i >= 0; i--)
            if (b.Layers[i].DiffId is { } d) inB[d] = i;
        for (int i = 0; i < a.Layers.Count; i++)
        {
            var l = a.Layers[i];
            if (i < prefix) shared.Add(new SharedLayer(l.DiffId!, i, i, l.Size, SameChain: true));
            else if (l.DiffId is { } d && inB.TryGetValue(d, out int j)) shared.Add(new SharedLayer(d, i, j, l.Size, SameChain: false));
        }
        return shared;
    }

    /// <summary>The regular files visible in the final tree (hardlinks counted once).</summary>
    public static int FileCount(ImageModel model)
    {
        int count = 0;
        foreach (var n in model.Walk(model.TopLayer))
            if (n.StateAt(model.TopLayer)!.Value.Attributes is { Type: FileType.File, HardlinkTarget: null }) count++;
        return count;
    }
}
