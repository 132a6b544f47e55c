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

    // names met lately, by hash: a repeated name (bin, lib, __init__.py, LICENSE) is one string
    // however many directories hold it; a table of fixed size, so a million distinct names
    // cost nothing beyond themselves
    private readonly string?[] _names = new string?[NameCacheSize];
    private const int NameCacheSize = 1 << 13;
    private readonly List<Problem> _problems = [];
    private readonly List<TreeNode> _touched = [];
    private readonly List<HideFrame> _frames = [];
    // the current layer's paths its markers hid, with the cause (what its entries wrote is marked on the node)
    private readonly Dictionary<TreeNode, RemovalCause> _markerHidden = [];
    private LayerInfo? _layer;
    private int _n = -1;
    private int _layerProblemsStart;
    private int _lastNumber;

    public OverlayMerger()
    {
        Root = new TreeNode("", null, 0);
        Root.Push(new ChangeRecord(-1, ChangeKind.Added, RootAttributes));
    }

    public TreeNode Root { get; }
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
    }

    /// <summary>
    /// Applies one entry of the current layer, in tar order. Returns the node it is about: the path an
    /// entry wrote, the path a whiteout hid, the directory an opaque marker emptied; null when there is
    /// none (a skipped hardlink, a marker for a path that never existed).
    /// </summary>
    public TreeNode? Add(in RawEntry e)
    {
        if (_layer is null) throw new InvalidOperationException("no layer begun");
        return e.Kind switch
        {
            RawKind.Whiteout => ApplyWhiteout(e),
            RawKind.Opaque => ApplyOpaque(e),
            _ => ApplyEntry(e),
        };
    }

    /// <summary>Ends the current layer: counts its changes and files the reader's problems before the merge's.</summary>
    public void EndLayer(IEnumerable<Problem> readerProblems)
    {
        var layer = _layer ?? throw new InvalidOperationException("no layer begun");
        _problems.InsertRange(_layerProblemsStart, readerProblems);
        int added = 0, modified = 0, unmodified = 0, removed = 0;
        foreach (var node in _touched)
        {
            switch (node.RecordIn(_n)?.Kind)
            {
                case ChangeKind.Added: added++; break;
                case ChangeKind.Modified: modified++; break;
                case ChangeKind.Unmodified: unmodified++; break;
                case ChangeKind.Removed: removed++; break;
            }
        }
        layer.SetChanges(added, modified, removed, unmodified);
        _touched.Clear();
        _touched.TrimExcess();
        _markerHidden.Clear();
        _markerHidden.TrimExcess();
        _layer = null;
    }

    /// <summary>Trims the tree's spare capacity once every layer is applied.</summary>
    public void Complete()
    {
        var stack = new Stack<TreeNode>();
        stack.Push(Root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            node.TrimExcess();
            foreach (var c in node.AllChildren) stack.Push(c);
        }
        Array.Clear(_names);
    }

    // ---- entries ----

    private TreeNode? ApplyEntry(in RawEntry e)
    {
        int n = _n;
        var attributes = e.Attributes!;
        if (e.Path.Length == 0)
        {
            if (attributes.IsDirectory) SetPresent(Root, attributes);
            else _problems.Add(new Problem(ProblemKind.Other, n, "", Strings.Merge_RootNotDirectory));
            return Root;
        }

        int slash = e.Path.LastIndexOf('/');
        var parent = EnsureDirectory(n, slash < 0 ? [] : e.Path.AsSpan(0, slash));
        var name = e.Path.AsSpan(slash + 1);
        var node = parent.Child(name) ?? parent.AddChild(Intern(name), ref _lastNumber);

        if (e.HardlinkTarget is not null)
        {
            var target = Find(e.HardlinkTarget);
            // a target this layer's own whiteout hides is linked as the layer below has it (tar order: the link came first)
            var linked = target?.Last is { IsPresent: true } now ? now
                : target?.Last is { Kind: ChangeKind.Removed } gone && gone.Layer == n ? target.StateAt(n - 1) : null;
            if (target is null || target == node || linked is not { IsPresent: true } || linked.Value.Attributes.IsDirectory)
            {
                _problems.Add(new Problem(ProblemKind.HardlinkTargetMissing, n, e.Path, Text.Fill(Strings.Merge_HardlinkTargetMissing, PathText.Escape(e.HardlinkTarget))));
                if (node.History.Length == 0) parent.RemoveChild(node);
                return null;
            }
            var t = linked.Value.Attributes;
            attributes = new EntryAttributes
            {
                Type = t.Type, Mode = t.Mode, Uid = t.Uid, Gid = t.Gid, Size = t.Size, MTime = t.MTime,
                ContentHash = t.ContentHash, Sha256 = t.Sha256, LinkTarget = t.LinkTarget,
                DevMajor = t.DevMajor, DevMinor = t.DevMinor, Inode = t.Inode,
                HardlinkTarget = e.HardlinkTarget, HeaderSize = attributes.HeaderSize,
            };
        }

        // A non-directory over a directory: the directory's whole subtree is gone.
        if (!attributes.IsDirectory && node.IsVisibleNow && node.Last!.Value.Attributes.IsDirectory)
            foreach (var child in node.AllChildren.ToArray())
                if (child.IsVisibleNow) RemoveSubtree(child, RemovalCause.AncestorReplaced);

        SetPresent(node, attributes);
        return node;
    }

    /// <summary>Walks to the directory at <paramref name="path"/>, creating (implicitly) what is missing.</summary>
    private TreeNode EnsureDirectory(int n, ReadOnlySpan<char> path)
    {
        var node = Root;
        if (path.Length == 0) return node;
        int start = 0;
        while (start < path.Length)
        {
            int slash = path[start..].IndexOf('/');
            slash = slash < 0 ? path.Length : start + slash;
            var seg = path[start..slash];
            start = slash + 1;
            var child = node.Child(seg);
            if (child is not null && child.IsVisibleNow && child.Last!.Value.Attributes.IsDirectory)
            {
                child.MarkWritten(_n); // the layer needs it: a marker of the layer coming later leaves it
                node = child;
                continue;
            }
            child ??= node.AddChild(Intern(seg), ref _lastNumber);
            if (child.IsVisibleNow)
            {
                _problems.Add(new Problem(ProblemKind.ParentNotDirectory, n, child.Path, Strings.Merge_ParentNotDirectory));
            }
            SetPresent(child, ImplicitDirectory);
            node = child;
        }
        return node;
    }

    // ---- history edits ----

    /// <summary>Records that the current layer makes the path <paramref name="attributes"/>; the later entry of one layer wins.</summary>
    private void SetPresent(TreeNode node, EntryAttributes attributes)
    {
        int n = _n;
        if (node.Last is { } last && last.Layer == n) node.Pop();
        var below = node.Last;
        if (below is { IsPresent: true } prev)
        {
            var changed = prev.Attributes.Diff(attributes);
            node.Push(new ChangeRecord(n, changed == AttributeChange.None ? ChangeKind.Unmodified : ChangeKind.Modified, attributes, RemovalCause.None, changed));
        }
        else
        {
            node.Push(new ChangeRecord(n, ChangeKind.Added, attributes));
        }
        Touch(node);
        node.MarkWritten(n);
    }

    /// <summary>Records that the current layer removes the path; returns false when it did not exist below.</summary>
    private bool SetRemoved(TreeNode node, RemovalCause cause)
    {
        int n = _n;
        if (node.Last is { } last && last.Layer == n) node.Pop();
        if (node.Last is { IsPresent: true } below)
        {
            node.Push(new ChangeRecord(n, ChangeKind.Removed, below.Attributes, cause));
            Touch(node);
            return true;
        }
        if (node.History.Length == 0) node.Parent?.RemoveChild(node);
        return false;
    }

    /// <summary>Notes a node the current layer gave a record, once, for the layer's counts.</summary>
    private void Touch(TreeNode node)
    {
        if (!node.IsRoot && node.MarkCounted(_n)) _touched.Add(node);
    }

    /// <summary>Removes a path and everything visible under it (a non-directory replaced their directory).</summary>
    private void RemoveSubtree(TreeNode top, RemovalCause cause)
    {
        var stack = new Stack<TreeNode>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!node.IsVisibleNow) continue;
            if (node.Last!.Value.Attributes.IsDirectory)
                foreach (var c in node.AllChildren.ToArray()) stack.Push(c);
            SetRemoved(node, cause);
        }
    }

    // ---- lookups ----

    private TreeNode? Find(string path)
    {
        var node = Root;
        int start = 0;
        while (start < path.Length && node is not null)
        {
            int slash = path.IndexOf('/', start);
            if (slash < 0) slash = path.Length;
            node = node.Child(path.AsSpan(start, slash - start));
            start = slash + 1;
        }
        return node;
    }

    private string Intern(ReadOnlySpan<char> name)
    {
        ref var slot = ref _names[string.GetHashCode(name) & (NameCacheSize - 1)];
        if (slot is not null && slot.AsSpan().SequenceEqual(name)) return slot;
        return slot = name.ToString();
    }

}
