using System.Text.Json;
using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>
/// Writes each layer's own tree as dive exports it (<c>fileList[]</c>: the layer's entries, missing
/// parents as implicit nodes with no payload, a whiteout marker under its own name, an opaque marker
/// making only its directory, the root never a node, the later entry of a path winning; children
/// before their parent, names sorted) as soon as the layer is merged, then forgets it. It keeps one
/// small node per path of the current layer, found through the merged tree's node (no path is kept or
/// built but the one being written), so a report costs about what the layer's own tree costs, not
/// every layer's file list until the end.
/// </summary>
internal sealed class LayerFileLists(Action<LayerInfo, LayerFileLists> writeLayer) : ILayerObserver
{
    /// <summary>A path of the current layer's own tree.</summary>
    private sealed class Node(string name, int number)
    {
        public readonly string Name = name;
        /// <summary>The merged tree's node number, or -1 for a path the merged tree does not hold.</summary>
        public int Number = number;
        public Node? FirstChild, NextSibling;
        public bool Payload, Whiteout, IsDir, PathOnlyChildren;
        public short TypeFlag;
        public string LinkName = "";
        public long Size;
        public uint Mode;
        public int Uid, Gid;
    }

    private readonly Node _root = new("", -1);
    // the current layer's nodes by the merged tree's node number (cleared as they are written)
    private readonly ChunkedArray<Node?> _byTree = new();
    private readonly Dictionary<string, Node> _markers = new(StringComparer.Ordinal);
    private char[] _path = new char[256];

    public void OnEntry(LayerInfo layer, in RawEntry entry, TreeNode? node)
    {
        switch (entry.Kind)
        {
            case RawKind.Entry:
                if (entry.Path.Length == 0) return; // the root is never a node
                var n = node is { IsRoot: false } ? Of(node) : OfPath(entry.Path);
                var a = entry.Attributes!;
                Set(n, whiteout: false, FlagOf(a, entry.HardlinkTarget), entry.HardlinkTarget ?? a.LinkTarget ?? "", a.HeaderSize,
                    GoFileMode(a, entry.HardlinkTarget is not null), a.Uid, a.Gid, a.IsDirectory);
                break;
            case RawKind.Whiteout:
                // a marker lies beside the path it hides; markers are few, and found again by their path
                if (!_markers.TryGetValue(entry.MarkerPath!, out var marker))
                    _markers[entry.MarkerPath!] = marker = node?.Parent is { } parent
                        ? Add(parent.IsRoot ? _root : Of(parent), PathText.FileName(entry.MarkerPath!))
                        : OfPath(entry.MarkerPath!);
                var m = entry.Attributes;
                Set(marker, whiteout: true, '0', "", 0, m is null ? 0 : GoFileMode(m), m?.Uid ?? 0, m?.Gid ?? 0, isDir: false);
                break;
            case RawKind.Opaque:
                if (entry.Path.Length == 0) return;
                _ = node is { IsRoot: false } ? Of(node) : OfPath(entry.Path); // its directory, implicit if new
                break;
        }
    }

    private static void Set(Node n, bool whiteout, int flag, string link, long size, uint mode, int uid, int gid, bool isDir)
    {
        n.Payload = true;
        n.Whiteout = whiteout;
        n.TypeFlag = (short)flag;
        n.LinkName = link;
        n.Size = size;
        n.Mode = mode;
        n.Uid = uid;
        n.Gid = gid;
        n.IsDir = isDir;
    }

    /// <summary>The node of a merged-tree path, made (with its missing parents, implicit) if new.</summary>
    private Node Of(TreeNode tree)
    {
        if (_byTree[tree.Number] is { } known) return known;
        // the nearest ancestor already known, then down from it
        var missing = new Stack<TreeNode>();
        var at = tree;
        Node parent = _root;
        while (!at.IsRoot)
        {
            if (_byTree[at.Number] is { } found) { parent = found; break; }
            missing.Push(at);
            at = at.Parent!;
        }
        while (missing.Count > 0)
        {
            var t = missing.Pop();
            parent = parent.PathOnlyChildren ? Child(parent, t.Name) : Add(parent, t.Name);
            parent.Number = t.Number;
            _byTree[t.Number] = parent;
        }
        return parent;
    }

    /// <summary>The node of a path the merged tree does not hold (a marker, a skipped link), by its names.</summary>
    private Node OfPath(string path)
    {
        var n = _root;
        foreach (var segment in path.Split('/'))
        {
            n.PathOnlyChildren = true;
            n = Child(n, segment);
        }
        return n;
    }

    /// <summary>The child named <paramref name="name"/>, made if missing (a scan: only where path-only children may be).</summary>
    private static Node Child(Node parent, string name)
    {
        for (var c = parent.FirstChild; c is not null; c = c.NextSibling)
            if (c.Name == name) return c;
        return Add(parent, name);
    }

    private static Node Add(Node parent, string name)
    {
        var n = new Node(name, -1) { NextSibling = parent.FirstChild };
        parent.FirstChild = n;
        return n;
    }

    public void OnLayerMerged(LayerInfo layer)
    {
        writeLayer(layer, this);
        _root.FirstChild = null;
        _root.PathOnlyChildren = false;
        _markers.Clear();
    }

    /// <summary>Writes the current layer's list as <c>fileList</c> items: children first, names sorted (dive's VisitDepthChildFirst).</summary>
    public void WriteFileList(Utf8JsonWriter w)
    {
        // a frame: a directory's sorted children, the next one, the directory's path length in _path,
        // and whether that child's own children were written already
        var stack = new Stack<(Node[] Children, int Next, int PathLength, bool Below)>();
        stack.Push((Sorted(_root), 0, 0, false));
        while (stack.Count > 0)
        {
            var (children, i, length, below) = stack.Pop();
            if (i == children.Length) continue;
            var n = children[i];
            int at = length == 0 ? 0 : length + 1;
            int own = at + n.Name.Length;
            if (own > _path.Length) Array.Resize(ref _path, Math.Max(own, _path.Length * 2));
            if (length > 0) _path[length] = '/';
            n.Name.CopyTo(_path.AsSpan(at));
            if (n.FirstChild is not null && !below)
            {
                stack.Push((children, i, length, true)); // back to this node once its children are written
                stack.Push((Sorted(n), 0, own, false));
                continue;
            }
            stack.Push((children, i + 1, length, false));
            Write(w, n, _path.AsSpan(0, own));
            if (n.Number >= 0) _byTree[n.Number] = null;
            if (w.BytesPending > 1 << 16) w.Flush();
        }
    }

    private static Node[] Sorted(Node dir)
    {
        int count = 0;
        for (var c = dir.FirstChild; c is not null; c = c.NextSibling) count++;
        var all = new Node[count];
        int i = 0;
        for (var c = dir.FirstChild; c is not null; c = c.NextSibling) all[i++] = c;
        Array.Sort(all, static (a, b) => PathText.CompareUtf8(a.Name, b.Name));
        return all;
    }

    private static void Write(Utf8JsonWriter w, Node n, ReadOnlySpan<char> path)
    {
        w.WriteStartObject();
        if (n.Payload) w.WriteString("path", path);
        else w.WriteString("path", ""); // an implicit parent: no payload in dive
        w.WriteNumber("typeFlag", n.TypeFlag);
        w.WriteString("linkName", n.LinkName);
        w.WriteNumber("size", n.Size);
        w.WriteNumber("fileMode", n.Mode);
        w.WriteNumber("uid", n.Uid);
        w.WriteNumber("gid", n.Gid);
        w.WriteBoolean("isDir", n.IsDir);
        w.WriteEndObject();
    }

    private static int FlagOf(EntryAttributes a, string? hardlink) => hardlink is not null ? '1' : a.Type switch
    {
        FileType.Directory => '5',
        FileType.Symlink => '2',
        FileType.CharDevice => '3',
        FileType.BlockDevice => '4',
        FileType.Fifo => '6',
        _ => '0',
    };

    /// <summary>Go's fs.FileMode of a tar header: permission bits, setuid/setgid/sticky and type bits.</summary>
    public static uint GoFileMode(EntryAttributes a, bool hardlink = false)
    {
        uint mode = (uint)(a.Mode & 0x1FF);
        if ((a.Mode & 0x800) != 0) mode |= 1u << 23; // setuid
        if ((a.Mode & 0x400) != 0) mode |= 1u << 22; // setgid
        if ((a.Mode & 0x200) != 0) mode |= 1u << 20; // sticky
        if (hardlink) return mode;
        mode |= a.Type switch
        {
            FileType.Directory => 1u << 31,
            FileType.Symlink => 1u << 27,
            FileType.CharDevice => (1u << 26) | (1u << 21),
            FileType.BlockDevice => 1u << 26,
            FileType.Fifo => 1u << 25,
            _ => 0u,
        };
        return mode;
    }
}
