using System.Text;

namespace LayerDive.Tests.Support;

/// <summary>Tar bytes built by hand, header field by header field, for shapes no writer at hand makes.</summary>
public static class RawTar
{
    public const int Block = 512;
    public const long Time = 1700000000;
    public static readonly byte[] UstarMagic = "ustar\0"u8.ToArray(); // then the version: "00", or NUL NUL
    public static readonly byte[] GnuMagic = "ustar  \0"u8.ToArray();

    public static byte[] Octal(long value, int width) => Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(width - 1, '0') + "\0");

    /// <summary>A base-256 field: the first byte 0x80 (or 0xff for a negative number), the rest the two's complement value.</summary>
    public static byte[] Base256(long value, int width)
    {
        var b = new byte[width];
        bool negative = value < 0;
        for (int i = width - 1; i >= 0; i--, value >>= 8) b[i] = (byte)value;
        if (!negative) b[0] = 0x80; // a negative number's first byte is 0xff already
        return b;
    }

    public static byte[] Header(byte[] name, char type, long size = 0, int mode = 0x1A4, byte[]? link = null, byte[]? magic = null,
        byte[]? prefix = null, byte[]? mtime = null)
    {
        var h = new byte[Block];
        name.CopyTo(h, 0);
        Octal(mode, 8).CopyTo(h, 100);
        Octal(0, 8).CopyTo(h, 108);
        Octal(0, 8).CopyTo(h, 116);
        Octal(size, 12).CopyTo(h, 124);
        (mtime ?? Octal(Time, 12)).CopyTo(h, 136);
        h[156] = (byte)type;
        link?.CopyTo(h, 157);
        (magic ?? [.. UstarMagic, (byte)'0', (byte)'0']).CopyTo(h, 257);
        prefix?.CopyTo(h, 345);
        return TarBytes.FixChecksum(h);
    }

    public static byte[] Header(string name, char type, long size = 0, int mode = 0x1A4, string? link = null, byte[]? magic = null, byte[]? mtime = null) =>
        Header(Encoding.UTF8.GetBytes(name), type, size, mode, link is null ? null : Encoding.UTF8.GetBytes(link), magic, mtime: mtime);

    public static byte[] Data(string text) => Data(Encoding.UTF8.GetBytes(text));

    public static byte[] Data(byte[] bytes) => [.. bytes, .. new byte[-bytes.Length & (Block - 1)]];

    public static readonly byte[] End = new byte[2 * Block];

    /// <summary>A PAX header ('x') holding the records, each "LENGTH key=value\n" with the length counting its own digits.</summary>
    public static byte[] Pax(params (string Key, byte[] Value)[] records)
    {
        var body = new List<byte>();
        foreach (var (key, value) in records)
        {
            byte[] record = [.. Encoding.ASCII.GetBytes(key + "="), .. value, (byte)'\n'];
            int length = record.Length + 2;
            while ($"{length} ".Length + record.Length != length) length = $"{length} ".Length + record.Length;
            body.AddRange(Encoding.ASCII.GetBytes($"{length} "));
            body.AddRange(record);
        }
        return [.. Header("PaxHeaders/x", 'x', body.Count), .. Data([.. body])];
    }

    /// <summary>A GNU long-name record ('L') for the next entry.</summary>
    public static byte[] LongName(string name) =>
        [.. Header("././@LongLink", 'L', Encoding.UTF8.GetByteCount(name) + 1, magic: GnuMagic), .. Data(Encoding.UTF8.GetBytes(name + "\0"))];

    /// <summary>The tar shapes of issue 24 in one layer, for the fuzzer's seeds: every one read by Go's archive/tar.</summary>
    public static byte[] Shapes() =>
    [
        .. Header("d/", '\0', 1, 0x1ED), .. Header("d2/", '5', mode: 0x1ED), .. Header("d/f", '0', 2), .. Data("f\n"),
        .. Header([0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4], '0', 5), .. Data("koi8\n"), .. Header([0xf0, 0xf2, 0xe9, 0xf7, 0xe5, 0xf4], '0', 7), .. Data("latin1\n"),
        .. Header("a", '0', 5), .. Data("aaaa\n"), .. Header("b", '1', 5, link: "a"),
        .. Header("v"u8.ToArray(), '0', 2, magic: [.. UstarMagic, 0, 0], prefix: "dir"u8.ToArray()), .. Data("v\n"),
        .. LongName("first/" + new string('x', 120)), .. LongName("second/" + new string('y', 120)), .. Header("short", '0', 2, magic: GnuMagic), .. Data("s\n"),
        .. Header("b256", '0', 2, mtime: Base256(-2146608000, 12)), .. Data("o\n"), .. Pax(("mtime", "-2146608000"u8.ToArray())), .. Header("paxold", '0', 2), .. Data("p\n"),
        .. Header("far", '0', 2, mtime: Base256(1L << 40, 12)), .. Data("f\n"),
        .. Pax(("SCHILY.xattr.security.capability", [0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), .. Header("ping", '0', 2, 0x1ED), .. Data("p\n"),
        .. End,
    ];
}
