using System.Runtime.CompilerServices;

namespace LayerDive.Core.Analysis;

/// <summary>
/// A growable array kept in chunks small enough for the small-object heap: growing it never copies
/// and leaves no large garbage, and an element's reference stays valid.
/// </summary>
internal sealed class ChunkedArray<T>
{
    private const int Shift = 11;
    private const int ChunkLength = 1 << Shift;
    private T[][] _chunks = [];
    private int _count;

    /// <summary>Elements allocated so far (all default until written).</summary>
    public int Capacity => _count << Shift;

    /// <summary>Sets every element back to its default (the chunks stay).</summary>
    public void Clear()
    {
        for (int i = 0; i < _count; i++) Array.Clear(_chunks[i]);
    }

    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int chunk = index >> Shift;
            var chunks = _chunks;
            if ((uint)chunk < (uint)_count) return ref chunks[chunk][index & (ChunkLength - 1)];
            return ref Grow(index);
        }
    }

    private ref T Grow(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        int chunk = index >> Shift;
        if (chunk >= _chunks.Length) Array.Resize(ref _chunks, Math.Max(chunk + 1, _chunks.Length * 2));
        // on the pinned heap, where no collection copies them (a chunk of the tree lives as long as the
        // model: in generation 0 it would be copied twice on its way to generation 2)
        while (_count <= chunk)
            _chunks[_count++] = RuntimeHelpers.IsReferenceOrContainsReferences<T>() ? new T[ChunkLength] : GC.AllocateArray<T>(ChunkLength, pinned: true);
        return ref _chunks[chunk][index & (ChunkLength - 1)];
    }
}

/// <summary>
/// A number for some nodes of a tree, by node number, 0 for the others: in chunks only where the nodes
/// given one lie, all let go by <see cref="Clear"/>. For what one layer touches (its nodes are mostly
/// neighbours: the ones it added), where a table of the whole tree would cost 4 bytes a node for good.
/// </summary>
internal sealed class NodeIntMap
{
    private const int Shift = 11, Mask = (1 << Shift) - 1;
    private int[]?[] _chunks = [];

    public int Get(int node)
    {
        int chunk = node >> Shift;
        return (uint)chunk < (uint)_chunks.Length && _chunks[chunk] is { } c ? c[node & Mask] : 0;
    }

    public void Set(int node, int value)
    {
        int chunk = node >> Shift;
        if ((uint)chunk >= (uint)_chunks.Length)
        {
            if (value == 0) return;
            Array.Resize(ref _chunks, Math.Max(chunk + 1, _chunks.Length * 2));
        }
        var c = _chunks[chunk];
        if (c is null)
        {
            if (value == 0) return;
            _chunks[chunk] = c = new int[1 << Shift];
        }
        c[node & Mask] = value;
    }

    /// <summary>Every node back to 0, the chunks let go.</summary>
    public void Clear() => Array.Clear(_chunks);
}
