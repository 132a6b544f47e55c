using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Merge;

/// <summary>
/// Applies layers bottom to top under the OverlayFS rules of the OCI image spec (SPEC §2), writing
/// each path's history into the one shared tree and classifying every change (SPEC §3).
/// A layer is applied in two phases: first its whiteouts and opaque markers, which only ever hide
/// what the layers below left; then its entries in tar order. That makes the result independent of
/// where the markers stand in the tar, and a layer may delete a path and write it again.
/// </summary>
public sealed class OverlayMerger
{
    private static readonly EntryAttributes RootAttributes = new() { Type = FileType.Directory, Mode = 0x1ED, Uid = 0, Gid = 0, Implicit = true };
    private static readonly EntryAttributes ImplicitDirectory = new() { Type = FileType.Directory, Mode = 0x1ED, Uid = 0, Gid = 0, Implicit = true };

    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly List<Problem> _problems = [];
    private int _nextLayer;

    public OverlayMerger()
    {
        Root = new TreeNode("", null);
        Root.Push(new ChangeRecord(-1, ChangeKind.Added, RootAttributes));
    }

    public TreeNode Root { get; }
    public IReadOnlyList<Problem> Problems => _problems;

    /// <summary>Applies the next layer; layers must come in order, bottom first.</summary>
    public void Apply(LayerInfo layer, LayerContents contents)
    {
        if (layer.Index != _nextLayer)
            throw new InvalidOperationException($"layer {layer.Index} applied out of order (expected {_nextLayer})");
        _nextLayer++;
        int n = layer.Index;
        _problems.AddRange(contents.Problems);

        foreach (var e in contents.Entries)
            if (e.Kind == RawKind.Whiteout) ApplyWhiteout(layer, e);
        foreach (var e in contents.Entries)
            if (e.Kind == RawKind.Opaque) ApplyOpaque(layer, e);
        foreach (var e in contents.Entries)
            if (e.Kind == RawKind.Entry) ApplyEntry(n, e);
    }

    /// <summary>Counts each layer's changes and trims the tree's spare capacity.</summary>
    public void Complete(IReadOnlyList<LayerInfo> layers)
    {
        var stack = new Stack<TreeNode>();
        stack.Push(Root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            node.TrimExcess();
            foreach (var r in node.History)
            {
                if (r.Layer < 0 || r.Layer >= layers.Count || node.IsRoot) continue;
                var l = layers[r.Layer];
                switch (r.Kind)
                {
                    case ChangeKind.Added: l.Added++; break;
                    case ChangeKind.Modified: l.Modified++; break;
                    case ChangeKind.Unmodified: l.Unmodified++; break;
                    case ChangeKind.Removed: l.Removed++; break;
                }
            }
            foreach (var c in node.AllChildren) stack.Push(c);
        }
    }

    // ---- phase A: markers ----

    private void ApplyWhiteout(LayerInfo layer, RawEntry e)
    {
        int n = layer.Index;
        var node = Find(e.Path);
        if (node is not null && node.IsVisibleNow)
        {
            bool wasDir = node.Last!.Value.Attributes.IsDirectory;
            var (paths, bytes, headerBytes) = RemoveSubtree(node, n, RemovalCause.Whiteout, RemovalCause.AncestorWhiteout);
            layer.Whiteouts.Add(new WhiteoutInfo(e.MarkerPath!, e.Path, wasDir, paths, bytes, Orphan: false, wasDir ? headerBytes : 0));
        }
        else
        {
            layer.Whiteouts.Add(new WhiteoutInfo(e.MarkerPath!, e.Path, false, 0, 0, Orphan: true));
            _problems.Add(new Problem(ProblemKind.OrphanWhiteout, n, e.Path, $"whiteout {PathText.Escape(PathText.FileName(e.MarkerPath!))} hides nothing: the path does not exist below"));
        }
    }

    private void ApplyOpaque(LayerInfo layer, RawEntry e)
    {
        int n = layer.Index;
        layer.OpaqueDirectories.Add(e.Path);
        var dir = Find(e.Path);
        if (dir is null || !dir.IsVisibleNow || !dir.Last!.Value.Attributes.IsDirectory) return;
        foreach (var child in dir.AllChildren.ToArray())
            if (child.IsVisibleNow) RemoveSubtree(child, n, RemovalCause.Opaque, RemovalCause.Opaque);
    }

    // ---- phase B: entries ----

    private void ApplyEntry(int n, RawEntry e)
    {
        var attributes = e.Attributes!;
        if (e.Path.Length == 0)
        {
            if (attributes.IsDirectory) SetPresent(Root, n, attributes);
            else _problems.Add(new Problem(ProblemKind.Other, n, "", "a non-directory entry for the root itself; ignored"));
            return;
        }

        int slash = e.Path.LastIndexOf('/');
        var parent = EnsureDirectory(n, slash < 0 ? [] : e.Path.AsSpan(0, slash));
        var node = parent.GetOrAddChild(Intern(e.Path.AsSpan(slash + 1)));

        if (e.HardlinkTarget is not null)
        {
            var target = Find(e.HardlinkTarget);
            // a target this layer's own whiteout hides is linked as the layer below has it (tar order: the link came first)
            var linked = target?.Last is { IsPresent: true } now ? now
                : target?.Last is { Kind: ChangeKind.Removed } gone && gone.Layer == n ? target.StateAt(n - 1) : null;
            if (target is null || target == node || linked is not { IsPresent: true } || linked.Value.Attributes.IsDirectory)
            {
                _problems.Add(new Problem(ProblemKind.HardlinkTargetMissing, n, e.Path, $"hardlink to '{PathText.Escape(e.HardlinkTarget)}', which does not exist at this point; skipped"));
                if (node.History.Length == 0) parent.RemoveChild(node);
                return;
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
                if (child.IsVisibleNow) RemoveSubtree(child, n, RemovalCause.AncestorReplaced, RemovalCause.AncestorReplaced);

        SetPresent(node, n, attributes);
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
                node = child;
                continue;
            }
            child ??= node.GetOrAddChild(Intern(seg));
            if (child.IsVisibleNow)
            {
                _problems.Add(new Problem(ProblemKind.ParentNotDirectory, n, child.Path, "an entry of this layer lies under this path, which is not a directory; it was replaced by a directory"));
            }
            SetPresent(child, n, ImplicitDirectory);
            node = child;
        }
        return node;
    }

    // ---- history edits ----

    /// <summary>Records that layer <paramref name="n"/> makes the path <paramref name="attributes"/>; the later entry of one layer wins.</summary>
    private static void SetPresent(TreeNode node, int n, EntryAttributes attributes)
    {
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
    }

    /// <summary>Records that layer <paramref name="n"/> removes the path; returns false when it did not exist below.</summary>
    private static bool SetRemoved(TreeNode node, int n, RemovalCause cause)
    {
        if (node.Last is { } last && last.Layer == n) node.Pop();
        if (node.Last is { IsPresent: true } below)
        {
            node.Push(new ChangeRecord(n, ChangeKind.Removed, below.Attributes, cause));
            return true;
        }
        if (node.History.Length == 0) node.Parent?.RemoveChild(node);
        return false;
    }

    /// <summary>Removes a path and everything visible under it; returns how many paths, file bytes and header bytes were hidden.</summary>
    private static (int Paths, long Bytes, long HeaderBytes) RemoveSubtree(TreeNode top, int n, RemovalCause self, RemovalCause descendants)
    {
        int paths = 0;
        long bytes = 0, headerBytes = 0;
        var stack = new Stack<(TreeNode Node, RemovalCause Cause)>();
        stack.Push((top, self));
        while (stack.Count > 0)
        {
            var (node, cause) = stack.Pop();
            if (!node.IsVisibleNow) continue;
            var attributes = node.Last!.Value.Attributes;
            if (attributes.IsDirectory)
                foreach (var c in node.AllChildren.ToArray()) stack.Push((c, descendants));
            if (SetRemoved(node, n, cause))
            {
                paths++;
                headerBytes += attributes.HeaderSize;
                if (attributes.Type == FileType.File) bytes += attributes.Size;
            }
        }
        return (paths, bytes, headerBytes);
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
        var lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(name, out var s)) return s;
        s = name.ToString();
        _names.Add(s, s);
        return s;
    }

}
