using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Merge;

/// <summary>
/// Applies layers bottom to top under the OverlayFS rules of the OCI image spec (docs/merge.md), writing
/// each path's history into the one shared tree and classifying every change.
/// Entries are applied one by one as the layer's tar streams by (<see cref="BeginLayer"/>,
/// <see cref="Add"/>, <see cref="EndLayer"/>), and the result is the one the spec defines whatever the
/// order of the tar: a layer's whiteouts and opaque markers hide only what the layers below left,
/// never what the layer itself writes, so a marker that comes after entries of its own layer hides the
/// lower paths and leaves the layer's own (a directory the layer still writes under stays, as the
/// directory the layer implies). Markers take effect as if they all came first, whiteouts before
/// opaque markers; a layer may delete a path and write it again.
/// </summary>
internal sealed partial class OverlayMerger
{
    private static readonly EntryAttributes RootAttributes = new() { Type = FileType.Directory, Mode = 0x1ED, Uid = 0, Gid = 0, Implicit = true };
    private static readonly EntryAttributes ImplicitDirectory = new() { Type = FileType.Directory, Mode = 0x1ED, Uid = 0, Gid = 0, Implicit = true };

    private readonly TreeStore _tree = new();
    private readonly int _implicitDirectory;
    private readonly List<Problem> _problems = [];
    // the current layer's records by kind, kept as they are pushed and popped (the root's aside)
    private readonly int[] _kinds = new int[4];
    private readonly List<HideFrame> _frames = [];
    private readonly List<int> _scratch = [];
    // the current layer's paths its markers hid, with the cause (what its entries wrote is marked on the node)
    private readonly Dictionary<int, RemovalCause> _markerHidden = [];
    private LayerInfo? _layer;
    private int _n = -1;
    private int _layerProblemsStart;
    private const int RootIndex = 0;
    // the directory the last entry went into, as walked in this layer: tar keeps a directory's entries
    // together, so most entries need no walk from the root; any removal or replacement forgets it
    private string? _lastDirectoryPath;
    private int _lastDirectory;

    public OverlayMerger()
    {
        _implicitDirectory = _tree.AddAttributes(ImplicitDirectory);
        _tree.Push(RootIndex, new TreeStore.RecordData { Layer = -1, Kind = ChangeKind.Added, Attr = _tree.AddAttributes(RootAttributes) });
    }

    public TreeNode Root => _tree.Node(RootIndex);

    /// <summary>
    /// When set, each path taken out of the tree (made by this layer, then removed with its directory)
    /// with the parent it had: the tree forgets it, an observer of the batch still needs it (<see cref="MergedBatch"/>).
    /// </summary>
    internal Dictionary<int, int>? DetachedParents { get; set; }
    public IReadOnlyList<Problem> Problems => _problems;

    /// <summary>Applies a whole layer; layers must come in order, bottom first.</summary>
    public void Apply(LayerInfo layer, LayerContents contents)
    {
        BeginLayer(layer);
        foreach (var e in contents.Entries) Add(e);
        EndLayer(contents.Problems);
    }

    /// <summary>Starts the next layer; layers must come in order, bottom first.</summary>
    public void BeginLayer(LayerInfo layer)
    {
        if (_layer is not null) throw new InvalidOperationException($"layer {_layer.Index} is still being applied");
        if (layer.Index != _n + 1)
            throw new InvalidOperationException($"layer {layer.Index} applied out of order (expected {_n + 1})");
        _layer = layer;
        _n = layer.Index;
        _layerProblemsStart = _problems.Count;
        _lastDirectoryPath = null;
        Array.Clear(_written);
    }

    /// <summary>
    /// Applies one entry of the current layer, in tar order. Returns the node it is about: the path an
    /// entry wrote, the path a whiteout hid, the directory an opaque marker emptied; null when there is
    /// none (a skipped hardlink, a marker for a path that never existed).
    /// </summary>
    public TreeNode? Add(in RawEntry e)
    {
        if (_layer is null) throw new InvalidOperationException("no layer begun");
        int node = e.Kind switch
        {
            RawKind.Whiteout => ApplyWhiteout(e),
            RawKind.Opaque => ApplyOpaque(e),
            _ => ApplyEntry(e),
        };
        return node == TreeStore.None ? null : _tree.Node(node);
    }

    /// <summary>
    /// Asks for the memory a coming entry will look at first (its slot in the tree's table of children),
    /// when it lies in the directory the last entry did, as a tar lists a directory's entries together:
    /// the lookup is a cache miss otherwise, each entry's longest wait.
    /// </summary>
    public void Prefetch(in RawEntry e)
    {
        if (e.Kind != RawKind.Entry || _lastDirectoryPath is not { } last) return;
        // the directory and name as ApplyEntry splits them
        int slash = e.Path.LastIndexOf('/');
        if (slash != last.Length || slash == e.Path.Length - 1 || !e.Path.AsSpan(0, slash).SequenceEqual(last)) return;
        _tree.Prefetch(_lastDirectory, TreeStore.NameHash(e.Path.AsSpan(slash + 1)));
    }

    /// <summary>Ends the current layer: counts its changes and files the reader's problems before the merge's.</summary>
    public void EndLayer(IEnumerable<Problem> readerProblems)
    {
        var layer = _layer ?? throw new InvalidOperationException("no layer begun");
        _problems.InsertRange(_layerProblemsStart, readerProblems);
        layer.SetChanges(_kinds[(int)ChangeKind.Added], _kinds[(int)ChangeKind.Modified], _kinds[(int)ChangeKind.Removed], _kinds[(int)ChangeKind.Unmodified]);
        Array.Clear(_kinds);
        _markerHidden.Clear();
        _markerHidden.TrimExcess();
        _layer = null;
    }

    /// <summary>Ends the merge once every layer is applied.</summary>
    public void Complete()
    {
        _frames.TrimExcess();
        _scratch.TrimExcess();
    }

    // ---- entries ----

    private int ApplyEntry(in RawEntry e)
    {
        int n = _n;
        var attributes = e.Attributes!.Value;
        if (e.Path.Length == 0)
        {
            if (attributes.IsDirectory) SetPresent(RootIndex, _tree.AddAttributes(attributes));
            else _problems.Add(new Problem(ProblemKind.Other, n, "", Strings.Merge_RootNotDirectory));
            return RootIndex;
        }

        int slash = e.Path.LastIndexOf('/');
        int parent = EnsureDirectory(n, slash < 0 ? [] : e.Path.AsSpan(0, slash));
        var name = e.Path.AsSpan(slash + 1);
        int nameHash = TreeStore.NameHash(name);
        int node = _tree.FindChild(parent, name, nameHash);

        if (e.HardlinkTarget is not null)
        {
            int target = Find(e.HardlinkTarget);
            // a target this layer's own whiteout hides is linked as the layer below has it (tar order: the link came first)
            TreeStore.RecordData now = default;
            bool found = target != TreeStore.None && _tree.TryLast(target, out now)
                && (now.IsPresent || (now.Layer == n && _tree.TryStateAt(target, n - 1, out now)));
            if (target == TreeStore.None || target == node || !found || !now.IsPresent || _tree.IsDirectory(now.Attr))
            {
                _problems.Add(new Problem(ProblemKind.HardlinkTargetMissing, n, e.Path, Text.Fill(Strings.Merge_HardlinkTargetMissing, PathText.Escape(e.HardlinkTarget))));
                return TreeStore.None;
            }
            var t = _tree.Attributes(now.Attr);
            attributes = new EntryAttributes
            {
                Type = t.Type, Mode = t.Mode, Uid = t.Uid, Gid = t.Gid, Size = t.Size, MTime = t.MTime,
                ContentHash = t.ContentHash, Sha256 = t.Sha256, LinkTarget = t.LinkTarget,
                DevMajor = t.DevMajor, DevMinor = t.DevMinor, Inode = t.Inode,
                HardlinkTarget = e.HardlinkTarget, HeaderSize = attributes.HeaderSize,
            };
        }
        if (node == TreeStore.None) node = _tree.AddChild(parent, name, nameHash);

        // A non-directory over a directory: the directory's whole subtree is gone.
        if (!attributes.IsDirectory && VisibleDirectoryNow(node))
        {
            _lastDirectoryPath = null;
            var children = Children(node);
            foreach (var child in children)
                if (VisibleNow(child)) RemoveSubtree(child, RemovalCause.AncestorReplaced);
        }

        SetPresent(node, _tree.AddAttributes(attributes));
        return node;
    }

    /// <summary>Walks to the directory at <paramref name="path"/>, creating (implicitly) what is missing.</summary>
    private int EnsureDirectory(int n, ReadOnlySpan<char> path)
    {
        if (path.Length == 0) return RootIndex;
        // the same directory as the last entry's, and nothing removed or replaced since: walked already in this layer
        if (_lastDirectoryPath is { } last && path.SequenceEqual(last)) return _lastDirectory;
        int node = Walk(n, path);
        _lastDirectoryPath = path.ToString();
        _lastDirectory = node;
        return node;
    }

    private int Walk(int n, ReadOnlySpan<char> path)
    {
        int node = RootIndex;
        int start = 0;
        while (start < path.Length)
        {
            int slash = path[start..].IndexOf('/');
            slash = slash < 0 ? path.Length : start + slash;
            var seg = path[start..slash];
            start = slash + 1;
            int segHash = TreeStore.NameHash(seg);
            int child = _tree.FindChild(node, seg, segHash);
            if (child != TreeStore.None && VisibleDirectoryNow(child))
            {
                MarkWritten(child); // the layer needs it: a marker of the layer coming later leaves it
                node = child;
                continue;
            }
            if (child == TreeStore.None) child = _tree.AddChild(node, seg, segHash);
            if (VisibleNow(child))
            {
                _problems.Add(new Problem(ProblemKind.ParentNotDirectory, n, _tree.Node(child).Path, Strings.Merge_ParentNotDirectory));
            }
            SetPresent(child, _implicitDirectory);
            node = child;
        }
        return node;
    }

    // ---- history edits ----

    /// <summary>Records that the current layer makes the path the version <paramref name="attr"/>; the later entry of one layer wins.</summary>
    private void SetPresent(int node, int attr)
    {
        int n = _n;
        PopThisLayer(node);
        if (_tree.TryLast(node, out var below) && below.IsPresent)
        {
            var changed = below.Attr == attr ? AttributeChange.None : _tree.Attributes(below.Attr).Diff(_tree.Attributes(attr));
            Push(node, new TreeStore.RecordData { Layer = n, Kind = changed == AttributeChange.None ? ChangeKind.Unmodified : ChangeKind.Modified, Attr = attr, Changed = changed });
        }
        else
        {
            Push(node, new TreeStore.RecordData { Layer = n, Kind = ChangeKind.Added, Attr = attr });
        }
        MarkWritten(node);
    }

    /// <summary>Records that the current layer removes the path; returns false when it did not exist below.</summary>
    private bool SetRemoved(int node, RemovalCause cause)
    {
        int n = _n;
        _lastDirectoryPath = null;
        PopThisLayer(node);
        if (_tree.TryLast(node, out var below) && below.IsPresent)
        {
            Push(node, new TreeStore.RecordData { Layer = n, Kind = ChangeKind.Removed, Attr = below.Attr, Cause = cause });
            return true;
        }
        if (_tree.RecordCount(node) == 0)
        {
            DetachedParents?.TryAdd(node, _tree.Parent(node));
            _tree.RemoveChild(node);
        }
        return false;
    }

    /// <summary>Takes back what the current layer recorded for the path already: the later entry of one layer wins.</summary>
    private void PopThisLayer(int node)
    {
        if (!_tree.TryLast(node, out var last) || last.Layer != _n) return;
        _tree.Pop(node);
        if (node != RootIndex) _kinds[(int)last.Kind]--;
    }

    private void Push(int node, in TreeStore.RecordData record)
    {
        _tree.Push(node, record);
        if (node != RootIndex) _kinds[(int)record.Kind]++;
    }

    /// <summary>Removes a path and everything visible under it (a non-directory replaced their directory).</summary>
    private void RemoveSubtree(int top, RemovalCause cause)
    {
        var stack = new Stack<int>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            int node = stack.Pop();
            if (!_tree.TryLast(node, out var last) || !last.IsPresent) continue;
            if (_tree.IsDirectory(last.Attr))
                foreach (var c in Children(node)) stack.Push(c);
            SetRemoved(node, cause);
        }
    }

    // ---- the nodes the current layer's entries wrote or went through: one bit a node, cleared at each layer ----

    private ulong[] _written = new ulong[64];

    private void MarkWritten(int node)
    {
        int word = node >> 6;
        if (word >= _written.Length) Array.Resize(ref _written, Math.Max(word + 1, _written.Length * 2));
        _written[word] |= 1UL << node;
    }

    private bool WrittenIn(int node) => (node >> 6) < _written.Length && (_written[node >> 6] & (1UL << node)) != 0;

    private bool VisibleNow(int node) => _tree.TryLast(node, out var last) && last.IsPresent;

    private bool VisibleDirectoryNow(int node) => _tree.TryLast(node, out var last) && last.IsPresent && _tree.IsDirectory(last.Attr);

    /// <summary>A node's children as they are now, to change the tree while going through them.</summary>
    private int[] Children(int node)
    {
        _scratch.Clear();
        for (int c = _tree.FirstChild(node); c != TreeStore.None; c = _tree.NextSibling(c)) _scratch.Add(c);
        return [.. _scratch];
    }

    // ---- lookups ----

    private int Find(string path)
    {
        int node = RootIndex;
        int start = 0;
        while (start < path.Length && node != TreeStore.None)
        {
            int slash = path.IndexOf('/', start);
            if (slash < 0) slash = path.Length;
            node = _tree.FindChild(node, path.AsSpan(start, slash - start));
            start = slash + 1;
        }
        return node;
    }
}
