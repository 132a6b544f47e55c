using System.Runtime.InteropServices;

namespace LayerDive.Core.Model;

/// <summary>
/// A path of the one shared tree. Its history is a short list of change records ordered by layer;
/// "the tree after layer N" and "the changes of layer N" are views over these histories, never copies.
/// Immutable once the merge is done.
/// </summary>
public sealed class TreeNode
{
    private ChildSet _children;
    // most paths have one record, kept inline; a longer history lives in _more (all of it, the first included)
    private ChangeRecord _first;
    private ChangeRecord[]? _more;
    private int _count;

    internal TreeNode(string name, TreeNode? parent, int number)
    {
        Name = name;
        Parent = parent;
        Number = number;
    }

    /// <summary>
    /// A number unique in its tree, dense from 0 (the root) in the order the merge met the paths: an
    /// analysis can keep per-path data in arrays indexed by it instead of tables keyed by path.
    /// </summary>
    public int Number { get; }

    /// <summary>The last path segment ("" for the root).</summary>
    public string Name { get; }
    public TreeNode? Parent { get; }
    public bool IsRoot => Parent is null;

    /// <summary>The history, oldest first.</summary>
    public ReadOnlySpan<ChangeRecord> History =>
        _count <= 1 ? MemoryMarshal.CreateReadOnlySpan(ref _first, _count) : _more.AsSpan(0, _count);

    /// <summary>Every child this path ever had, visible or not, in no particular order.</summary>
    public IEnumerable<TreeNode> AllChildren => _children.All;

    public int ChildCount => _children.Count;

    /// <summary>The normalised path from the root ("" for the root).</summary>
    public string Path
    {
        get
        {
            if (Parent is null) return "";
            if (Parent.Parent is null) return Name;
            var stack = new Stack<string>();
            for (var n = this; n.Parent is not null; n = n.Parent) stack.Push(n.Name);
            return string.Join('/', stack);
        }
    }

    /// <summary>The record in force after layer <paramref name="layer"/>, or null when none is.</summary>
    public ChangeRecord? StateAt(int layer)
    {
        var history = History;
        for (int i = history.Length - 1; i >= 0; i--)
            if (history[i].Layer <= layer) return history[i];
        return null;
    }

    /// <summary>True when the path exists in the merged tree after layer <paramref name="layer"/>.</summary>
    public bool IsVisibleAt(int layer) => StateAt(layer) is { IsPresent: true };

    /// <summary>The record layer <paramref name="layer"/> wrote for this path, if it wrote one.</summary>
    public ChangeRecord? RecordIn(int layer)
    {
        var history = History;
        for (int i = history.Length - 1; i >= 0; i--)
        {
            if (history[i].Layer == layer) return history[i];
            if (history[i].Layer < layer) break;
        }
        return null;
    }

    public TreeNode? Child(ReadOnlySpan<char> name) => _children.Find(name);

    /// <summary>The children visible after <paramref name="layer"/>, sorted by name (the bytes of the names, as the listings sort).</summary>
    public List<TreeNode> VisibleChildren(int layer)
    {
        var list = new List<TreeNode>();
        foreach (var c in _children.All)
            if (c.IsVisibleAt(layer)) list.Add(c);
        list.Sort(static (a, b) => PathText.CompareUtf8(a.Name, b.Name));
        return list;
    }

    // ---- mutation, for the merge only ----

    // the merge's bookkeeping for the layer it is applying: (layer << 2) | 1 counted for the layer's figures, | 2 written by its entries
    private int _marks = int.MinValue;

    /// <summary>Notes that the merge counted this node for <paramref name="layer"/>; false when it had already.</summary>
    internal bool MarkCounted(int layer)
    {
        int same = (_marks >> 2) == layer ? _marks : layer << 2;
        if ((same & 1) != 0) return false;
        _marks = same | 1;
        return true;
    }

    /// <summary>Notes that an entry of <paramref name="layer"/> wrote this node or went through it.</summary>
    internal void MarkWritten(int layer) => _marks = ((_marks >> 2) == layer ? _marks : layer << 2) | 2;

    internal bool WrittenIn(int layer) => (_marks >> 2) == layer && (_marks & 2) != 0;

    internal ChangeRecord? Last => _count == 0 ? null : _count == 1 ? _first : _more![_count - 1];

    internal bool IsVisibleNow => Last is { IsPresent: true };

    /// <summary>Makes a child called <paramref name="name"/> (which must not be one yet), numbered <paramref name="lastNumber"/> + 1.</summary>
    internal TreeNode AddChild(string name, ref int lastNumber)
    {
        var child = new TreeNode(name, this, ++lastNumber);
        _children.Add(child);
        return child;
    }

    internal void RemoveChild(TreeNode child) => _children.Remove(child);

    internal void Push(ChangeRecord record)
    {
        if (_count == 0)
        {
            _first = record;
            _count = 1;
            return;
        }
        if (_more is null || _count == _more.Length)
        {
            var grown = new ChangeRecord[Math.Max(4, _count * 2)];
            if (_count == 1) grown[0] = _first;
            else _more.AsSpan(0, _count).CopyTo(grown);
            _more = grown;
        }
        else if (_count == 1)
        {
            _more[0] = _first; // the history shrank to one record and grows again
        }
        _more[_count++] = record;
    }

    internal void Pop()
    {
        _count--;
        if (_count == 1) _first = _more![0];
    }

    internal void TrimExcess()
    {
        if (_count <= 1) _more = null;
        else if (_more!.Length != _count) Array.Resize(ref _more, _count);
        _children.TrimExcess();
    }
}
