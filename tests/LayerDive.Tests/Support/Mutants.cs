using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LayerDive.Samples;

namespace LayerDive.Tests.Support;

/// <summary>What a mutation damaged, which tells what a reference reader can say of it.</summary>
public enum MutationKind
{
    /// <summary>Bytes of a header of the outer archive (no digest fixed: the archive itself is damaged).</summary>
    OuterHeader,
    /// <summary>A JSON document (index, manifest, config, manifest.json), digests that name it recomputed.</summary>
    Json,
    /// <summary>A field of a layer's tar header, a name, a PAX record; diff id and digests recomputed.</summary>
    LayerTar,
    /// <summary>A layer's compressed stream (cut, flipped, extended); its digest recomputed.</summary>
    Compressed,
}

/// <summary>One damaged image: its bytes, what was done, and the damaged layer's bytes for a reference reader.</summary>
public sealed record Mutant(byte[] Archive, MutationKind Kind, string What, byte[]? LayerTar = null, byte[]? Blob = null, string? BlobCompression = null);

/// <summary>
/// Structure-aware mutations of an image archive (docker-archive or OCI archive): the archive is read
/// into its members, one part is damaged, and every digest, size and diff id that names a changed
/// member is recomputed, up the chain (layer, config, manifest, index), so that the damage reaches the
/// part of the reader it is aimed at instead of being stopped at the first digest check.
/// </summary>
public sealed class Mutator(byte[] seed)
{
    private sealed class Member(string name, TarEntryType type, byte[] data, string linkName)
    {
        public string Name = name;
        public readonly TarEntryType Type = type;
        public byte[] Data = data;
        public readonly string LinkName = linkName;
    }

    private static List<Member> Read(byte[] archive)
    {
        var members = new List<Member>();
        using var reader = new TarReader(new MemoryStream(archive));
        while (reader.GetNextEntry() is { } e)
        {
            var data = new MemoryStream();
            e.DataStream?.CopyTo(data);
            members.Add(new Member(e.Name, e.EntryType, data.ToArray(), e.LinkName));
        }
        return members;
    }

    private static byte[] Write(List<Member> members)
    {
        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var m in members)
            {
                var e = new PaxTarEntry(m.Type, m.Name) { ModificationTime = ImageBuilder.Epoch };
                if (m.Type is TarEntryType.SymbolicLink or TarEntryType.HardLink) e.LinkName = m.LinkName;
                if (m.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile) e.DataStream = new MemoryStream(m.Data);
                writer.WriteEntry(e);
            }
        return output.ToArray();
    }

    private static string Hex(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    private static bool IsJson(Member m) =>
        m.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile && m.Data.Length is > 1 and < 1 << 20 && m.Data[0] is (byte)'{' or (byte)'[';

    private static bool IsLayer(Member m) =>
        m.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile && !IsJson(m) && Compression(m.Data) is not null;

    /// <summary>"gzip", "zstd", "xz", "bzip2", "none" for a blob that is (or decompresses to) a tar; null otherwise.</summary>
    private static string? Compression(byte[] b)
    {
        if (b.Length > 2 && b[0] == 0x1f && b[1] == 0x8b) return "gzip";
        if (b.Length > 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return "zstd";
        if (b.Length > 6 && b.AsSpan(0, 6).SequenceEqual((byte[])[0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0])) return "xz";
        if (b.Length > 4 && b.AsSpan(0, 3).SequenceEqual("BZh"u8)) return "bzip2";
        if (b.Length >= 512 && b.Length % 512 == 0 && Encoding.ASCII.GetString(b, 257, 5) == "ustar") return "none";
        return null;
    }

    private static byte[] Decompress(byte[] blob, string compression)
    {
        if (compression == "none") return blob;
        using var input = LayerDive.Core.Layers.Decompression.Open(new MemoryStream(blob), compression switch
        {
            "gzip" => LayerDive.Core.Model.Compression.Gzip,
            "xz" => LayerDive.Core.Model.Compression.Xz,
            "bzip2" => LayerDive.Core.Model.Compression.Bzip2,
            _ => LayerDive.Core.Model.Compression.Zstd,
        });
        var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Compress(byte[] tar, string compression) => compression switch
    {
        "gzip" => ImageBuilder.Compress(tar, LayerCompression.Gzip).Bytes,
        "zstd" => ImageBuilder.Compress(tar, LayerCompression.Zstd).Bytes,
        "xz" or "bzip2" => CompressWithTool(compression, tar),
        _ => tar,
    };

    /// <summary>xz or bzip2 by its own tool (which the seeds that hold such layers need).</summary>
    public static byte[] CompressWithTool(string tool, byte[] bytes)
    {
        var input = Path.Combine(Path.GetTempPath(), "layerdive-mutant-" + Guid.NewGuid().ToString("N")[..12]);
        File.WriteAllBytes(input, bytes);
        try
        {
            var (code, _, stderr) = Scripts.Exec(tool, "-kf", input);
            if (code != 0) throw new InvalidOperationException($"{tool}: {stderr}");
            return File.ReadAllBytes(input + (tool == "xz" ? ".xz" : ".bz2"));
        }
        finally
        {
            File.Delete(input);
            File.Delete(input + (tool == "xz" ? ".xz" : ".bz2"));
        }
    }

    /// <summary>
    /// Records that <paramref name="changed"/> now holds <paramref name="bytes"/>: a content-addressed
    /// member is renamed, and every JSON document naming its old digest or name (and, for a layer, its
    /// old diff id) is rewritten, which changes those documents in turn.
    /// </summary>
    private static void Replace(List<Member> members, Member changed, byte[] bytes, string? oldDiffId = null, string? newDiffId = null)
    {
        var oldHex = Hex(changed.Data);
        var newHex = Hex(bytes);
        var oldName = changed.Name;
        changed.Data = bytes;
        if (oldHex == newHex && oldDiffId == newDiffId) return;
        if (changed.Name.Contains(oldHex, StringComparison.Ordinal)) changed.Name = changed.Name.Replace(oldHex, newHex, StringComparison.Ordinal);
        foreach (var doc in members.Where(m => m != changed && IsJson(m)).ToList())
        {
            JsonNode? root;
            try { root = JsonNode.Parse(doc.Data); } catch (System.Text.Json.JsonException) { continue; }
            if (root is null) continue;
            bool edited = Rewrite(root, s =>
                s == "sha256:" + oldHex ? "sha256:" + newHex
                : s == oldName && oldName != changed.Name ? changed.Name
                : oldDiffId is not null && s == oldDiffId ? newDiffId
                : null, "sha256:" + newHex, bytes.Length);
            if (edited) Replace(members, doc, Encoding.UTF8.GetBytes(root.ToJsonString()));
        }
    }

    /// <summary>Replaces string values by <paramref name="map"/>; a descriptor whose digest changed gets the new size.</summary>
    private static bool Rewrite(JsonNode node, Func<string, string?> map, string newDigest, long newSize)
    {
        bool edited = false;
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var s) && map(s) is { } replacement)
                    {
                        o[key] = replacement;
                        edited = true;
                        if (key == "digest" && replacement == newDigest && o.ContainsKey("size")) o["size"] = newSize;
                    }
                    else if (value is not null && Rewrite(value, map, newDigest, newSize)) edited = true;
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.TryGetValue<string>(out var s) && map(s) is { } replacement)
                    {
                        a[i] = replacement;
                        edited = true;
                    }
                    else if (a[i] is { } child && Rewrite(child, map, newDigest, newSize)) edited = true;
                }
                break;
        }
        return edited;
    }

    public Mutant Make(Random random)
    {
        var members = Read(seed);
        var kinds = new List<MutationKind> { MutationKind.OuterHeader, MutationKind.Json, MutationKind.LayerTar, MutationKind.LayerTar, MutationKind.LayerTar };
        if (members.Any(m => IsLayer(m) && Compression(m.Data) != "none")) kinds.Add(MutationKind.Compressed);
        var kind = kinds[random.Next(kinds.Count)];
        switch (kind)
        {
            case MutationKind.OuterHeader:
            {
                var bytes = Write(members);
                // a header block of the archive: every entry's header sits at a 512-byte boundary before its data
                var headers = HeaderBlocks(bytes);
                int header = headers[random.Next(headers.Count)];
                int flips = random.Next(1, 4);
                var what = new StringBuilder("outer header at " + header + ":");
                for (int i = 0; i < flips; i++)
                {
                    int at = header + random.Next(512);
                    byte to = (byte)random.Next(256);
                    what.Append($" [{at - header}]={to:x2}");
                    bytes[at] = to;
                }
                return new Mutant(bytes, kind, what.ToString());
            }
            case MutationKind.Json:
            {
                var docs = members.Where(IsJson).ToList();
                var doc = docs[random.Next(docs.Count)];
                var (bytes, what) = MutateJson(doc.Data, random);
                Replace(members, doc, bytes);
                return new Mutant(Write(members), kind, $"{doc.Name}: {what}");
            }
            case MutationKind.LayerTar:
            {
                var layers = members.Where(IsLayer).ToList();
                var layer = layers[random.Next(layers.Count)];
                var compression = Compression(layer.Data)!;
                var tar = Decompress(layer.Data, compression);
                var (damaged, what) = MutateTar(tar, random);
                Replace(members, layer, Compress(damaged, compression), "sha256:" + Hex(tar), "sha256:" + Hex(damaged));
                return new Mutant(Write(members), kind, $"{layer.Name} ({compression}): {what}", LayerTar: damaged);
            }
            default:
            {
                var layers = members.Where(m => IsLayer(m) && Compression(m.Data) != "none").ToList();
                var layer = layers[random.Next(layers.Count)];
                var compression = Compression(layer.Data)!;
                var blob = (byte[])layer.Data.Clone();
                string what;
                switch (random.Next(4))
                {
                    case 0: int cut = random.Next(1, blob.Length); blob = blob[..cut]; what = $"cut at {cut} of {layer.Data.Length}"; break;
                    case 1: int at = random.Next(blob.Length); blob[at] ^= (byte)random.Next(1, 256); what = $"byte {at} flipped"; break;
                    case 2: blob = [.. blob, .. RandomBytes(random, random.Next(1, 64))]; what = "garbage appended"; break;
                    default: blob = [.. blob, .. blob[..random.Next(1, Math.Min(blob.Length, 200))]]; what = "a partial second member appended"; break;
                }
                Replace(members, layer, blob);
                return new Mutant(Write(members), kind, $"{layer.Name} ({compression}): {what}", Blob: blob, BlobCompression: compression);
            }
        }
    }

    private static byte[] RandomBytes(Random random, int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    private static (byte[], string) MutateJson(byte[] data, Random random)
    {
        var text = Encoding.UTF8.GetString(data);
        switch (random.Next(4))
        {
            case 0:
                int cut = random.Next(text.Length);
                return (Encoding.UTF8.GetBytes(text[..cut]), $"cut at {cut}");
            case 1:
                int at = random.Next(text.Length);
                return (Encoding.UTF8.GetBytes(text[..at] + "\"}],{" + text[at..]), $"garbage at {at}");
        }
        var root = JsonNode.Parse(data)!;
        var values = new List<(JsonNode Parent, object Key)>();
        void Walk(JsonNode n)
        {
            if (n is JsonObject o) foreach (var (k, v) in o.ToList()) { values.Add((o, k)); if (v is not null) Walk(v); }
            if (n is JsonArray a) for (int i = 0; i < a.Count; i++) { values.Add((a, i)); if (a[i] is { } c) Walk(c); }
        }
        Walk(root);
        if (values.Count == 0) return (Encoding.UTF8.GetBytes("null"), "replaced by null");
        var (parent, key) = values[random.Next(values.Count)];
        JsonNode?[] replacements = [null, "", -1, 1e300, long.MaxValue, "../../etc/passwd", new JsonArray(), new JsonObject(), "sha256:" + new string('0', 64), "x", true, new string('a', 5000)];
        var replacement = replacements[random.Next(replacements.Length)];
        string shown = replacement?.ToJsonString() is { Length: > 40 } l ? l[..40] + "..." : replacement?.ToJsonString() ?? "null";
        if (random.Next(4) == 0)
        {
            if (parent is JsonObject o) o.Remove((string)key);
            else ((JsonArray)parent).RemoveAt((int)key);
            return (Encoding.UTF8.GetBytes(root.ToJsonString()), $"{key} removed");
        }
        if (parent is JsonObject obj) obj[(string)key] = replacement;
        else ((JsonArray)parent)[(int)key] = replacement;
        return (Encoding.UTF8.GetBytes(root.ToJsonString()), $"{key} = {shown}");
    }

    private static readonly (string Name, int Offset, int Length)[] Fields =
    [
        ("name", 0, 100), ("mode", 100, 8), ("uid", 108, 8), ("gid", 116, 8), ("size", 124, 12), ("mtime", 136, 12),
        ("chksum", 148, 8), ("typeflag", 156, 1), ("linkname", 157, 100), ("magic", 257, 8), ("devmajor", 329, 8), ("devminor", 337, 8), ("prefix", 345, 155),
    ];

    private static readonly string[] Names = ["../escape", "/abs/path", "a/../../b", "", "./", "//", "a\0b", ".wh.", ".wh..wh..opq", "x/.wh..wh..opq", ".wh..wh.plnk/1", "etc/.wh.passwd", "..", "a/./b/", new string('n', 99)];

    /// <summary>Damages one header of the tar: a field's bytes (the checksum fixed or not), a name, or a PAX header put before it.</summary>
    private static (byte[], string) MutateTar(byte[] tar, Random random)
    {
        var headers = HeaderBlocks(tar);
        if (headers.Count == 0) return ([.. tar, .. RandomBytes(random, 512)], "garbage block appended");
        // the header blocks of the raw tar: PAX and long-name headers come before their entry's, one block each or more
        int header = headers[random.Next(headers.Count)];
        var bytes = (byte[])tar.Clone();
        // the entry's own header: skip the extended headers that lead it
        while (header + 512 <= bytes.Length && bytes[header + 156] is (byte)'x' or (byte)'g' or (byte)'L' or (byte)'K')
        {
            long size = OctalOrZero(bytes.AsSpan(header + 124, 12));
            header += 512 + (int)((size + 511) & ~511L);
        }
        if (header + 512 > bytes.Length) return (bytes[..^random.Next(1, Math.Min(bytes.Length, 1024))], "cut");
        string what;
        switch (random.Next(6))
        {
            case 0:
            {
                var name = Names[random.Next(Names.Length)];
                var field = bytes.AsSpan(header, 100);
                field.Clear();
                Encoding.UTF8.GetBytes(name).AsSpan(0, Math.Min(100, Encoding.UTF8.GetByteCount(name))).CopyTo(field);
                bytes.AsSpan(header + 345, 155).Clear();
                TarBytes.FixChecksum(bytes, header);
                what = $"name at {header} = {PrintableName(name)}";
                break;
            }
            case 1:
            {
                // a PAX header before the entry, with records a reader must parse
                string[] records = ["uid=-5", "mtime=nan", "size=", "size=99999999999", "path=../../x", "linkpath=", "GNU.sparse.major=1", "gid=abc", "path=", "mtime=1.5.5", "SCHILY.xattr.trusted.overlay.opaque=y"];
                var record = records[random.Next(records.Length)];
                // "LENGTH key=value\n", the length counting its own digits
                int length = record.Length + 2;
                while (length != length.ToString().Length + record.Length + 2) length = length.ToString().Length + record.Length + 2;
                var data = Encoding.UTF8.GetBytes($"{length} {record}\n");
                var pax = new byte[512];
                Encoding.ASCII.GetBytes("PaxHeaders/x").CopyTo(pax, 0);
                Encoding.ASCII.GetBytes("0000644\0").CopyTo(pax, 100);
                Encoding.ASCII.GetBytes(Convert.ToString(data.Length, 8).PadLeft(11, '0') + "\0").CopyTo(pax, 124);
                Encoding.ASCII.GetBytes("00000000000\0").CopyTo(pax, 136);
                pax[156] = (byte)'x';
                Encoding.ASCII.GetBytes("ustar\000").CopyTo(pax, 257);
                TarBytes.FixChecksum(pax, 0);
                var padded = new byte[(data.Length + 511) & ~511];
                data.CopyTo(padded, 0);
                bytes = [.. bytes[..header], .. pax, .. padded, .. bytes[header..]];
                what = $"PAX record '{record}' before the header at {header}";
                break;
            }
            default:
            {
                var (name, offset, length) = Fields[random.Next(Fields.Length)];
                var field = bytes.AsSpan(header + offset, length);
                string[] texts = ["", "9999", "-1", "12x4", " 7 7", "\x80", "77777777777", "ustar", "7", "\xff\xff", "0"];
                if (random.Next(3) == 0) random.NextBytes(field);
                else
                {
                    field.Clear();
                    var t = Encoding.Latin1.GetBytes(texts[random.Next(texts.Length)]);
                    t.AsSpan(0, Math.Min(t.Length, length)).CopyTo(field);
                }
                bool fix = random.Next(4) != 0;
                if (fix && name != "chksum") TarBytes.FixChecksum(bytes, header);
                what = $"{name} at {header} = {Convert.ToHexStringLower(field)}{(fix ? "" : " (checksum not fixed)")}";
                break;
            }
        }
        return (bytes, what);
    }

    /// <summary>The offsets of a tar's header blocks (extended headers included), walked by their size fields.</summary>
    private static List<int> HeaderBlocks(byte[] tar)
    {
        var headers = new List<int>();
        int at = 0;
        while (at + 512 <= tar.Length && tar.AsSpan(at, 512).ContainsAnyExcept((byte)0))
        {
            headers.Add(at);
            long size = tar[at + 124] == 0x80 ? 0 : OctalOrZero(tar.AsSpan(at + 124, 12));
            at += 512 + (int)((size + 511) & ~511L);
        }
        return headers;
    }

    private static string PrintableName(string name) => name.Replace("\0", "\\0");

    private static long OctalOrZero(ReadOnlySpan<byte> field)
    {
        long v = 0;
        foreach (var b in field)
        {
            if (b is >= (byte)'0' and <= (byte)'7') v = v * 8 + (b - '0');
            else if (v > 0 || b is not ((byte)' ' or 0)) break;
        }
        return v;
    }
}
