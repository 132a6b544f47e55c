namespace LayerDive.Core.Model;

/// <summary>
/// The analysed image: its layers, its config and history, and the one shared tree whose nodes carry
/// each path's per-layer history. Every front end (ls, CI, JSON, UI, explain) reads this.
/// </summary>
public sealed class ImageModel
{
    public required string Source { get; init; }
    public required string SourceKind { get; init; }
    /// <summary>How the source was found, for the user (which engine served a bare name), or null.</summary>
    public string? SourceNote { get; init; }

    /// <summary>Where an engine keeps the image (or container) on disk: its storage driver and the driver's folders; null for a file.</summary>
    internal EngineStorage? Storage { get; init; }
    /// <summary>The image's name: its tag or reference, or a short config digest when untagged.</summary>
    public required string Name { get; init; }
    public required ImageConfig Config { get; init; }
    public required IReadOnlyList<LayerInfo> Layers { get; init; }
    public required TreeNode Root { get; init; }
    public required IReadOnlyList<Problem> Problems { get; init; }
    /// <summary>Other images the archive or layout holds, which were not selected.</summary>
    public IReadOnlyList<string> OtherImages { get; init; } = [];

    private int _layersMerged;

    /// <summary>
    /// Held by the load while it writes the tree, the layers' figures and the problems (see
    /// <see cref="Read{T}"/> for a reader's side); the analyses that follow the load read the tree
    /// between merges, on the merge's thread, without it. Internal: a front end reads through
    /// <see cref="Read{T}"/> and follows the load through <see cref="LayerMerged"/>.
    /// </summary>
    internal object Sync { get; } = new();

    /// <summary>The layers merged so far, bottom first: all of them once the load is done.</summary>
    public int LayersMerged => Volatile.Read(ref _layersMerged);

    public bool IsComplete => LayersMerged == Layers.Count;

    internal void SetLayersMerged(int count) => Volatile.Write(ref _layersMerged, count);

    /// <summary>
    /// Runs <paramref name="read"/> while the load cannot write the model, and returns what it returns:
    /// the way to walk the tree of a model still loading (<see cref="IsComplete"/> false). The callback
    /// sees the layers merged so far, <see cref="LayersMerged"/> as read inside it; it must look at
    /// those only (the tree may already hold part of the next layer's records, and the layers above have
    /// no figures yet), and be short, as the merge waits for it. Once the load is done the model no
    /// longer changes and the callback runs at once, with nothing held. What it takes out about merged
    /// layers (a node's records at those layers, their attributes) stays true after it returns, as the
    /// merge never rewrites a merged layer's records; walking the tree again takes another call.
    /// </summary>
    public T Read<T>(Func<ImageModel, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (IsComplete) return read(this);
        lock (Sync) return read(this);
    }

    /// <summary>
    /// A layer is merged (its index): its figures and its part of the tree are final, and
    /// <see cref="LayersMerged"/> counts it. Raised by the load once per layer, in layer order, after the
    /// load has let go of the model (a handler may <see cref="Read{T}"/> from any thread); on the load's
    /// thread, which waits for the handler before the next layer goes on, so a handler should only take
    /// note (a UI posts to its own thread). For the top layer it comes once the model is complete
    /// (<see cref="IsComplete"/>); the load itself ends (its completion, its first error) on
    /// <see cref="Loading.ImageLoad.Completion"/>. A handler added late misses the layers merged before:
    /// add it, then look at <see cref="LayersMerged"/>. A handler that throws ends the load with its error.
    /// </summary>
    public event EventHandler<int>? LayerMerged;

    internal void RaiseLayerMerged(int index) => LayerMerged?.Invoke(this, index);

    public int TopLayer => Layers.Count - 1;

    /// <summary>Sum of the layers' sizes (dive's image size).</summary>
    public long SizeBytes => Layers.Sum(l => l.Size);

    /// <summary>The node at a normalised path, visible or not, or null when no layer ever touched it.</summary>
    public TreeNode? Find(string path)
    {
        var norm = PathText.Normalize(path, out _);
        if (norm is null) return null;
        var node = Root;
        if (norm.Length == 0) return node;
        foreach (var seg in norm.Split('/'))
        {
            if (node.Child(seg) is not { } child) return null;
            node = child;
        }
        return node;
    }

    /// <summary>Every node visible after <paramref name="layer"/>, depth first, children sorted by name; the root first.</summary>
    public IEnumerable<TreeNode> Walk(int layer)
    {
        var stack = new Stack<TreeNode>();
        stack.Push(Root);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            yield return n;
            var children = n.VisibleChildren(layer);
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    private int[]? _pathRanks;

    /// <summary>
    /// Each node's place in the order of full paths by their UTF-8 bytes (the order of <c>LC_ALL=C sort</c>),
    /// indexed by <see cref="TreeNode.Number"/>: sort nodes by it instead of building and comparing their
    /// paths, which costs time and memory growing with the square of the depth. Computed once the
    /// load is done; while it runs, computed again on each call.
    /// </summary>
    public int[] PathRanks()
    {
        if (_pathRanks is { } done) return done;
        var ranks = ComputePathRanks();
        if (IsComplete) _pathRanks = ranks;
        return ranks;
    }

    private int[] ComputePathRanks()
    {
        var ranks = new int[Root.Tree.NodeCount];
        int next = 0;
        ranks[Root.Number] = next++;
        // In full-path order a directory's own line and its subtree are not together: a sibling whose
        // name extends the directory's with a byte below '/' ("lib-x", "lib.so") falls between "lib" and
        // "lib/...". So every directory lists its children twice, as the name and as the name with '/'
        // (the subtree), sorts both together, and the walk descends at the subtree's place.
        var stack = new Stack<((string Key, TreeNode Node, bool Subtree)[] Items, int Next)>();
        stack.Push((Items(Root), 0));
        while (stack.Count > 0)
        {
            var (items, i) = stack.Pop();
            if (i == items.Length) continue;
            stack.Push((items, i + 1));
            var (_, node, subtree) = items[i];
            if (subtree) stack.Push((Items(node), 0));
            else ranks[node.Number] = next++;
        }
        return ranks;

        static (string, TreeNode, bool)[] Items(TreeNode dir)
        {
            var items = new List<(string Key, TreeNode Node, bool Subtree)>(dir.ChildCount * 2);
            foreach (var c in dir.AllChildren)
            {
                items.Add((c.Name, c, false));
                if (c.ChildCount > 0) items.Add((c.Name + "/", c, true));
            }
            items.Sort(static (a, b) => PathText.CompareUtf8(a.Key, b.Key));
            return [.. items];
        }
    }

    /// <summary>Every node that ever existed, in no particular order (the root first).</summary>
    public IEnumerable<TreeNode> AllNodes()
    {
        var tree = Root.Tree;
        int count = tree.NodeCount;
        yield return Root;
        for (int i = 1; i < count; i++)
            if (tree.Parent(i) != TreeStore.None) yield return tree.Node(i);
    }
}
