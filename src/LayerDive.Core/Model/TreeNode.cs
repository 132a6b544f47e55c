namespace LayerDive.Core.Model;

/// <summary>
/// A path of the one shared tree: a handle (the tree and the path's number), as cheap to copy as a
/// reference, which the tree hands out on request; the tree itself keeps no object per path. Its
/// history is a short list of change records ordered by layer; "the tree after layer N" and "the
/// changes of layer N" are views over these histories, never copies. Immutable once the merge is done.
/// </summary>
public readonly struct TreeNode : IEquatable<TreeNode>
{
    private readonly TreeStore _tree;
    private readonly int _index;

    internal TreeNode(TreeStore tree, int index)
    {
        _tree = tree;
        _index = index;
    }

    internal TreeStore Tree => _tree;

    /// <summary>
    /// A number unique in its tree, dense from 0 (the root) in the order the merge met the paths: an
    /// analysis can keep per-path data in arrays indexed by it instead of tables keyed by path.
    /// </summary>
    public int Number => _index;

    /// <summary>The last path segment ("" for the root).</summary>
    public string Name => _tree.Name(_index);

    public TreeNode? Parent => _tree.Parent(_index) is var p and >= 0 ? new TreeNode(_tree, p) : null;

    public bool IsRoot => _index == 0;

    /// <summary>The history, oldest first.</summary>
    public NodeHistory History => new(_tree, _index);

    /// <summary>Every child this path ever had, visible or not, in no particular order.</summary>
    public IEnumerable<TreeNode> AllChildren
    {
        get
        {
            var tree = _tree;
            for (int c = tree.FirstChild(_index); c != TreeStore.None; c = tree.NextSibling(c)) yield return new TreeNode(tree, c);
        }
    }

    public int ChildCount => _tree.ChildCount(_index);

    /// <summary>The normalised path from the root ("" for the root).</summary>
    public string Path
    {
        get => _tree.Path(_index);
    }

    /// <summary>The record in force after layer <paramref name="layer"/>, or null when none is.</summary>
    public ChangeRecord? StateAt(int layer) => _tree.TryStateAt(_index, layer, out var r) ? _tree.ToChangeRecord(r) : null;

    /// <summary>True when the path exists in the merged tree after layer <paramref name="layer"/>.</summary>
    public bool IsVisibleAt(int layer) => _tree.TryStateAt(_index, layer, out var r) && r.IsPresent;

    /// <summary>The record layer <paramref name="layer"/> wrote for this path, if it wrote one.</summary>
    public ChangeRecord? RecordIn(int layer) => _tree.TryRecordIn(_index, layer, out var r) ? _tree.ToChangeRecord(r) : null;

    public TreeNode? Child(ReadOnlySpan<char> name) => _tree.FindChild(_index, name) is var c and >= 0 ? new TreeNode(_tree, c) : null;

    /// <summary>The children visible after <paramref name="layer"/>, sorted by name (the bytes of the names, as the listings sort).</summary>
    public List<TreeNode> VisibleChildren(int layer)
    {
        var list = new List<TreeNode>();
        for (int c = _tree.FirstChild(_index); c != TreeStore.None; c = _tree.NextSibling(c))
            if (_tree.TryStateAt(c, layer, out var r) && r.IsPresent) list.Add(new TreeNode(_tree, c));
        var tree = _tree;
        list.Sort((a, b) => tree.CompareNames(a._index, b._index));
        return list;
    }

    public bool Equals(TreeNode other) => _index == other._index && ReferenceEquals(_tree, other._tree);

    public override bool Equals(object? obj) => obj is TreeNode other && Equals(other);

    public override int GetHashCode() => _index;

    public static bool operator ==(TreeNode a, TreeNode b) => a.Equals(b);

    public static bool operator !=(TreeNode a, TreeNode b) => !a.Equals(b);

    public override string ToString() => "/" + Path;
}

/// <summary>A path's history, oldest first: a view over the tree, read record by record.</summary>
public readonly struct NodeHistory
{
    private readonly TreeStore _tree;
    private readonly int _node;

    internal NodeHistory(TreeStore tree, int node)
    {
        _tree = tree;
        _node = node;
        Length = tree.RecordCount(node);
    }

    public int Length { get; }

    public ChangeRecord this[int index] =>
        (uint)index < (uint)Length ? _tree.ToChangeRecord(_tree.Record(_node, index)) : throw new ArgumentOutOfRangeException(nameof(index));

    public Enumerator GetEnumerator() => new(this);

    public struct Enumerator(NodeHistory history)
    {
        private int _i = -1;

        public readonly ChangeRecord Current => history[_i];

        public bool MoveNext() => ++_i < history.Length;
    }
}
