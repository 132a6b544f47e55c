using System.Numerics;

namespace LayerDive.Core.Model;

/// <summary>
/// A directory's children, keyed by name, in one array of node references: up to
/// <see cref="LinearLimit"/> children in the order they came, scanned; more in an open-addressing
/// table (linear probing, at most 3/4 full, removal by backward shift). About 11-21 bytes a child
/// against 28-46 for a <see cref="Dictionary{TKey,TValue}"/> (which also stores each key and hash
/// beside the value); the tree has one of these per directory, so this is per-entry memory.
/// Names are hashed with the runtime's randomised string hash, so a crafted image cannot make
/// lookups quadratic; the table's order is therefore no order at all (callers sort).
/// </summary>
internal struct ChildSet
{
    private const int LinearLimit = 8;

    private TreeNode?[]? _slots;
    private int _count;

    public readonly int Count => _count;

    private readonly bool Hashed => _slots!.Length > LinearLimit;

    public readonly TreeNode? Find(ReadOnlySpan<char> name)
    {
        var slots = _slots;
        if (slots is null) return null;
        if (slots.Length <= LinearLimit)
        {
            for (int i = 0; i < _count; i++)
                if (slots[i]!.Name.AsSpan().SequenceEqual(name)) return slots[i];
            return null;
        }
        int mask = slots.Length - 1;
        for (int i = Hash(name) & mask; ; i = (i + 1) & mask)
        {
            var s = slots[i];
            if (s is null) return null;
            if (s.Name.AsSpan().SequenceEqual(name)) return s;
        }
    }

    /// <summary>Adds a child whose name is not in the set yet.</summary>
    public void Add(TreeNode node)
    {
        if (_slots is null) _slots = new TreeNode?[1];
        else if (_slots.Length <= LinearLimit ? _count == _slots.Length : (_count + 1) * 4 > _slots.Length * 3) Grow();
        if (Hashed) Insert(_slots, node);
        else _slots[_count] = node;
        _count++;
    }

    public void Remove(TreeNode node)
    {
        var slots = _slots;
        if (slots is null) return;
        if (!Hashed)
        {
            int at = Array.IndexOf(slots, node);
            if (at < 0) return;
            _count--;
            Array.Copy(slots, at + 1, slots, at, slots.Length - at - 1);
            slots[^1] = null;
            return;
        }
        int mask = slots.Length - 1;
        int i = Hash(node.Name) & mask;
        while (slots[i] != node)
        {
            if (slots[i] is null) return;
            i = (i + 1) & mask;
        }
        _count--;
        // backward shift: move up each later entry of the run whose home is not between the hole and it
        slots[i] = null;
        for (int j = (i + 1) & mask; slots[j] is { } s; j = (j + 1) & mask)
        {
            int home = Hash(s.Name) & mask;
            bool stays = i <= j ? i < home && home <= j : i < home || home <= j;
            if (stays) continue;
            slots[i] = s;
            slots[j] = null;
            i = j;
        }
    }

    public readonly IEnumerable<TreeNode> All
    {
        get
        {
            var slots = _slots;
            if (slots is null) return [];
            return Iterate(slots);

            static IEnumerable<TreeNode> Iterate(TreeNode?[] slots)
            {
                foreach (var s in slots)
                    if (s is not null) yield return s;
            }
        }
    }

    /// <summary>Shrinks the array to what the children need (after the merge).</summary>
    public void TrimExcess()
    {
        if (_slots is null) return;
        int size = SizeFor(_count);
        if (size == _slots.Length) return;
        Resize(size);
    }

    private void Grow() => Resize(_slots!.Length * 2);

    private void Resize(int size)
    {
        var old = _slots!;
        if (size <= LinearLimit)
        {
            var list = new TreeNode?[size];
            int k = 0;
            foreach (var s in old)
                if (s is not null) list[k++] = s;
            _slots = list;
            return;
        }
        var table = new TreeNode?[size];
        foreach (var s in old)
            if (s is not null) Insert(table, s);
        _slots = table;
    }

    /// <summary>The smallest array that holds <paramref name="count"/> children: a power of two, at most 3/4 full when hashed.</summary>
    private static int SizeFor(int count)
    {
        if (count <= LinearLimit) return Math.Max(1, (int)BitOperations.RoundUpToPowerOf2((uint)count));
        return (int)BitOperations.RoundUpToPowerOf2((uint)((count * 4 + 2) / 3));
    }

    private static void Insert(TreeNode?[] table, TreeNode node)
    {
        int mask = table.Length - 1;
        int i = Hash(node.Name) & mask;
        while (table[i] is not null) i = (i + 1) & mask;
        table[i] = node;
    }

    private static int Hash(ReadOnlySpan<char> name) => string.GetHashCode(name);
}
