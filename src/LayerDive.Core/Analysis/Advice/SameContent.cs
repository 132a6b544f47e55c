using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis.Advice;

/// <summary>
/// The visible copies of each content (its hash and size), in one open table filled as the walk meets
/// them: for each content, the copy kept (the lowest layer's, then the lowest node's), so that every
/// other copy is known to be a duplicate when it is met, without a list of every file to sort. A slot
/// costs 9 bytes (a node, the version's attributes, a tag that spares most probes a look at them), with
/// room for 4/3 of the tree's nodes (a probe reads the tags, a byte each, side by side; grown when 4/5 full).
/// </summary>
internal sealed class SameContent(TreeStore tree)
{
    /// <summary>A duplicate's "same as": the copy kept, known only once the walk is over.</summary>
    public const int Resolve = -2;

    private int _capacity = Math.Max(64, (int)Math.Min(Array.MaxLength / 2, tree.NodeCount * 4L / 3));
    private int _count;
    private byte[] _tags = [];
    private int[] _nodes = [];
    private int[] _attrs = [];

    /// <summary>
    /// Meets a visible copy; returns false when it is the first of its content, else true with the copy
    /// that is not kept (this one, or the one kept until now, when this one is in a lower layer or has a
    /// lower node).
    /// </summary>
    public bool Add(int node, int layer, int attr, long size, UInt128 hash, out int duplicateNode, out int duplicateLayer)
    {
        if (_tags.Length == 0 || _count >= _capacity * 4L / 5) Grow();
        var (slot, tag) = Find(size, hash);
        if (_tags[slot] == 0)
        {
            (_tags[slot], _nodes[slot], _attrs[slot]) = (tag, node, attr);
            _count++;
            duplicateNode = duplicateLayer = -1;
            return false;
        }
        int keptNode = _nodes[slot], keptLayer = LayerOf(keptNode, _attrs[slot]);
        if (layer < keptLayer || layer == keptLayer && node < keptNode)
        {
            (_nodes[slot], _attrs[slot]) = (node, attr);
            (duplicateNode, duplicateLayer) = (keptNode, keptLayer);
        }
        else (duplicateNode, duplicateLayer) = (node, layer);
        return true;
    }

    /// <summary>The node whose copy of this content is kept.</summary>
    public int Kept(long size, UInt128 hash)
    {
        var (slot, _) = Find(size, hash);
        return _tags[slot] == 0 ? throw new InvalidOperationException("a content never met") : _nodes[slot];
    }

    /// <summary>The slot holding this content, or the empty one where it goes; and its tag.</summary>
    private (int Slot, byte Tag) Find(long size, UInt128 hash)
    {
        ulong x = (ulong)hash ^ (ulong)(hash >> 64) ^ (ulong)size * 0x9E3779B97F4A7C15UL;
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 29;
        byte tag = (byte)(x | 1);
        int slot = (int)((x >> 32) * (ulong)_capacity >> 32);
        while (true)
        {
            byte t = _tags[slot];
            if (t == 0 || t == tag && tree.SameContent(_attrs[slot], size, hash)) return (slot, tag);
            if (++slot == _capacity) slot = 0;
        }
    }

    private int LayerOf(int node, int attr)
    {
        for (int i = tree.RecordCount(node) - 1; i >= 0; i--)
            // a removal points at the version it removed: only a present record is the copy
            if (tree.Record(node, i) is var r && r.IsPresent && r.Attr == attr) return r.Layer;
        throw new InvalidOperationException("a kept copy without its record");
    }

    private void Grow()
    {
        var (tags, nodes, attrs) = (_tags, _nodes, _attrs);
        if (tags.Length > 0) _capacity = (int)Math.Min(Array.MaxLength, _capacity * 2L);
        (_tags, _nodes, _attrs) = (new byte[_capacity], new int[_capacity], new int[_capacity]);
        for (int i = 0; i < tags.Length; i++)
        {
            if (tags[i] == 0) continue;
            tree.FileContent(attrs[i], out long size, out var hash, out _);
            var (slot, tag) = Find(size, hash);
            (_tags[slot], _nodes[slot], _attrs[slot]) = (tag, nodes[i], attrs[i]);
        }
    }
}
