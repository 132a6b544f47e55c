using System.Buffers;
using System.Text.RegularExpressions;
using LayerDive.Core;
using LayerDive.Core.Model;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The file tree pane's rows: the merged tree after the selected layer, annotated with that
/// layer's changes (or layers 1..N against layer 0), flattened into rows over the expanded
/// directories only. UI state (collapsed, filters, sort) lives here, keyed by node number; the model
/// is never copied or changed.
/// <para>
/// The rows are virtual, so that a key answers at once on a tree of a million paths: <see cref="Layout"/>
/// judges every node in two passes over flat arrays (what the view says of it, its size, whether it is
/// kept by the filter and the hidden kinds, how many rows its expanded subtree makes), and a row object is
/// made only for a row asked for (<see cref="RowAt"/>: the rows on screen), found by descending from the
/// root through the row counts. A directory's children are sorted by name once, when a row below it is
/// first asked for, and kept as an array of node numbers.
/// </para>
/// </summary>
public sealed class TreeRows
{
    private readonly ImageModel _model;
    private readonly TreeStore _store;

    public TreeRows(ImageModel model)
    {
        _model = model;
        _store = model.Root.Tree;
    }

    public int Layer { get; set; }
    public bool Aggregate { get; set; }
    public bool SortBySize { get; set; }
    public HashSet<RowStatus> Hidden { get; } = [];
    public Regex? Filter { get; set; }

    /// <summary>
    /// Compare mode (<c>layerdive diff A B</c>): the status of a path is its difference from image A's final
    /// tree (added, modified or unchanged) rather than what the selected layer did.
    /// </summary>
    public ImageModel? CompareWith { get; set; }

    // ---- folding: every directory folded or not, and the ones toggled since ----

    private readonly HashSet<int> _toggled = [];
    private bool _allCollapsed;
    // "collapse all" folds the directories there were then: a directory the load adds later opens unfolded
    private int _collapsedBelow;

    public bool IsCollapsed(TreeNode node) => IsCollapsed(node.Number);

    private bool IsCollapsed(int node) =>
        _store.FirstChild(node) != TreeStore.None && ((_allCollapsed && node < _collapsedBelow) ^ (_toggled.Count > 0 && _toggled.Contains(node)));

    public void Toggle(TreeNode node)
    {
        if (!_toggled.Remove(node.Number)) _toggled.Add(node.Number);
    }

    public void SetAllCollapsed(bool collapsed)
    {
        _toggled.Clear();
        _allCollapsed = collapsed;
        _collapsedBelow = collapsed ? _model.Read(_ => _store.NodeCount) : 0; // the image may still be being read
    }

    // ---- what a layout knows of each node ----

    // per node, one byte: the status the view gives it (0: not shown), and what the passes found
    private const int StatusMask = 7, ChangedBelow = 8, IsDir = 16, Kept = 32, KeptBelow = 64;
    // the filter's match while the keep pass runs; after it, the row is open: kept rows below and not folded
    private const int Matches = 128, Open = 128;

    private byte[] _flags = [];
    // per node, its directory slot (-1 for a node that has no child): the index into the arrays below
    private int[] _slot = [];
    private int _slots;
    // per directory slot: the bytes beneath it, and the rows its expanded subtree makes
    private long[] _size = [];
    private int[] _rowsBelow = [];
    // the nodes the layout covered (the tree's count then: the load may add more)
    private int _nodes;
    // each directory's children by name, sorted once; cleared when the load adds nodes
    private readonly Dictionary<int, int[]> _byName = [];
    private int _byNameNodes = -1;
    // each directory's kept children in the order shown, for this layout (only the directories rows were asked below)
    private readonly Dictionary<int, int[]> _shown = [];
    // compare mode: each node's counterpart in A, by node number (-1: none)
    private int[] _counterpart = [];
    private (ImageModel? A, int Nodes) _counterpartOf;
    private readonly HashSet<int> _opaque = [];

    // what the layer pass was run for: the keep pass reads it, and rows are made with it
    private (int Layer, bool Aggregate, ImageModel? Compare, int Nodes) _judged = (int.MinValue, false, null, -1);

    /// <summary>The rows the layout makes (the expanded tree's rows).</summary>
    public int Count => _slot.Length > 0 && _slot[0] >= 0 ? _rowsBelow[_slot[0]] : 0;

    /// <summary>
    /// Lays the rows out for the current layer, view, filter, hidden kinds and folds. Run through
    /// <see cref="ImageModel.Read{T}"/>, as the layers above may still be being merged; a row made later
    /// keeps what it shows (a merged layer's records never change).
    /// </summary>
    public void Layout() => _model.Read(_ =>
    {
        int nodes = _store.NodeCount;
        if (nodes != _nodes) Grow(nodes);
        var key = (Layer, Aggregate, CompareWith, nodes);
        // without a filter, the keep pass runs within the layer pass (both go children first)
        if (key != _judged) JudgeAll(keep: Filter is null);
        else KeepAll();
        _shown.Clear();
        _window = [];
        return 0;
    });

    private void Grow(int nodes)
    {
        _nodes = nodes;
        if (_slot.Length < nodes) _slot = new int[nodes];
        if (_flags.Length < nodes) _flags = new byte[nodes];
        _slots = 0;
        // a slot for each node with children, in any order (a slot is only where its sums are): the tree's
        // directories read as it keeps them, not a lookup for every node (17 ms on a million, at the first key)
        Array.Fill(_slot, -1, 0, nodes);
        foreach (int dir in _store.WithChildren) _slot[dir] = _slots++;
        if (_size.Length < _slots)
        {
            _size = new long[_slots];
            _rowsBelow = new int[_slots];
        }
        _judged = (int.MinValue, false, null, -1);
    }

    private static RowStatus Shown(int flags)
    {
        var status = (RowStatus)((flags & StatusMask) - 1);
        // a directory shows Modified when something beneath it changed (as dive does)
        return (flags & (IsDir | ChangedBelow)) == (IsDir | ChangedBelow) && status is RowStatus.Unchanged or RowStatus.Unmodified ? RowStatus.Modified : status;
    }

    /// <summary>
    /// The layer pass: each node's status and each directory's size and whether a change lies beneath,
    /// children before parents. A child's number is always above its parent's (the tree numbers a path
    /// when it adds it, after its parent), so walking the numbers down visits every child first. What a
    /// node is (its status, the version it shows) depends on it alone and is most of the work: that part
    /// runs first, on every core, in slices of the numbers; the sums up the tree then take one pass.
    /// </summary>
    private void JudgeAll(bool keep)
    {
        int nodes = _nodes;
        var flags = _flags;
        Array.Clear(_size, 0, _slots);
        Array.Clear(_rowsBelow, 0, _slots);
        int hidden = HiddenMask();
        if (CompareWith is { } a) Counterparts(a);
        _opaque.Clear();
        if (Layer >= 0 && Layer < _model.Layers.Count)
            foreach (var d in _model.Layers[Layer].OpaqueDirectories)
                if (_model.Find(d) is { } n) _opaque.Add(n.Number);
        if (_shownAttr.Length < nodes) _shownAttr = new int[nodes];
        // every version's bytes may be asked for at once: the cache is made whole before
        if (_bytes.Length < _store.AttributeCount) Array.Resize(ref _bytes, _store.AttributeCount);
        int Slice = SliceNodes;
        int slices = (nodes + Slice - 1) / Slice;
        if (slices > 1) Parallel.For(0, slices, s => Judge(s * Slice, Math.Min(nodes, (s + 1) * Slice)));
        else Judge(0, nodes);
        var shownAttr = _shownAttr;
        for (int i = nodes - 1; i >= 1; i--)
        {
            int f = flags[i];
            if ((f & StatusMask) == 0)
            {
                flags[i] = 0;
                continue;
            }
            int parent = _store.Parent(i);
            bool isDir = (f & IsDir) != 0;
            long size = isDir ? (_slot[i] >= 0 ? _size[_slot[i]] : 0) : Bytes(shownAttr[i]);
            if (keep) flags[i] = (byte)(f = Keep(i, parent, f, hidden, filtered: false));
            if ((f & StatusMask) - 1 != (int)RowStatus.Removed) _size[_slot[parent]] += size;
            if ((f & StatusMask) - 1 != (int)RowStatus.Unchanged || (f & ChangedBelow) != 0) flags[parent] |= ChangedBelow;
        }
        _judged = (Layer, Aggregate, CompareWith, nodes);
        if (!keep) KeepAll();
    }

    /// <summary>The nodes the layer pass gives one core at a time (a test makes it small, to cut a small tree in many slices).</summary>
    internal int SliceNodes { get; init; } = 1 << 16;

    // per node, the version of attributes the layer pass found it showing
    private int[] _shownAttr = [];

    /// <summary>The layer pass's own part for the nodes from <paramref name="from"/> to <paramref name="to"/>: each one's status, whether it is a directory, the version it shows.</summary>
    private void Judge(int from, int to)
    {
        var flags = _flags;
        int layer = Layer;
        bool aggregate = Aggregate;
        var compare = CompareWith;
        for (int i = Math.Max(from, 1); i < to; i++)
        {
            // a node taken out of its directory, or one the view does not show, makes nothing
            int status = _store.Parent(i) == TreeStore.None ? -1 : StatusOf(i, layer, aggregate, compare, out _shownAttr[i]);
            flags[i] = status < 0 ? (byte)0 : (byte)(status + 1 | (Bytes(_shownAttr[i]) == DirBytes ? IsDir : 0));
        }
        if (from == 0) flags[0] = 0;
    }

    private int HiddenMask()
    {
        int hidden = 0;
        foreach (var h in Hidden) hidden |= 1 << (int)h;
        // hiding "unmodified" hides what the layer did not change as well, leaving only its changes (as dive does)
        if ((hidden & 1 << (int)RowStatus.Unmodified) != 0) hidden |= 1 << (int)RowStatus.Unchanged;
        return hidden;
    }

    /// <summary>Whether a shown node (its flags <paramref name="f"/>, its children judged) makes a row; its flags after, its parent's counts updated.</summary>
    private int Keep(int i, int parent, int f, int hidden, bool filtered)
    {
        bool keptBelow = (f & KeptBelow) != 0;
        bool matches = !filtered || keptBelow || (f & Matches) != 0;
        bool visible = (hidden & 1 << (int)Shown(f)) == 0 || keptBelow;
        f &= ~Matches;
        if (matches && visible)
        {
            f |= Kept;
            bool open = keptBelow && !IsCollapsed(i);
            if (open) f |= Open;
            _flags[parent] |= KeptBelow;
            _rowsBelow[_slot[parent]] += 1 + (open ? _rowsBelow[_slot[i]] : 0);
        }
        return f;
    }

    // per version of attributes (the tree's attribute index), what it counts in its directory's size: read from
    // the tree once, as unpacking a version's attributes costs more than the rest of the layer pass
    private int[] _bytes = [];
    private const int Unknown = 0, DirBytes = -1, Large = int.MaxValue;

    /// <summary>The bytes a version counts in its directory (a file's size; a hardlink's are its target's, counted once, as dive counts its 0-byte header), or <see cref="DirBytes"/>.</summary>
    private long Bytes(int attr)
    {
        if (attr >= _bytes.Length) Array.Resize(ref _bytes, Math.Max(attr + 1, _bytes.Length * 2));
        // stored one more than the count, so that 0 is "not yet read"
        int known = _bytes[attr];
        if (known != Unknown && known != Large) return known == DirBytes ? DirBytes : known - 1;
        long bytes = ReadBytes(attr);
        if (known == Unknown) _bytes[attr] = bytes == DirBytes ? DirBytes : bytes < Large - 1 ? (int)bytes + 1 : Large;
        return bytes;
    }

    private long ReadBytes(int attr)
    {
        var type = _store.TypeOf(attr);
        if (type == FileType.Directory) return DirBytes;
        if (type != FileType.File) return 0;
        var a = _store.Attributes(attr);
        return a.HardlinkTarget is null ? a.Size : 0;
    }

    private long FileBytes(int attr) => Bytes(attr) is var b && b == DirBytes ? 0 : b;

    /// <summary>What the selected view says of a node: its status, and the attributes it shows (-1: not shown at all after this layer).</summary>
    private int StatusOf(int node, int layer, bool aggregate, ImageModel? compare, out int attr)
    {
        var s = _store;
        bool hasNow = s.TryStateAt(node, layer, out var now);
        attr = now.Attr;
        if (compare is { } a)
        {
            if (!hasNow || !now.IsPresent) return -1;
            int there = node < _counterpart.Length ? _counterpart[node] : -1;
            var aStore = a.Root.Tree;
            if (there < 0 || !aStore.TryStateAt(there, a.TopLayer, out var other) || !other.IsPresent) return (int)RowStatus.Added;
            return (aStore.Attributes(other.Attr).Diff(s.Attributes(now.Attr)) & ~AttributeChange.MTime) == AttributeChange.None
                ? (int)RowStatus.Unchanged : (int)RowStatus.Modified;
        }
        if (aggregate)
        {
            bool was = s.TryStateAt(node, 0, out var before) && before.IsPresent, isNow = hasNow && now.IsPresent;
            if (!isNow)
            {
                attr = before.Attr;
                return was && layer > 0 && hasNow && now.Layer >= 1 ? (int)RowStatus.Removed : -1;
            }
            if (!was) return layer > 0 ? (int)RowStatus.Added : (int)RowStatus.Unchanged;
            bool touched = false;
            for (int i = 0, count = s.RecordCount(node); i < count; i++)
                if (s.Record(node, i).Layer is var l && l >= 1 && l <= layer) { touched = true; break; }
            if (!touched) return (int)RowStatus.Unchanged;
            return before.Attr == now.Attr || s.Attributes(before.Attr).Diff(s.Attributes(now.Attr)) == AttributeChange.None
                ? (int)RowStatus.Unmodified : (int)RowStatus.Modified;
        }
        if (!hasNow) return -1;
        if (now.Layer == layer)
        {
            return now.Kind switch
            {
                ChangeKind.Added => (int)RowStatus.Added,
                ChangeKind.Modified => (int)RowStatus.Modified,
                ChangeKind.Removed => (int)RowStatus.Removed,
                _ => (int)RowStatus.Unmodified,
            };
        }
        return now.IsPresent ? (int)RowStatus.Unchanged : -1;
    }

    /// <summary>Compare mode: each node's node at the same path in A, parents first (a parent's number is below its children's).</summary>
    private void Counterparts(ImageModel a)
    {
        if (_counterpartOf == (a, _nodes)) return;
        var aStore = a.Root.Tree;
        if (_counterpart.Length < _nodes) _counterpart = new int[_nodes];
        _counterpart[0] = 0;
        Span<char> scratch = stackalloc char[256];
        for (int i = 1; i < _nodes; i++)
        {
            int p = _store.Parent(i);
            int up = p == TreeStore.None ? -1 : _counterpart[p];
            _counterpart[i] = up < 0 ? -1 : aStore.FindChild(up, _store.NameChars(i, scratch));
        }
        _counterpartOf = (a, _nodes);
    }

    /// <summary>
    /// The keep pass: which nodes make rows (the filter's match or a kept row beneath, and a kind not
    /// hidden or a kept row beneath), and how many rows each directory's expanded subtree makes.
    /// </summary>
    private void KeepAll()
    {
        int nodes = _nodes;
        var flags = _flags;
        for (int i = 0; i < nodes; i++) flags[i] &= StatusMask | ChangedBelow | IsDir;
        Array.Clear(_rowsBelow, 0, _slots);
        var filter = Plan;
        if (filter is not null) MatchAll(filter);
        int hidden = HiddenMask();
        for (int i = nodes - 1; i >= 1; i--)
        {
            int f = flags[i];
            if ((f & StatusMask) == 0) continue;
            int parent = _store.Parent(i);
            if (parent == TreeStore.None) continue;
            flags[i] = (byte)Keep(i, parent, f, hidden, filter is not null);
        }
    }

    // ---- the filter: names and paths as the tree shows them ----

    private char[] _path = new char[256];
    private readonly char[] _name = new char[256];
    private int[] _stack = new int[64];

    /// <summary>A node's name as the tree shows it (\xHH for bytes that are not UTF-8): the filter and the search see that.</summary>
    private ReadOnlySpan<char> ShownName(int node) => ShownName(node, _name);

    /// <inheritdoc cref="ShownName(int)"/>
    /// <param name="buffer">where a name stored a byte a character is read into (a thread's own)</param>
    private ReadOnlySpan<char> ShownName(int node, char[] buffer)
    {
        var name = _store.NameChars(node, buffer);
        return PathText.MayNeedEscape(name) ? PathText.Escape(name.ToString()) : name;
    }

    /// <summary>
    /// Writes a node's name after its parent's path (at the start of the buffer, <paramref name="parentLength"/>
    /// long), so that no path is ever built whole per node (a deep tree's paths together are its depth squared).
    /// </summary>
    private int WritePath(int parentLength, int node)
    {
        var name = ShownName(node);
        int at = parentLength == 0 ? 0 : parentLength + 1;
        int length = at + name.Length;
        if (length > _path.Length) Array.Resize(ref _path, Math.Max(length, _path.Length * 2));
        if (at > 0) _path[parentLength] = '/';
        name.CopyTo(_path.AsSpan(at));
        return length;
    }

    // per node while the filter is matched: the required texts its path holds (a bit each), or (within names)
    // whether every path beneath it matches
    private byte[] _scratch = [];
    // the node whose path the path buffer holds (-1: none), and its length
    private int _pathNode = -1, _pathLength;
    private PathFilter? _plan;

    /// <summary>The filter read for matching (see <see cref="PathFilter"/>), read once per regex.</summary>
    internal PathFilter? Plan => Filter is not { } filter ? null : ReferenceEquals(_plan?.Regex, filter) ? _plan : _plan = PathFilter.Of(filter);

    /// <summary>How many times the filter was matched against the tree (one pass over every node each).</summary>
    internal int FilterPasses { get; private set; }

    /// <summary>
    /// Marks the shown nodes whose path the filter matches, in one pass over the node numbers (a parent's
    /// is below its children's): by their names where no match can reach past a name, else trying the
    /// regex on the paths that hold every text a match must.
    /// </summary>
    private void MatchAll(PathFilter filter)
    {
        FilterPasses++;
        if (_scratch.Length < _nodes) _scratch = new byte[Math.Max(_nodes, _scratch.Length * 2)];
        NamesFound(Required(filter));
        if (filter.WithinName) MatchNames(filter);
        else MatchPaths(filter);
    }

    /// <summary>
    /// What each shown node's own name holds of the required texts (a bit each, in the scratch bytes): each name
    /// alone, so on every core in slices of the node numbers, as the layer pass is. That is most of a filter's
    /// pass (a million names searched for each text: 50 ms on one core); the pass itself then only adds up the
    /// bits down the tree and tries the regex where they are all there.
    /// </summary>
    private void NamesFound(Text[] required)
    {
        var flags = _flags;
        var scratch = _scratch;
        int nodes = _nodes, slice = SliceNodes, slices = (nodes + slice - 1) / slice;
        if (required.Length == 0)
        {
            Array.Clear(scratch, 0, nodes); // nothing to search for (a regex without a text every match holds)
            return;
        }
        void Run(int from, int to)
        {
            var buffer = new char[256];
            for (int i = Math.Max(from, 1); i < to; i++)
                scratch[i] = (flags[i] & StatusMask) == 0 ? (byte)0 : (byte)Found(i, required, 0, buffer);
        }
        if (slices > 1) Parallel.For(0, slices, s => Run(s * slice, Math.Min(nodes, (s + 1) * slice)));
        else Run(0, nodes);
    }

    /// <summary>
    /// The filter can match within one name only: a path matches when one of its names does, read with the
    /// '/' around it (where the pattern asserts anything of its start, end or word boundaries), so a node
    /// matches when the path above it holds a matching name or its own name matches as the last.
    /// </summary>
    private void MatchNames(PathFilter filter)
    {
        var flags = _flags;
        var scratch = _scratch;
        var required = Required(filter);
        var suffix = _suffix;
        int all = (1 << required.Length) - 1;
        bool literal = filter.Literal is not null, context = filter.Context;
        for (int i = 1; i < _nodes; i++)
        {
            int own = scratch[i]; // what the name holds (NamesFound)
            scratch[i] = 0;
            if ((flags[i] & StatusMask) == 0) continue;
            int p = _store.Parent(i);
            if (p == TreeStore.None) continue;
            if (p > 0 && scratch[p] != 0)
            {
                flags[i] |= Matches;
                scratch[i] = 1;
                continue;
            }
            // a plain text is the one text required
            if (own != all) continue;
            if (literal)
            {
                flags[i] |= Matches;
                scratch[i] = 1;
                continue;
            }
            // a match at the path's end lies in the last name, which ends with the text before the end
            if (suffix is { } end && !EndsWith(i, end)) continue;
            if (filter.SuffixOnly)
            {
                flags[i] |= Matches;
                continue;
            }
            var name = ShownName(i);
            if (!context)
            {
                if (filter.Regex.IsMatch(name))
                {
                    flags[i] |= Matches;
                    scratch[i] = 1;
                }
                continue;
            }
            bool first = p == 0;
            if (MatchesAround(filter.Regex, name, first, last: true)) flags[i] |= Matches;
            if (_slot[i] >= 0 && !filter.AtEnd && MatchesAround(filter.Regex, name, first, last: false)) scratch[i] = 1;
        }
    }

    // the bytes of a stored name that the tree shows escaped (\xHH): a name holding none is shown as its Latin-1 bytes read
    private static readonly SearchValues<byte> Escaped = SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(b => (byte)b), 0x7f, (byte)'\\']);

    /// <summary>
    /// A required text, and its Latin-1 bytes (null when it holds a character above U+00FF, which no name stored one
    /// byte a character holds, escaped or not). <paramref name="Exact"/>: the text is in a name's stored bytes exactly
    /// when it is in the name as shown, so that a name need not be checked for escapes: the text holds no character
    /// that is escaped, so an occurrence in the stored bytes is one in the name shown, and it starts with none that
    /// ends an escape (\xHH), so an occurrence in the name shown cannot start within one and end past it.
    /// </summary>
    private readonly record struct Text(string Chars, byte[]? Narrow, bool Exact);

    private (PathFilter? Of, Text[] Texts) _required;
    // the filter's suffix (null: none), set with the required texts
    private Text? _suffix;

    private static Text TextOf(string t)
    {
        bool narrow = t.All(c => c <= 0xFF);
        bool exact = narrow && t.Length > 0 && !t.Any(c => c < 0x20 || c == 0x7f || c == '\\') && !"0123456789abcdefx".Contains(t[0]);
        return new(t, narrow ? System.Text.Encoding.Latin1.GetBytes(t) : null, exact);
    }

    private Text[] Required(PathFilter filter)
    {
        if (ReferenceEquals(_required.Of, filter)) return _required.Texts;
        var texts = filter.Required.Select(TextOf).ToArray();
        _required = (filter, texts);
        _suffix = filter.Suffix is { } end ? TextOf(end) : null;
        return texts;
    }

    /// <summary>Whether a node's name (as shown) ends with a text: on the stored bytes where it can be, as <see cref="Found"/>.</summary>
    private bool EndsWith(int node, Text text)
    {
        var raw = _store.NameBytes(node, out bool wide);
        if (!wide && (text.Exact || raw.IndexOfAny(Escaped) < 0)) return text.Narrow is { } bytes && raw.EndsWith(bytes);
        return ShownName(node).EndsWith(text.Chars, StringComparison.Ordinal);
    }

    /// <summary>
    /// The required texts a node's name (as shown) holds, added to <paramref name="found"/> (a bit each): searched in
    /// the stored bytes where the name is stored one byte a character and shown as it is (nearly every name), with no decoding.
    /// </summary>
    private int Found(int node, Text[] required, int found, char[] buffer)
    {
        var raw = _store.NameBytes(node, out bool wide);
        if (!wide)
        {
            int plain = -1; // whether the name is shown as stored: read when a text asks
            int k = 0;
            for (; k < required.Length; k++)
            {
                if ((found & 1 << k) != 0) continue;
                var text = required[k];
                if (text.Narrow is not { } bytes) continue;
                if (!text.Exact && plain < 0) plain = raw.IndexOfAny(Escaped) < 0 ? 1 : 0;
                if (!text.Exact && plain == 0) break;
                if (raw.IndexOf(bytes) >= 0) found |= 1 << k;
            }
            if (k == required.Length) return found;
        }
        var name = ShownName(node, buffer);
        for (int k = 0; k < required.Length; k++)
            if ((found & 1 << k) == 0 && name.IndexOf(required[k].Chars, StringComparison.Ordinal) >= 0) found |= 1 << k;
        return found;
    }

    /// <summary>
    /// Whether the regex matches within a name read with the '/' around it: a match that starts on the name
    /// (at its end at the latest), so that an assertion sees what is beside the name in the path. One that
    /// starts past the '/' around it (\B before it, say) stands where the path's neighbour name stands.
    /// </summary>
    private bool MatchesAround(Regex regex, ReadOnlySpan<char> name, bool first, bool last)
    {
        var around = Around(name, first, last);
        int start = first ? 0 : 1;
        // the leftmost match from the name's start: when it starts past the name, none starts on it
        foreach (var m in regex.EnumerateMatches(around, start)) return m.Index <= start + name.Length;
        return false;
    }

    private char[] _around = new char[258];

    /// <summary>A name with the '/' around it in a path: before it unless it is the first, after it unless it is the last.</summary>
    private ReadOnlySpan<char> Around(ReadOnlySpan<char> name, bool first, bool last)
    {
        if (_around.Length < name.Length + 2) _around = new char[name.Length + 2];
        int at = 0;
        if (!first) _around[at++] = '/';
        name.CopyTo(_around.AsSpan(at));
        at += name.Length;
        if (!last) _around[at++] = '/';
        return _around.AsSpan(0, at);
    }

    /// <summary>The filter may match across names: the regex is tried on the paths that hold every required text (each found in a name).</summary>
    private void MatchPaths(PathFilter filter)
    {
        var flags = _flags;
        var scratch = _scratch;
        var required = Required(filter);
        var suffix = _suffix;
        int all = (1 << required.Length) - 1;
        bool monotone = filter.Monotone;
        _pathNode = -1;
        for (int i = 1; i < _nodes; i++)
        {
            int own = scratch[i]; // what the name holds (NamesFound)
            scratch[i] = 0;
            if ((flags[i] & StatusMask) == 0) continue;
            int p = _store.Parent(i);
            if (p == TreeStore.None) continue;
            if (monotone && p > 0 && (flags[p] & Matches) != 0)
            {
                flags[i] |= Matches;
                scratch[i] = (byte)all;
                continue;
            }
            int found = (p > 0 ? scratch[p] : 0) | own;
            scratch[i] = (byte)found;
            if (found != all || suffix is { } end && !EndsWith(i, end)) continue;
            int length = PathOf(i);
            if (filter.IsMatch(_path.AsSpan(0, length))) flags[i] |= Matches;
        }
    }

    /// <summary>
    /// Writes a node's path at the start of the path buffer; its length. The path of the directory last
    /// written is kept, so that siblings (numbered together as a layer lists them) each write only their name.
    /// </summary>
    private int PathOf(int node)
    {
        int p = _store.Parent(node);
        int parentLength = p == 0 ? 0 : p == _pathNode ? _pathLength : PathOfDirectory(p);
        int length = WritePath(parentLength, node);
        if (_slot[node] >= 0) (_pathNode, _pathLength) = (node, length);
        else (_pathNode, _pathLength) = (p, parentLength);
        return length;
    }

    /// <summary>Writes a directory's path whole, from the root down (without recursion: a tree may be deeper than any call stack).</summary>
    private int PathOfDirectory(int dir)
    {
        int top = 0;
        for (int a = dir; a > 0; a = _store.Parent(a))
        {
            if (top == _stack.Length) Array.Resize(ref _stack, _stack.Length * 2);
            _stack[top++] = a;
        }
        int length = 0;
        while (top > 0) length = WritePath(length, _stack[--top]);
        return length;
    }

    // ---- the rows: found by their index, made only when asked for ----

    /// <summary>A directory's children sorted by name (the bytes of the names, as the listings sort), sorted once.</summary>
    private int[] ByName(int dir)
    {
        if (_byNameNodes != _store.NodeCount)
        {
            _byName.Clear(); // the load added paths: a directory may have new children
            _byNameNodes = _store.NodeCount;
        }
        if (_byName.TryGetValue(dir, out var sorted)) return sorted;
        int count = 0;
        for (int c = _store.FirstChild(dir); c != TreeStore.None; c = _store.NextSibling(c)) count++;
        sorted = new int[count];
        count = 0;
        for (int c = _store.FirstChild(dir); c != TreeStore.None; c = _store.NextSibling(c)) sorted[count++] = c;
        var store = _store;
        Array.Sort(sorted, store.CompareNames);
        _byName[dir] = sorted;
        return sorted;
    }

    /// <summary>A directory's kept children in the order shown: by name, or by size (largest first) then name.</summary>
    private int[] ShownChildren(int dir)
    {
        if (_shown.TryGetValue(dir, out var kids)) return kids;
        var all = ByName(dir);
        int count = 0;
        foreach (var c in all)
            if (c < _nodes && (_flags[c] & Kept) != 0) count++;
        kids = new int[count];
        count = 0;
        foreach (var c in all)
            if (c < _nodes && (_flags[c] & Kept) != 0) kids[count++] = c;
        if (SortBySize && kids.Length > 1)
        {
            var sizes = new long[kids.Length];
            for (int i = 0; i < kids.Length; i++) sizes[i] = SizeOf(kids[i]);
            var order = new int[kids.Length];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            var store = _store;
            // stable on equal sizes: the names' order, which the kids are already in
            Array.Sort(order, (x, y) => sizes[x] != sizes[y] ? sizes[y].CompareTo(sizes[x]) : x.CompareTo(y));
            var bySize = new int[kids.Length];
            for (int i = 0; i < order.Length; i++) bySize[i] = kids[order[i]];
            kids = bySize;
        }
        _shown[dir] = kids;
        return kids;
    }

    private long SizeOf(int node)
    {
        if ((_flags[node] & IsDir) != 0) return _slot[node] >= 0 ? _size[_slot[node]] : 0;
        StatusOfJudged(node, out int attr);
        return FileBytes(attr);
    }

    /// <summary>The status and attributes as the layout judged them (with its layer and view, whatever was set since).</summary>
    private int StatusOfJudged(int node, out int attr) => StatusOf(node, _judged.Layer, _judged.Aggregate, _judged.Compare, out attr);

    /// <summary>The rows a kept node takes: its own, and its expanded subtree's.</summary>
    private int Span(int node) => 1 + ((_flags[node] & Open) != 0 ? _rowsBelow[_slot[node]] : 0);

    /// <summary>A walk over the rows in order from one of them, the rows' objects made only when asked for.</summary>
    private sealed class Walk(TreeRows rows, bool paths)
    {
        // per level: the directory's shown children, the one at hand, its row (made when asked), and the path's length before it
        private readonly List<(int[] Kids, int Next, TreeRow? Row, int PathLength)> _levels = [];
        private readonly bool _paths = paths;

        public int Node { get; private set; }

        /// <summary>The length of the node's path (as the tree shows it) at the start of the path buffer, when the walk writes paths.</summary>
        public int PathLength { get; private set; }

        /// <summary>Starts at the row <paramref name="index"/> (which must be one).</summary>
        public void Seek(int index)
        {
            _levels.Clear();
            int dir = 0, pathLength = 0;
            while (true)
            {
                var kids = rows.ShownChildren(dir);
                int i = 0;
                for (; i < kids.Length; i++)
                {
                    int span = rows.Span(kids[i]);
                    if (index < span) break;
                    index -= span;
                }
                if (i == kids.Length) throw new ArgumentOutOfRangeException(nameof(index));
                _levels.Add((kids, i, null, pathLength));
                if (index == 0) break;
                index--;
                dir = kids[i];
                pathLength = _paths ? rows.WritePath(pathLength, dir) : 0;
            }
            Arrive();
        }

        private void Arrive()
        {
            var (kids, next, _, pathLength) = _levels[^1];
            Node = kids[next];
            PathLength = _paths ? rows.WritePath(pathLength, Node) : 0;
        }

        /// <summary>Moves to the next row; false after the last.</summary>
        public bool MoveNext()
        {
            if ((rows._flags[Node] & Open) != 0)
            {
                _levels.Add((rows.ShownChildren(Node), 0, null, PathLength));
                Arrive();
                return true;
            }
            while (true)
            {
                var (kids, next, _, pathLength) = _levels[^1];
                if (next + 1 < kids.Length)
                {
                    _levels[^1] = (kids, next + 1, null, pathLength);
                    Arrive();
                    return true;
                }
                _levels.RemoveAt(_levels.Count - 1);
                if (_levels.Count == 0) return false;
            }
        }

        /// <summary>The row at hand, with its parents' rows (for the tree glyphs).</summary>
        public TreeRow Row => RowAt(_levels.Count - 1);

        private TreeRow RowAt(int level)
        {
            // the rows not made yet are the deepest levels': made from the shallowest of them down, without
            // recursion (a tree may be deeper than any call stack)
            int from = level;
            while (from >= 0 && _levels[from].Row is null) from--;
            for (int l = from + 1; l <= level; l++)
            {
                var (kids, next, _, pathLength) = _levels[l];
                var row = rows.MakeRow(kids[next], l, l == 0 ? null : _levels[l - 1].Row, next == kids.Length - 1);
                _levels[l] = (kids, next, row, pathLength);
            }
            return _levels[level].Row!;
        }
    }

    private TreeRow MakeRow(int node, int depth, TreeRow? parent, bool isLast)
    {
        int f = _flags[node];
        StatusOfJudged(node, out int attr);
        var attributes = _store.Attributes(attr);
        long size = (f & IsDir) != 0 ? (_slot[node] >= 0 ? _size[_slot[node]] : 0) : FileBytes(attr);
        return new TreeRow(_store.Node(node), depth, Shown(f), attributes, parent, IsCollapsed(node), size, _opaque.Contains(node))
        {
            IsLast = isLast,
            HasChildren = (f & KeptBelow) != 0,
        };
    }

    // the rows last asked for (a screen's worth and some), made once
    private TreeRow[] _window = [];
    private int _windowStart;
    private const int WindowBefore = 64, WindowRows = 256;

    /// <summary>The row at <paramref name="index"/> of the current layout.</summary>
    public TreeRow RowAt(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (index >= _windowStart && index < _windowStart + _window.Length) return _window[index - _windowStart];
        return _model.Read(_ =>
        {
            int start = Math.Max(0, index - WindowBefore);
            var window = new TreeRow[Math.Min(WindowRows, Count - start)];
            var walk = new Walk(this, paths: false);
            walk.Seek(start);
            for (int i = 0; i < window.Length; i++)
            {
                if (i > 0) walk.MoveNext();
                window[i] = walk.Row;
            }
            (_window, _windowStart) = (window, start);
            return window[index - start];
        });
    }

    /// <summary>The index of a node's row in the current layout, or -1 when it makes none (not kept, or under a folded directory).</summary>
    public int IndexOf(TreeNode node) => _model.Read(_ =>
    {
        int n = node.Number;
        if (n <= 0 || n >= _nodes || !ReferenceEquals(node.Tree, _store) || (_flags[n] & Kept) == 0) return -1;
        var chain = new List<int>();
        for (int a = n; a != 0; a = _store.Parent(a))
        {
            if (a == TreeStore.None || (_flags[a] & Kept) == 0 || (a != n && (_flags[a] & Open) == 0)) return -1;
            chain.Add(a);
        }
        int index = 0, dir = 0;
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            int next = chain[i];
            foreach (var k in ShownChildren(dir))
            {
                if (k == next) break;
                index += Span(k);
            }
            if (i > 0) index++; // the directory's own row
            dir = next;
        }
        return index;
    });

    /// <summary>True when a directory shown is open (its kept rows shown beneath it): "fold all" then folds.</summary>
    public bool AnyOpen() => _model.Read(_ =>
    {
        for (int c = _store.FirstChild(0); c != TreeStore.None; c = _store.NextSibling(c))
            if (c < _nodes && (_flags[c] & (Kept | Open)) == (Kept | Open)) return true;
        return false;
    });

    /// <summary>
    /// The first row from <paramref name="from"/> up to <paramref name="to"/> (exclusive) whose path, as the tree
    /// shows it, contains <paramref name="text"/> (ignoring case), or the last such when <paramref name="last"/>; -1 when none.
    /// </summary>
    public int FindRow(string text, int from, int to, bool last) => from >= to ? -1 : _model.Read(_ =>
    {
        var walk = new Walk(this, paths: true);
        walk.Seek(from);
        int found = -1;
        for (int i = from; i < to; i++)
        {
            if (i > from) walk.MoveNext();
            if (_path.AsSpan(0, walk.PathLength).Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                found = i;
                if (!last) break;
            }
        }
        return found;
    });

    /// <summary>Lays the rows out and makes every one of them (for a small tree, or a test).</summary>
    public List<TreeRow> Build()
    {
        Layout();
        return AllRows();
    }

    /// <summary>Every row of the current layout, made.</summary>
    public List<TreeRow> AllRows() => _model.Read(_ =>
    {
        var all = new List<TreeRow>(Count);
        if (Count == 0) return all;
        var walk = new Walk(this, paths: false);
        walk.Seek(0);
        do all.Add(walk.Row);
        while (walk.MoveNext());
        return all;
    });
}
