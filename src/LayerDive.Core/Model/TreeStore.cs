using System.Numerics;
using System.Runtime.InteropServices;
using LayerDive.Core.Analysis;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Model;

/// <summary>
/// The one shared tree, kept in arrays addressed by index: no object per path, per record or per
/// version of a path's attributes, so the tree costs a few dozen bytes an entry and the garbage
/// collector has next to nothing to trace (docs/model.md gives the layout field by field).
/// <list type="bullet">
/// <item>Nodes (24 bytes): parent, name, next sibling, the first history record inline (its layer
/// and attributes: a first record is always an addition), and where the rest of the history is; a
/// directory's first child in a table of directories.</item>
/// <item>History records beyond a path's first (12 bytes each) in slabs of a shared pool, a
/// header record and a power-of-two capacity; a slab outgrown is reused by a later path.</item>
/// <item>Attributes (32 bytes), one per version a layer wrote (a removal points at the version it
/// removed); what few entries have (link targets, devices, a hardlink's identity) lives aside.</item>
/// <item>Names in a <see cref="NameArena"/>; a child is found by (parent, name) in one
/// open-addressing table of node indices over the whole tree (at most 3/4 full), hashed with the
/// runtime's randomised string hash so that a crafted image cannot make lookups quadratic.</item>
/// </list>
/// Written by the merge only; read by anyone once a layer is merged (the model's lock orders the two).
/// </summary>
internal sealed class TreeStore
{
    public const int None = -1;

    private struct NodeData
    {
        public int Parent;
        public int Name;
        public int NextSibling;
        public int Attr0;   // the first record's attributes (None: no history)
        public int Layer0;  // the first record's layer
        public int More;    // the slab of the later records (None: none)
    }

    /// <summary>A history record as the tree keeps it (12 bytes).</summary>
    internal struct RecordData
    {
        public int Attr;
        public int Layer;
        public ChangeKind Kind;
        public RemovalCause Cause;
        public AttributeChange Changed;

        public readonly bool IsPresent => Kind != ChangeKind.Removed;
    }

    /// <summary>
    /// A version of a path's attributes (32 bytes). Sizes and times up to 2^32 - 1 and owners up to
    /// 65535 (nearly all) are kept here; a version with a larger one keeps all four aside in _wide.
    /// </summary>
    private struct PackedAttributes
    {
        public uint Hash0, Hash1, Hash2, Hash3;
        public uint Size;
        public uint MTime;
        public int Flags; // mode (12 bits) | type << 12 | the bits below
        public ushort Uid;
        public ushort Gid;
    }

    /// <summary>
    /// What a symlink or a hardlink adds to its version (16 bytes): the targets' handles in the target
    /// arena (or None) and a hardlink's content identity. Symlinks and hardlinks are a tenth of the paths
    /// of a distribution's image; an object and a string each would cost them 200 bytes a path.
    /// </summary>
    private struct LinkData
    {
        public int LinkTarget;
        public int HardlinkTarget;
        public long Inode;
    }

    // a target handle's "none" (a long target's handle is negative: ~its index)
    private const int NoTarget = int.MinValue;
    private const int TypeShift = 12, NativeBit = 1 << 16, ImplicitBit = 1 << 17, RareBit = 1 << 18, WideBit = 1 << 19, LinkBit = 1 << 20;

    private readonly ChunkedArray<NodeData> _nodes = new();
    private readonly ChunkedArray<RecordData> _records = new();
    private readonly ChunkedArray<PackedAttributes> _attributes = new();
    // the rare attributes: a link's targets packed, and the rarer still (device numbers, a SHA-256 asked
    // for, a header size off the rule) as they came
    private readonly LinkTable _links = new();
    private readonly NameArena _targets = new();
    private readonly Dictionary<int, RareAttributes> _rare = [];
    private readonly Dictionary<int, (long Size, long MTime, int Uid, int Gid)> _wide = [];
    private readonly NameArena _names = new();
    // a directory's first child, for the directories that have one: most paths are files, which would
    // carry the field for nothing
    private readonly Dictionary<int, int> _firstChild = [];
    // slabs given up when a history outgrew them, by log2 of their capacity
    private readonly Stack<int>?[] _freeSlabs = new Stack<int>?[32];
    // a slot: the node's index + 1 in the low bits (0 is empty), the top bits of its hash above them
    private uint[] _table = new uint[16];
    private const uint NodeMask = (1u << 27) - 1, TagMask = ~NodeMask;
    private const int MaxNodes = (1 << 27) - 2;
    private int _tableCount;
    private int _recordsUsed;
    private int _attributeCount;

    // recently met names, by hash: a repeated name (bin, lib, __init__.py) is stored once however many directories hold it
    private readonly int[] _recentNames = new int[1 << 13];

    public TreeStore()
    {
        Array.Fill(_recentNames, None);
        NodeCount = 1;
        _nodes[0] = new NodeData { Parent = None, Name = _names.Add(""), NextSibling = None, Attr0 = None, More = None };
    }

    /// <summary>True once a version that is a hardlink was added (most images have none: their analyses skip looking).</summary>
    public bool HasHardlinks { get; private set; }

    /// <summary>Nodes made so far (the root is 0): one more than the highest <see cref="TreeNode.Number"/>.</summary>
    public int NodeCount { get; private set; }

    /// <summary>The versions of attributes kept (an attribute index is below it).</summary>
    public int AttributeCount => _attributeCount;

    public TreeNode Node(int index) => new(this, index);

    // ---- names and children ----

    public int Parent(int node) => _nodes[node].Parent;

    public string Name(int node) => _names.String(_nodes[node].Name);

    public ReadOnlySpan<char> NameChars(int node, Span<char> scratch) => _names.Chars(_nodes[node].Name, scratch);

    /// <summary>The name as stored: one byte a character (Latin-1) unless <paramref name="wide"/> (UTF-16); the explorer's filter reads it without decoding.</summary>
    public ReadOnlySpan<byte> NameBytes(int node, out bool wide) => _names.Raw(_nodes[node].Name, out wide);

    /// <summary>The node's name's length in characters.</summary>
    public int NameLength(int node) => _names.Length(_nodes[node].Name);

    public int CompareNames(int a, int b) => _names.Compare(_nodes[a].Name, _nodes[b].Name);

    /// <summary>The node's names from the root's child down, joined by '/' ("" for the root): one string, made in place.</summary>
    public string Path(int node) =>
        node == 0 ? "" : string.Create(PathLength(node), (Store: this, Node: node), static (path, s) => s.Store.CopyPath(s.Node, path));

    /// <summary>The length of <see cref="Path"/>.</summary>
    public int PathLength(int node)
    {
        int length = -1;
        for (int n = node; n > 0; n = _nodes[n].Parent) length += _names.Length(_nodes[n].Name) + 1;
        return Math.Max(length, 0);
    }

    /// <summary>Writes <see cref="Path"/> into <paramref name="path"/>, which is <see cref="PathLength"/> long.</summary>
    public void CopyPath(int node, Span<char> path)
    {
        int end = path.Length;
        for (int n = node; n > 0; n = _nodes[n].Parent)
        {
            int name = _nodes[n].Name, length = _names.Length(name);
            end -= length;
            _names.CopyTo(name, path.Slice(end, length));
            if (end > 0) path[--end] = '/';
        }
    }

    /// <summary>
    /// The order of string.CompareOrdinal over the two nodes' paths (UTF-16 code units, a prefix
    /// first), found from the names where the paths part, without making either path.
    /// </summary>
    public int ComparePathsOrdinal(int a, int b) => a == b ? 0 : ComparePathsOrdinal(a, Depth(a), b, Depth(b));

    /// <summary>
    /// <see cref="ComparePathsOrdinal(int, int)"/> with the two depths known (<see cref="Depth"/>): a sort
    /// of many paths counts each depth once, not at every comparison.
    /// </summary>
    public int ComparePathsOrdinal(int a, int depthA, int b, int depthB)
    {
        if (a == b) return 0;
        int x = a, y = b;
        for (int d = depthA; d > depthB; d--) x = _nodes[x].Parent;
        for (int d = depthB; d > depthA; d--) y = _nodes[y].Parent;
        if (x == y) return depthA.CompareTo(depthB); // one path is the other's ancestor: a prefix of it
        while (_nodes[x].Parent != _nodes[y].Parent)
            (x, y) = (_nodes[x].Parent, _nodes[y].Parent);
        // siblings, so their names differ: the first character that differs decides, where one name is
        // a prefix of the other the character after it ('/' when the path goes on, nothing when it ends)
        int endX = x == a ? -1 : '/', endY = y == b ? -1 : '/';
        var rawX = _names.Raw(_nodes[x].Name, out bool wideX);
        var rawY = _names.Raw(_nodes[y].Name, out bool wideY);
        if (!wideX && !wideY)
        {
            // one byte a character (below U+0100) in both: the bytes are the characters
            int same = rawX.CommonPrefixLength(rawY);
            return (same < rawX.Length ? rawX[same] : endX).CompareTo(same < rawY.Length ? rawY[same] : endY);
        }
        Span<char> scratchX = stackalloc char[256], scratchY = stackalloc char[256];
        var nameX = NameChars(x, scratchX);
        var nameY = NameChars(y, scratchY);
        int common = nameX.CommonPrefixLength(nameY);
        return (common < nameX.Length ? nameX[common] : endX).CompareTo(common < nameY.Length ? nameY[common] : endY);
    }

    /// <summary>How many names the path has (the root's depth is 0).</summary>
    public int Depth(int node)
    {
        int depth = 0;
        for (int n = node; n > 0; n = _nodes[n].Parent) depth++;
        return depth;
    }

    /// <summary>
    /// Writes <see cref="Path"/> into <paramref name="path"/> a byte a character, which is <see cref="PathLength"/>
    /// long, where every name on the way is narrow (below U+0100: then the bytes order as the characters do);
    /// false, and nothing sure written, where one is not.
    /// </summary>
    public bool CopyNarrowPath(int node, Span<byte> path)
    {
        int end = path.Length;
        for (int n = node; n > 0; n = _nodes[n].Parent)
        {
            var name = _names.Raw(_nodes[n].Name, out bool wide);
            if (wide) return false;
            end -= name.Length;
            name.CopyTo(path[end..]);
            if (end > 0) path[--end] = (byte)'/';
        }
        return true;
    }

    public int FirstChild(int node) => _firstChild.TryGetValue(node, out int first) ? first : None;

    /// <summary>The nodes that have a child (in no particular order): a tenth of a distribution's paths, read without a lookup for each of the rest.</summary>
    public Dictionary<int, int>.KeyCollection WithChildren => _firstChild.Keys;

    public int NextSibling(int node) => _nodes[node].NextSibling;

    public int ChildCount(int node)
    {
        int count = 0;
        for (int c = FirstChild(node); c != None; c = _nodes[c].NextSibling) count++;
        return count;
    }

    /// <summary>The hash of a name that <see cref="FindChild(int, ReadOnlySpan{char}, int)"/> and <see cref="AddChild(int, ReadOnlySpan{char}, int)"/> take, to hash it once for both.</summary>
    public static int NameHash(ReadOnlySpan<char> name) => string.GetHashCode(name);

    public int FindChild(int parent, ReadOnlySpan<char> name) => FindChild(parent, name, NameHash(name));

    public int FindChild(int parent, ReadOnlySpan<char> name, int nameHash)
    {
        int hash = Mix(nameHash, parent);
        uint tag = (uint)hash & TagMask;
        var table = _table;
        int mask = table.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            uint slot = table[i];
            if (slot == 0) return None;
            // the slot's tag (bits of the hash) spares a look at most nodes that are not the one
            if ((slot & TagMask) != tag) continue;
            int index = (int)(slot & NodeMask) - 1;
            ref var n = ref _nodes[index];
            if (n.Parent == parent && _names.NameEquals(n.Name, name)) return index;
        }
    }

    /// <summary>Asks for the table slot where <see cref="FindChild(int, ReadOnlySpan{char}, int)"/> will start, so that the lookup need not wait for memory.</summary>
    public unsafe void Prefetch(int parent, int nameHash)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        var table = _table;
        fixed (uint* slots = table) System.Runtime.Intrinsics.X86.Sse.Prefetch0(slots + (Mix(nameHash, parent) & (table.Length - 1)));
    }

    public int AddChild(int parent, ReadOnlySpan<char> name) => AddChild(parent, name, NameHash(name));

    /// <summary>Makes a child called <paramref name="name"/> (which must not be one yet); its number is the next.</summary>
    public int AddChild(int parent, ReadOnlySpan<char> name, int nameHash)
    {
        if (NodeCount == MaxNodes)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Tree_TooManyPaths, MaxNodes));
        int index = NodeCount++;
        ref int first = ref CollectionsMarshal.GetValueRefOrAddDefault(_firstChild, parent, out bool had);
        _nodes[index] = new NodeData
        {
            Parent = parent, Name = Intern(name, nameHash), NextSibling = had ? first : None,
            Attr0 = None, More = None,
        };
        first = index;
        if ((_tableCount + 1) * 4 > _table.Length * 3) Rehash(_table.Length * 2);
        Insert(_table, index, Mix(nameHash, parent));
        _tableCount++;
        return index;
    }

    /// <summary>Takes a node without history out of its directory (its number is not reused).</summary>
    public void RemoveChild(int node)
    {
        ref var n = ref _nodes[node];
        if (n.Parent == None) return;
        ref int first = ref CollectionsMarshal.GetValueRefOrNullRef(_firstChild, n.Parent);
        if (first == node)
        {
            if (n.NextSibling == None) _firstChild.Remove(n.Parent);
            else first = n.NextSibling;
        }
        else
        {
            int c = first;
            while (_nodes[c].NextSibling != node) c = _nodes[c].NextSibling;
            _nodes[c].NextSibling = n.NextSibling;
        }
        var table = _table;
        int mask = table.Length - 1;
        Span<char> scratch = stackalloc char[256];
        int i = HashOf(node, scratch) & mask;
        while ((table[i] & NodeMask) != node + 1) i = (i + 1) & mask;
        // backward shift: move up each later entry of the run whose home is not between the hole and it
        table[i] = 0;
        for (int j = (i + 1) & mask; table[j] != 0; j = (j + 1) & mask)
        {
            int home = HashOf((int)(table[j] & NodeMask) - 1, scratch) & mask;
            bool stays = i <= j ? i < home && home <= j : i < home || home <= j;
            if (stays) continue;
            table[i] = table[j];
            table[j] = 0;
            i = j;
        }
        _tableCount--;
        n.Parent = None;
        n.NextSibling = None;
    }

    private int Intern(ReadOnlySpan<char> name, int nameHash)
    {
        ref int slot = ref _recentNames[nameHash & (_recentNames.Length - 1)];
        if (slot != None && _names.NameEquals(slot, name)) return slot;
        return slot = _names.Add(name);
    }

    private static int Mix(int nameHash, int parent) => nameHash ^ (int)BitOperations.RotateLeft((uint)parent * 0x9E3779B1u, 15);

    private int HashOf(int node, Span<char> scratch) => Mix(NameHash(NameChars(node, scratch)), _nodes[node].Parent);

    private unsafe void Rehash(int size)
    {
        var table = new uint[size];
        // one scratch for every name (a stackalloc a node would clear 512 bytes a node)
        Span<char> scratch = stackalloc char[256];
        // Each node lands at a random place in a table larger than the caches, so each insert would wait
        // for memory: the hashes are worked out a few nodes ahead and their slots fetched meanwhile (a
        // rehash took 4.7% of --ci's CPU on the synthetic 1e6/50 image, almost all of it those waits)
        const int Ahead = 16;
        Span<int> ahead = stackalloc int[Ahead];
        int mask = size - 1;
        fixed (uint* slots = table)
        {
            for (int i = 1; i < NodeCount + Ahead; i++)
            {
                // the node Ahead behind goes in first: its hash is in the place this one's takes
                int j = i - Ahead;
                if (j >= 1 && _nodes[j].Parent != None) Insert(table, j, ahead[j % Ahead]);
                if (i < NodeCount && _nodes[i].Parent != None)
                {
                    int hash = HashOf(i, scratch);
                    ahead[i % Ahead] = hash;
                    if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(slots + (hash & mask));
                }
            }
        }
        _table = table;
    }

    private static void Insert(uint[] table, int node, int hash)
    {
        int mask = table.Length - 1;
        int i = hash & mask;
        while (table[i] != 0) i = (i + 1) & mask;
        table[i] = (uint)(node + 1) | ((uint)hash & TagMask);
    }

    // ---- histories ----

    public int RecordCount(int node)
    {
        ref var n = ref _nodes[node];
        return n.Attr0 == None ? 0 : 1 + (n.More == None ? 0 : _records[n.More].Attr);
    }

    public RecordData Record(int node, int i)
    {
        ref var n = ref _nodes[node];
        return i == 0 ? new RecordData { Attr = n.Attr0, Layer = n.Layer0, Kind = ChangeKind.Added } : _records[n.More + i];
    }

    public bool TryLast(int node, out RecordData last)
    {
        int count = RecordCount(node);
        last = count == 0 ? default : Record(node, count - 1);
        return count > 0;
    }

    /// <summary>The record in force after <paramref name="layer"/>.</summary>
    public bool TryStateAt(int node, int layer, out RecordData state)
    {
        for (int i = RecordCount(node) - 1; i >= 0; i--)
        {
            state = Record(node, i);
            if (state.Layer <= layer) return true;
        }
        state = default;
        return false;
    }

    /// <summary>The record layer <paramref name="layer"/> wrote.</summary>
    public bool TryRecordIn(int node, int layer, out RecordData record)
    {
        for (int i = RecordCount(node) - 1; i >= 0; i--)
        {
            record = Record(node, i);
            if (record.Layer == layer) return true;
            if (record.Layer < layer) break;
        }
        record = default;
        return false;
    }

    public void Push(int node, in RecordData record)
    {
        ref var n = ref _nodes[node];
        if (n.Attr0 == None)
        {
            // a path's first record is always an addition: nothing was there below
            if (record.Kind != ChangeKind.Added || record.Cause != RemovalCause.None || record.Changed != AttributeChange.None)
                throw new InvalidOperationException("a history must begin with an addition");
            n.Attr0 = record.Attr;
            n.Layer0 = record.Layer;
            return;
        }
        if (n.More == None) n.More = NewSlab(1);
        int count = _records[n.More].Attr, capacity = _records[n.More].Layer;
        if (count == capacity)
        {
            int grown = NewSlab(capacity * 2);
            for (int i = 1; i <= count; i++) _records[grown + i] = _records[n.More + i];
            FreeSlab(n.More, capacity);
            n.More = grown;
        }
        _records[n.More + count + 1] = record;
        _records[n.More].Attr = count + 1;
    }

    public void Pop(int node)
    {
        ref var n = ref _nodes[node];
        if (n.More != None && _records[n.More].Attr > 0) _records[n.More].Attr--;
        else n.Attr0 = None;
    }

    private int NewSlab(int capacity)
    {
        int log = BitOperations.Log2((uint)capacity);
        int slab;
        if (_freeSlabs[log] is { Count: > 0 } free) slab = free.Pop();
        else
        {
            slab = _recordsUsed;
            _recordsUsed += capacity + 1;
        }
        _records[slab] = new RecordData { Attr = 0, Layer = capacity };
        return slab;
    }

    private void FreeSlab(int slab, int capacity) => (_freeSlabs[BitOperations.Log2((uint)capacity)] ??= new()).Push(slab);

    public ChangeRecord ToChangeRecord(in RecordData r) => new(r.Layer, r.Kind, Attributes(r.Attr), r.Cause, r.Changed);

    // ---- attributes ----

    public int AddAttributes(in EntryAttributes a)
    {
        int index = _attributeCount++;
        int flags = (a.Mode & 0xFFF) | (int)a.Type << TypeShift | (a.OverlayNativeMarker ? NativeBit : 0) | (a.Implicit ? ImplicitBit : 0);
        var fields = a.RareFields;
        // a hardlink's identity is the one the merge gave it (its target's)
        long inode = fields is not null && a.HardlinkTarget is not null && a.Inode != 0 ? a.Inode : fields?.Inode ?? 0;
        if (fields is { Sha256: null, DevMajor: 0, DevMinor: 0, HeaderSize: null })
        {
            _links.Add(index, new LinkData
            {
                LinkTarget = fields.LinkTarget is { } link ? _targets.Add(link) : NoTarget,
                HardlinkTarget = fields.HardlinkTarget is { } hardlink ? _targets.Add(hardlink) : NoTarget,
                Inode = inode,
            });
            flags |= LinkBit;
            if (fields.HardlinkTarget is not null) HasHardlinks = true;
        }
        else if (fields is not null)
        {
            if (fields.Inode != inode)
            {
                fields = fields.Clone();
                fields.Inode = inode;
            }
            _rare[index] = fields;
            flags |= RareBit;
            if (fields.HardlinkTarget is not null) HasHardlinks = true;
        }
        if ((ulong)a.Size > uint.MaxValue || (ulong)a.MTime > uint.MaxValue || (uint)a.Uid > ushort.MaxValue || (uint)a.Gid > ushort.MaxValue)
        {
            _wide[index] = (a.Size, a.MTime, a.Uid, a.Gid);
            flags |= WideBit;
        }
        var hash = a.ContentHash;
        _attributes[index] = new PackedAttributes
        {
            Hash0 = (uint)hash, Hash1 = (uint)(hash >> 32), Hash2 = (uint)(hash >> 64), Hash3 = (uint)(hash >> 96),
            Size = (uint)a.Size, MTime = (uint)a.MTime, Uid = (ushort)a.Uid, Gid = (ushort)a.Gid, Flags = flags,
        };
        return index;
    }

    /// <summary>
    /// Whether <see cref="Attributes"/> reads this version from its packed record alone (no hardlink, link
    /// target, rare or wide field): then another thread may read it while the merge goes on, the records
    /// written being left as they are (the tables beside them are not safe to read so).
    /// </summary>
    public bool IsPlain(int index) => (_attributes[index].Flags & (RareBit | LinkBit | WideBit)) == 0;

    public EntryAttributes Attributes(int index)
    {
        ref var p = ref _attributes[index];
        var rare = (p.Flags & RareBit) != 0 ? _rare[index] : (p.Flags & LinkBit) != 0 ? Unpack(_links[index]) : null;
        var (size, mtime, uid, gid) = (p.Flags & WideBit) != 0 ? _wide[index] : (p.Size, p.MTime, p.Uid, p.Gid);
        var type = (FileType)((p.Flags >> TypeShift) & 0xF);
        return new EntryAttributes
        {
            Type = type, Mode = p.Flags & 0xFFF, Uid = uid, Gid = gid, Size = size, MTime = mtime,
            ContentHash = HashOf(p),
            // a file's identity is its version's index; a hardlink keeps its target's
            Inode = type != FileType.File ? 0 : rare is { Inode: not 0 } ? rare.Inode : index + 1L,
            OverlayNativeMarker = (p.Flags & NativeBit) != 0, Implicit = (p.Flags & ImplicitBit) != 0,
            RareFields = rare,
        };
    }

    /// <summary>
    /// The links' packed targets, in the order of their versions, found by a version's rank among the links:
    /// a bit a version marks a link, and each word of 64 versions knows the links before it, so a lookup is
    /// two reads and a count of bits (a link costs its 16 bytes and every version 1.5 bits, where a
    /// dictionary took 36 bytes a link and, as it doubled, held its old entries beside the new).
    /// </summary>
    private sealed class LinkTable
    {
        private readonly ChunkedArray<ulong> _marks = new();
        private readonly ChunkedArray<int> _before = new();
        private readonly ChunkedArray<LinkData> _data = new();
        private int _count, _words;

        /// <summary>Versions come in the order of their indices: the words up to this one learn the links before them.</summary>
        public void Add(int version, in LinkData link)
        {
            for (int word = version >> 6; _words <= word; _words++) _before[_words] = _count;
            _marks[version >> 6] |= 1UL << version;
            _data[_count++] = link;
        }

        public ref LinkData this[int version] =>
            ref _data[_before[version >> 6] + BitOperations.PopCount(_marks[version >> 6] & ((1UL << version) - 1))];
    }

    private RareAttributes Unpack(in LinkData link) => new()
    {
        LinkTarget = link.LinkTarget == NoTarget ? null : _targets.String(link.LinkTarget),
        HardlinkTarget = link.HardlinkTarget == NoTarget ? null : _targets.String(link.HardlinkTarget),
        Inode = link.Inode,
    };

    /// <summary>
    /// A version's facts as a walk over every file needs them, without building its attributes: true
    /// when it is a regular file with content of its own (not a hardlink to another name), with its
    /// size, content hash and identity as <see cref="Attributes"/> gives them.
    /// </summary>
    public bool FileContent(int attr, out long size, out UInt128 hash, out long inode)
    {
        ref var p = ref _attributes[attr];
        (size, hash, inode) = (0, default, 0);
        if ((FileType)((p.Flags >> TypeShift) & 0xF) != FileType.File || IsHardlink(attr, p.Flags)) return false;
        (size, hash, inode) = (SizeOf(attr, p), HashOf(p), InodeOf(attr));
        return true;
    }

    /// <summary>True when a file version holds this content (its hash and size).</summary>
    public bool SameContent(int attr, long size, UInt128 hash)
    {
        ref var p = ref _attributes[attr];
        return HashOf(p) == hash && SizeOf(attr, p) == size;
    }

    /// <summary>A version's identity as <see cref="Attributes"/> gives it (0 for anything but a file).</summary>
    public long InodeOf(int attr)
    {
        ref var p = ref _attributes[attr];
        if ((FileType)((p.Flags >> TypeShift) & 0xF) != FileType.File) return 0;
        long known = (p.Flags & RareBit) != 0 ? _rare[attr].Inode : (p.Flags & LinkBit) != 0 ? _links[attr].Inode : 0;
        return known != 0 ? known : attr + 1L;
    }

    /// <summary>True when the version is a file written as a hardlink (<see cref="EntryAttributes.HardlinkTarget"/> set), without building its attributes.</summary>
    public bool IsHardlinkFile(int attr)
    {
        int flags = _attributes[attr].Flags;
        return (FileType)((flags >> TypeShift) & 0xF) == FileType.File && IsHardlink(attr, flags);
    }

    /// <summary>True when the version has this mode (its 12 bits), owner and group, read without building its attributes.</summary>
    public bool HasModeAndOwner(int attr, int mode, int uid, int gid)
    {
        ref var p = ref _attributes[attr];
        if ((p.Flags & 0xFFF) != (mode & 0xFFF)) return false;
        var (u, g) = (p.Flags & WideBit) != 0 ? (_wide[attr].Uid, _wide[attr].Gid) : (p.Uid, p.Gid);
        return u == uid && g == gid;
    }

    private bool IsHardlink(int attr, int flags) =>
        (flags & RareBit) != 0 ? _rare[attr].HardlinkTarget is not null : (flags & LinkBit) != 0 && _links[attr].HardlinkTarget != NoTarget;

    private static UInt128 HashOf(in PackedAttributes p) => new((ulong)p.Hash3 << 32 | p.Hash2, (ulong)p.Hash1 << 32 | p.Hash0);

    private long SizeOf(int attr, in PackedAttributes p) => (p.Flags & WideBit) != 0 ? _wide[attr].Size : p.Size;

    public FileType TypeOf(int attr) => (FileType)((_attributes[attr].Flags >> TypeShift) & 0xF);

    public bool IsDirectory(int attr) => TypeOf(attr) == FileType.Directory;
}
