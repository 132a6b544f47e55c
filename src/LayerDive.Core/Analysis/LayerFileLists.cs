using System.Text.Json;
using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>
/// Writes each layer's own tree as dive exports it (<c>fileList[]</c>: the layer's entries, missing
/// parents as implicit nodes with no payload, a whiteout marker under its own name, an opaque marker
/// making only its directory, the root never a node, the later entry of a path winning; children
/// before their parent, names sorted) as soon as the layer is merged. The layer's tree is the merged
/// tree's nodes it touched: a bit a node, kept for the load, and the version each entry wrote, kept
/// until the layer is written; only what the merged tree does not hold (whiteout markers, the paths of
/// skipped entries) gets nodes of its own, keyed by its parent's path. So a report costs next to
/// nothing per entry beyond the merge itself, however many layers or entries.
/// When a layer is merged, the merge's thread walks its tree in the order dive writes it, into blocks
/// of steps (a name, an item and where its facts are) that <paramref name="sink"/> takes; a
/// <see cref="FileListWriter"/> turns them into JSON, on another thread where the sink hands them to one.
/// </summary>
internal sealed class LayerFileLists(IFileListSink sink) : ILayerObserver
{
    private ulong[] _inLayer = new ulong[64];                           // one bit a node: the current layer's tree holds it
    // the version the layer's entry wrote (the tree's attributes index + 1), 0 for none: only where the layer's
    // nodes lie, let go once the layer is walked (every entry is back to 0 by then)
    private readonly NodeIntMap _entry = new();
    // by node number: what dive shows of a hardlink's own header, where it is not what the tree's version has (the
    // target's mode and owner): links written with the target's, as tar and the engines write them, keep nothing
    private readonly Dictionary<int, HardlinkHeader> _hardlink = [];
    private int _layerIndex = -1;
    private TreeNode? _root;

    /// <summary>A path of the layer's tree that the merged tree does not hold (left as it is once its layer is merged).</summary>
    internal sealed class Extra(string name)
    {
        public readonly string Name = name;
        public EntryAttributes? Attributes;
        public string? Hardlink;
        public bool Payload, Whiteout;
    }

    // by the parent's path: what hangs there beside (or instead of) merged-tree nodes
    private readonly Dictionary<string, List<Extra>> _extras = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Extra> _extraAt = new(StringComparer.Ordinal);
    private char[] _path = new char[256]; // the walk's path: only where extras are looked up by it
    private readonly List<Item> _items = [];
    private TreeStore? _tree;

    /// <summary>Makes <paramref name="index"/> the current layer: its tree starts empty.</summary>
    private void Enter(int index)
    {
        if (index == _layerIndex) return;
        _layerIndex = index;
        Array.Clear(_inLayer);
    }

    private bool InLayer(int node) => (node >> 6) < _inLayer.Length && (_inLayer[node >> 6] & (1UL << node)) != 0;

    public void OnEntries(LayerInfo layer, MergedBatch batch)
    {
        Enter(layer.Index);
        var entries = batch.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            ref readonly var entry = ref entries[i];
            var node = batch.Node(i);
            switch (entry.Kind)
            {
                case RawKind.Entry:
                    if (entry.Path.Length == 0) continue; // the root is never a node
                    if (node is { IsRoot: false } written)
                    {
                        Stamp(in batch, written);
                        // the version the entry wrote (a later entry of the layer may change what is in force)
                        _entry.Set(written.Number, batch.Version(i) + 1);
                        if (entry.HardlinkTarget is not null && entry.Attributes!.Value is var header && batch.Version(i) is >= 0 and var version
                            && !written.Tree.HasModeAndOwner(version, header.Mode, header.Uid, header.Gid))
                            _hardlink[written.Number] = new HardlinkHeader(header);
                        else _hardlink.Remove(written.Number);
                    }
                    else Set(ExtraAt(entry.Path), entry.Attributes, entry.HardlinkTarget, whiteout: false);
                    break;
                case RawKind.Whiteout:
                    // a marker lies beside the path it hides
                    var parent = node is { } hidden ? batch.Parent(hidden) : null;
                    if (parent is { IsRoot: false } above) Stamp(in batch, above);
                    Set(ExtraAt(entry.MarkerPath!, parentStamped: parent is not null), entry.Attributes, null, whiteout: true);
                    break;
                case RawKind.Opaque:
                    if (entry.Path.Length == 0) continue;
                    if (node is { IsRoot: false } dir) Stamp(in batch, dir);
                    else ExtraAt(entry.Path); // its directory, implicit
                    break;
            }
        }
    }

    private static void Set(Extra e, EntryAttributes? attributes, string? hardlink, bool whiteout)
    {
        e.Payload = true;
        e.Whiteout = whiteout;
        e.Attributes = attributes;
        e.Hardlink = hardlink;
    }

    /// <summary>
    /// Puts a merged-tree node and its ancestors (as they were when the batch merged) in the layer's tree
    /// (implicit until an entry says more).
    /// </summary>
    private void Stamp(in MergedBatch batch, TreeNode node)
    {
        for (var n = node; !n.IsRoot; )
        {
            if (InLayer(n.Number)) return;
            int word = n.Number >> 6;
            if (word >= _inLayer.Length) Array.Resize(ref _inLayer, Math.Max(word + 1, _inLayer.Length * 2));
            _inLayer[word] |= 1UL << n.Number;
            _entry.Set(n.Number, 0);
            _hardlink.Remove(n.Number);
            var parent = batch.Parent(n)!.Value;
            if (parent.IsRoot) _root = parent;
            n = parent;
        }
    }

    /// <summary>
    /// The extra node at <paramref name="path"/>, with its missing ancestors as implicit extras unless its
    /// parent is a merged-tree node already in the layer's tree (where the merged tree holds an ancestor
    /// too, the two are one node when written).
    /// </summary>
    private Extra ExtraAt(string path, bool parentStamped = false)
    {
        Extra? found = null;
        for (string p = path; p.Length > 0; p = PathText.Parent(p))
        {
            if (_extraAt.TryGetValue(p, out var known))
            {
                found ??= known;
                break; // its ancestors are in already
            }
            var e = new Extra(PathText.FileName(p));
            _extraAt[p] = e;
            string parent = PathText.Parent(p);
            if (!_extras.TryGetValue(parent, out var list)) _extras[parent] = list = [];
            list.Add(e);
            found ??= e;
            if (parentStamped) break;
        }
        return found!;
    }

    public void OnLayerMerged(LayerInfo layer)
    {
        Enter(layer.Index);
        Walk(layer);
        _entry.Clear();
        _extras.Clear();
        _extraAt.Clear();
        // the layer's hardlinks are in its steps: a layer of many (a pnpm store's) would otherwise leave a
        // table of its size for the rest of the load
        _hardlink.Clear();
        _hardlink.TrimExcess();
    }

    /// <summary>
    /// What dive shows of a hardlink's own header where the tree's version differs (it has its target's mode
    /// and owner; its header size is the link's): 24 bytes. The target is the tree's version's.
    /// </summary>
    private readonly struct HardlinkHeader(EntryAttributes header)
    {
        private readonly long _headerSize = header.HeaderSize;
        private readonly int _mode = header.Mode, _uid = header.Uid, _gid = header.Gid;
        private readonly FileType _type = header.Type;

        /// <summary>The header's fields that dive's list shows (<see cref="FileListWriter"/> reads no others of a hardlink).</summary>
        public EntryAttributes Header => new() { Type = _type, Mode = _mode, Uid = _uid, Gid = _gid, HeaderSize = _headerSize };
    }

    /// <summary>A child in the layer's tree: a merged-tree node, an extra, or both (one path). The name only where an extra is (a node's is in the tree).</summary>
    private readonly record struct Item(string? Name, TreeNode? Node, Extra? Extra)
    {
        public string NameText => Name ?? Node!.Value.Name;
    }

    private sealed class ItemOrder(TreeStore? tree) : IComparer<Item>
    {
        public TreeStore? Tree = tree;

        // names in the tree compare in place; an extra's (rare) as text, in the same order
        public int Compare(Item a, Item b) =>
            a.Name is null && b.Name is null ? Tree!.CompareNames(a.Node!.Value.Number, b.Node!.Value.Number) : PathText.CompareUtf8(a.NameText, b.NameText);
    }

    private readonly ItemOrder _order = new(null);
    private Comparison<Item>? _compare; // made once: a sort given the comparer wraps it in a new delegate each time

    /// <summary>
    /// The current layer's list as <c>fileList</c> items, children first, names sorted (dive's
    /// VisitDepthChildFirst), as steps in blocks for the sink: the layer's first block names it, its last ends it.
    /// </summary>
    private void Walk(LayerInfo layer)
    {
        _tree ??= _root?.Tree;
        _order.Tree = _tree;
        _block = sink.Rent();
        _block.Begin(layer, _tree);
        // a frame: a directory's sorted children, the next one, the directory's path length, and whether
        // that child's own children were walked already
        var stack = new Stack<(Item[] Children, int Count, int Next, int PathLength, bool Below)>();
        var top = Children(_root, 0);
        stack.Push((top.Items, top.Count, 0, 0, false));
        while (stack.Count > 0)
        {
            var (children, count, i, length, below) = stack.Pop();
            if (i == count)
            {
                if (count > 0) System.Buffers.ArrayPool<Item>.Shared.Return(children, clearArray: true);
                continue;
            }
            var item = children[i];
            int at = length == 0 ? 0 : length + 1;
            int own = at + (item.Name?.Length ?? _tree!.NameLength(item.Node!.Value.Number));
            if (!below)
            {
                // the walk's own path only where extras are looked up by it
                if (_extras.Count > 0) FileListWriter.PutName(ref _path, _tree, item.Node?.Number ?? TreeStore.None, item.Name, at, own);
                NextStep() = item.Node is { } named
                    ? new FileListStep { At = at, Own = own, Node = named.Number, Kind = ListStepKind.Name }
                    : new FileListStep { At = at, Own = own, Node = TreeStore.None, Extra = item.Extra, Kind = ListStepKind.Name };
                var grand = Children(item.Node, own);
                if (grand.Count > 0)
                {
                    stack.Push((children, count, i, length, true)); // back to this node once its children are walked
                    stack.Push((grand.Items, grand.Count, 0, own, false));
                    continue;
                }
            }
            stack.Push((children, count, i + 1, length, false));
            ref var step = ref NextStep();
            step = Facts(item, own);
            if (item.Node is { } written)
            {
                // let the entry go: held past its layer, the arrays would keep every layer's attributes alive
                _entry.Set(written.Number, 0);
                _hardlink.Remove(written.Number);
            }
        }
        _block.Ends = true;
        sink.Post(_block);
        _block = null;
    }

    private FileListBlock? _block;

    /// <summary>The next step of the current block, the block handed over and a new one begun when it is full.</summary>
    private ref FileListStep NextStep()
    {
        if (_block!.Count == FileListBlock.Length)
        {
            sink.Post(_block);
            _block = sink.Rent();
            _block.Begin(null, _tree);
        }
        return ref _block.Steps[_block.Count++];
    }

    /// <summary>The step that writes <paramref name="item"/>: where its facts are (the tree's attributes read where they are plain, else taken now).</summary>
    private FileListStep Facts(Item item, int own)
    {
        var step = new FileListStep { Own = own, Node = TreeStore.None, Kind = ListStepKind.Item, Taken = -1 };
        if (item.Node is { } n && InLayer(n.Number) && _entry.Get(n.Number) is > 0 and var written)
        {
            // what only the tree's tables hold is read now: they change as the merge goes on
            if (n.Tree.IsPlain(written - 1)) step.Version = written;
            else
            {
                // a hardlink's version names its target; its own header is the version's unless kept aside
                var a = n.Tree.Attributes(written - 1);
                step.Taken = _block!.Take(_hardlink.TryGetValue(n.Number, out var link) ? link.Header : a, a.HardlinkTarget);
            }
        }
        else if (item.Extra is { Payload: true } e) step.Extra = e;
        return step;
    }

    /// <summary>The children in the layer's tree of the directory at _path[..length] (<paramref name="dir"/> when the merged tree holds it), sorted.</summary>
    private (Item[] Items, int Count) Children(TreeNode? dir, int length)
    {
        List<Extra>? extras = null;
        bool hasExtras = _extras.Count > 0 && _extras.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(_path.AsSpan(0, length), out extras);
        if ((dir is not { } d || d.Tree.FirstChild(d.Number) == TreeStore.None) && !hasExtras) return ([], 0); // a file: nothing to allocate
        var items = _items;
        items.Clear();
        if (dir is { } parent)
        {
            var tree = parent.Tree;
            for (int c = tree.FirstChild(parent.Number); c != TreeStore.None; c = tree.NextSibling(c))
                if (InLayer(c)) items.Add(new Item(hasExtras ? tree.Node(c).Name : null, tree.Node(c), null));
        }
        if (hasExtras)
        {
            var index = new Dictionary<string, int>(items.Count, StringComparer.Ordinal);
            for (int i = 0; i < items.Count; i++) index[items[i].Name!] = i;
            foreach (var e in extras!)
            {
                if (!index.TryGetValue(e.Name, out int same))
                {
                    // a path the merged tree holds but the layer touched only through an extra below it
                    var node = dir?.Child(e.Name);
                    items.Add(new Item(e.Name, node, e));
                }
                else items[same] = items[same] with { Extra = e };
            }
        }
        if (items.Count == 0) return ([], 0);
        // pooled: a layer's lists are walked one directory at a time, each array back once its directory is done
        var sorted = System.Buffers.ArrayPool<Item>.Shared.Rent(items.Count);
        items.CopyTo(sorted);
        sorted.AsSpan(0, items.Count).Sort(_compare ??= _order.Compare);
        return (sorted, items.Count);
    }

    internal static int FlagOf(EntryAttributes a, string? hardlink) => hardlink is not null ? '1' : a.Type switch
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
