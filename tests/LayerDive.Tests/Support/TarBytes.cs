using System.Text;

namespace LayerDive.Tests.Support;

/// <summary>Edits of raw tar headers, for archives no well-behaved writer makes.</summary>
public static class TarBytes
{
    public const int TypeFlagOffset = 156;
    public const int SizeOffset = 124;
    public const int ChecksumOffset = 148;

    /// <summary>Sets the type flag of the header at <paramref name="header"/> and fixes its checksum.</summary>
    public static byte[] SetTypeFlag(byte[] tar, char flag, int header = 0)
    {
        var copy = (byte[])tar.Clone();
        copy[header + TypeFlagOffset] = (byte)flag;
        return FixChecksum(copy, header);
    }

    /// <summary>Declares <paramref name="size"/> bytes in the header's size field (base-256 when it does not fit octal).</summary>
    public static byte[] SetSize(byte[] tar, long size, int header = 0)
    {
        var copy = (byte[])tar.Clone();
        var field = copy.AsSpan(header + SizeOffset, 12);
        field.Clear();
        field[0] = 0x80;
        for (int i = 11; i >= 1; i--, size >>= 8) field[i] = (byte)(size & 0xff);
        return FixChecksum(copy, header);
    }

    /// <summary>Replaces the first occurrence of <paramref name="find"/> in the header's name field.</summary>
    public static byte[] ReplaceInName(byte[] tar, string find, byte[] replacement, int header = 0)
    {
        var copy = (byte[])tar.Clone();
        var name = copy.AsSpan(header, 100);
        int at = name.IndexOf(Encoding.ASCII.GetBytes(find));
        if (at < 0 || replacement.Length != find.Length) throw new ArgumentException("name not found or length differs");
        replacement.CopyTo(name[at..]);
        return FixChecksum(copy, header);
    }

    public static byte[] FixChecksum(byte[] tar, int header = 0)
    {
        var h = tar.AsSpan(header, 512);
        h.Slice(ChecksumOffset, 8).Fill((byte)' ');
        int sum = 0;
        foreach (var b in h) sum += b;
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0')).CopyTo(h[ChecksumOffset..]);
        h[ChecksumOffset + 6] = 0;
        h[ChecksumOffset + 7] = (byte)' ';
        return tar;
    }
}
