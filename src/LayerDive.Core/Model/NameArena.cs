using System.Runtime.InteropServices;
using System.Text;

namespace LayerDive.Core.Model;

/// <summary>
/// The tree's path segments, in 64 KB blocks of bytes: each name is a two-byte header (its length in
/// characters, the top bit set for a wide name) and its characters, one byte each when every
/// character is below U+0100 (nearly every name a layer holds), two bytes each otherwise. A name is
/// an int handle: block &lt;&lt; 16 | offset; the rare name too long for a block is kept as a string,
/// with a negative handle. No object per name.
/// </summary>
internal sealed class NameArena
{
    private const int BlockSize = 1 << 16;
    private const int MaxChars = 0x7FFF;
    private const ushort Wide = 0x8000;

    private readonly List<byte[]> _blocks = [];
    private readonly List<string> _long = [];
    private int _used = BlockSize; // in the last block

    public int Add(ReadOnlySpan<char> name)
    {
        bool wide = name.ContainsAnyInRange((char)0x100, char.MaxValue);
        int size = 2 + (wide ? name.Length * 2 : name.Length);
        if (name.Length > MaxChars || size > BlockSize)
        {
            _long.Add(name.ToString());
            return ~(_long.Count - 1);
        }
        if (_used + size > BlockSize)
        {
            _blocks.Add(new byte[BlockSize]);
            _used = 0;
        }
        int block = _blocks.Count - 1;
        var dest = _blocks[block].AsSpan(_used, size);
        BitConverter.TryWriteBytes(dest, (ushort)(name.Length | (wide ? Wide : 0)));
        if (wide) MemoryMarshal.AsBytes(name).CopyTo(dest[2..]);
        else Encoding.Latin1.GetBytes(name, dest[2..]);
        int handle = block << 16 | _used;
        _used += size;
        return handle;
    }

    // a name's two-byte header (in the machine's order, as written): read in place; BitConverter's array overload is
    // not inlined in the native build, and every lookup of the merge reads one
    private static ushort Header(byte[] block, int at) => MemoryMarshal.Read<ushort>(block.AsSpan(at, 2));

    /// <summary>The name's stored bytes and whether they are two a character (a long name's: its characters').</summary>
    public ReadOnlySpan<byte> Raw(int handle, out bool wide)
    {
        wide = true;
        if (handle < 0) return MemoryMarshal.AsBytes(_long[~handle].AsSpan());
        var block = _blocks[handle >>> 16];
        int at = handle & 0xFFFF;
        ushort header = Header(block, at);
        wide = (header & Wide) != 0;
        int chars = header & MaxChars;
        return block.AsSpan(at + 2, wide ? chars * 2 : chars);
    }

    /// <summary>The name's characters: in <paramref name="scratch"/> (or a new array when it is too short) for a narrow name.</summary>
    public ReadOnlySpan<char> Chars(int handle, Span<char> scratch)
    {
        if (handle < 0) return _long[~handle];
        var raw = Raw(handle, out bool wide);
        if (wide) return MemoryMarshal.Cast<byte, char>(raw);
        var chars = raw.Length <= scratch.Length ? scratch[..raw.Length] : new char[raw.Length];
        Encoding.Latin1.GetChars(raw, chars);
        return chars;
    }

    /// <summary>The name's length in characters.</summary>
    public int Length(int handle) =>
        handle < 0 ? _long[~handle].Length : Header(_blocks[handle >>> 16], handle & 0xFFFF) & MaxChars;

    /// <summary>Writes the name's characters at the start of <paramref name="dest"/>.</summary>
    public void CopyTo(int handle, Span<char> dest)
    {
        var raw = Raw(handle, out bool wide);
        if (wide) MemoryMarshal.Cast<byte, char>(raw).CopyTo(dest);
        else Encoding.Latin1.GetChars(raw, dest);
    }

    public string String(int handle)
    {
        if (handle < 0) return _long[~handle];
        var raw = Raw(handle, out bool wide);
        return wide ? new string(MemoryMarshal.Cast<byte, char>(raw)) : Encoding.Latin1.GetString(raw);
    }

    public bool NameEquals(int handle, ReadOnlySpan<char> name)
    {
        if (handle < 0) return name.SequenceEqual(_long[~handle]);
        var raw = Raw(handle, out bool wide);
        if (wide) return MemoryMarshal.Cast<byte, char>(raw).SequenceEqual(name);
        if (raw.Length != name.Length) return false;
        for (int i = 0; i < raw.Length; i++)
            if (raw[i] != name[i]) return false;
        return true;
    }

    /// <summary>The order of the names' UTF-8 bytes (the order listings sort by).</summary>
    public int Compare(int a, int b)
    {
        if (a >= 0 && b >= 0)
        {
            var x = Raw(a, out bool wa);
            var y = Raw(b, out bool wb);
            // Latin-1 bytes order as their code points, which order as their UTF-8 bytes
            if (!wa && !wb) return x.SequenceCompareTo(y);
        }
        Span<char> sa = stackalloc char[256], sb = stackalloc char[256];
        return PathText.CompareUtf8(Chars(a, sa), Chars(b, sb));
    }
}
