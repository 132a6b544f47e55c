namespace LayerDive.Core.Analysis;

/// <summary>
/// A growable array kept in chunks small enough for the small-object heap: growing it never copies
/// and leaves no large garbage, and an element's reference stays valid.
/// </summary>
internal sealed class ChunkedArray<T>
{
    private const int Shift = 11;
    private const int ChunkLength = 1 << Shift;
    private readonly List<T[]> _chunks = [];

    /// <summary>Elements allocated so far (all default until written).</summary>
    public int Capacity => _chunks.Count << Shift;

    /// <summary>Sets every element back to its default (the chunks stay).</summary>
    public void Clear()
    {
        foreach (var chunk in _chunks) Array.Clear(chunk);
    }

    public ref T this[int index]
    {
        get
        {
            int chunk = index >> Shift;
            while (chunk >= _chunks.Count) _chunks.Add(new T[ChunkLength]);
            return ref _chunks[chunk][index & (ChunkLength - 1)];
        }
    }
}
