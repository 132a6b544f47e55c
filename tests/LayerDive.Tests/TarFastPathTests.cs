using System.Formats.Tar;
using System.Text;
using LayerDive.Core;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// Issue 26: the tar reader's fast paths (the header checksum summed a vector at a time, numeric
/// fields read by a loop over plain octal, names normalised in bytes and decoded once) agree with the
/// definitions they replace, on headers from the real archives of the public corpus and on random
/// and crafted ones.
/// </summary>
public sealed class TarFastPathTests
{
    private const int Block = 512;

    /// <summary>
    /// The checksum rule as Go's archive/tar states it (format.go: computeChecksum, used by getFormat,
    /// which reader.go's readHeader calls on every header): the sum of the header's bytes with the
    /// checksum field counted as eight spaces, as unsigned bytes (POSIX) and as signed bytes (Sun tar);
    /// a header is taken when the stored octal value is either.
    /// </summary>
    private static (long Unsigned, long Signed) GoSums(ReadOnlySpan<byte> block)
    {
        long unsigned = 0, signed = 0;
        for (int i = 0; i < Block; i++)
        {
            byte c = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsigned += c;
            signed += (sbyte)c;
        }
        return (unsigned, signed);
    }

    /// <summary>
    /// Whether the checksum holds by that rule, the stored value read as the reader reads an octal
    /// field: spaces and NULs trimmed from both ends, octal digits between (blank is 0). A field
    /// whose first byte has its top bit set (base-256) is not octal: the reader refuses it there.
    /// </summary>
    private static bool ReferenceHolds(ReadOnlySpan<byte> block)
    {
        var field = block.Slice(148, 8);
        if ((field[0] & 0x80) != 0) return false;
        var digits = field.Trim(" \0"u8);
        long stored = 0;
        foreach (byte d in digits)
        {
            if (d is < (byte)'0' or > (byte)'7') return false;
            stored = stored * 8 + (d - '0');
        }
        var (unsigned, signed) = GoSums(block);
        return stored == unsigned || stored == signed;
    }

    private static void AssertChecksumAgrees(byte[] block, string where)
    {
        var expected = GoSums(block);
        var actual = TarGuard.Sums(block);
        Assert.True(expected == actual, $"{where}: sums {actual}, by definition {expected}");
        // the vector sums, on a machine that has them (both builds do), and the plain ones they fall back to
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated) Assert.True(expected == TarGuard.Sums128(block), $"{where}: 128-bit sums {TarGuard.Sums128(block)}, by definition {expected}");
        Assert.True(expected == TarGuard.PlainSums(block), $"{where}: plain sums {TarGuard.PlainSums(block)}, by definition {expected}");
        Assert.True(ReferenceHolds(block) == TarGuard.ChecksumHolds(block), $"{where}: checksum holds {TarGuard.ChecksumHolds(block)}, by definition {ReferenceHolds(block)}");
    }

    /// <summary>Every 512-byte block of a blob, and of every compressed blob or member inside it (a layer in an archive, an archive compressed).</summary>
    private static IEnumerable<(byte[] Block, string Where)> Blocks(byte[] bytes, string where, int depth = 0)
    {
        var compression = Decompression.Sniff(bytes);
        if (compression != Compression.None)
        {
            if (compression is Compression.Zstd && !Decompression.NativeZstdAvailable) yield break;
            var plain = new MemoryStream();
            using (var inflated = Decompression.Open(new MemoryStream(bytes), compression))
                inflated.CopyTo(plain);
            foreach (var b in Blocks(plain.ToArray(), $"{where} ({compression})", depth)) yield return b;
            yield break;
        }
        for (int at = 0; at + Block <= bytes.Length; at += Block)
            yield return (bytes.AsSpan(at, Block).ToArray(), $"{where} @{at}");
        if (depth > 1) yield break;
        // members of an archive whose data is compressed: their blocks are not aligned in the outer one
        List<(string Name, byte[] Data)> members = [];
        try
        {
            using var reader = new TarReader(new MemoryStream(bytes));
            while (reader.GetNextEntry() is { } e)
            {
                if (e.DataStream is null || e.Length < 2) continue;
                var data = new MemoryStream();
                e.DataStream.CopyTo(data);
                if (Decompression.Sniff(data.GetBuffer().AsSpan(0, (int)Math.Min(data.Length, Decompression.MagicLength))) != Compression.None)
                    members.Add((e.Name, data.ToArray()));
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            // not a tar (a blob of a layout, a config): its aligned blocks were enough
        }
        foreach (var (name, data) in members)
            foreach (var b in Blocks(data, $"{where}:{name}", depth + 1)) yield return b;
    }

    private static IEnumerable<(byte[] Block, string Where)> CorpusBlocks() =>
        Directory.EnumerateFiles(Paths.PublicCorpus, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Where(f => new FileInfo(f).Length <= 64 << 20)
            .SelectMany(f => Blocks(File.ReadAllBytes(f), Path.GetRelativePath(Paths.PublicCorpus, f)));

    [Fact]
    public void The_vector_checksum_agrees_with_the_definition_on_every_block_of_the_public_corpus()
    {
        if (!Directory.Exists(Paths.PublicCorpus)) Assert.Skip($"{Paths.PublicCorpus} is not there");
        int blocks = 0, headers = 0, highBytes = 0;
        foreach (var (block, where) in CorpusBlocks())
        {
            AssertChecksumAgrees(block, where);
            blocks++;
            if (ReferenceHolds(block) && block.AsSpan().ContainsAnyExcept((byte)0)) headers++;
            if (block.AsSpan().IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0) highBytes++;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{blocks} blocks, {headers} headers, {highBytes} with bytes over 0x7f");
        // the corpus holds thousands of real headers (docker, Go, jib, kaniko, buildkit writers) and compressed data
        Assert.True(headers >= 1000, $"only {headers} headers found");
        Assert.True(highBytes >= 1000, $"only {highBytes} blocks with high bytes");
    }

    [Fact]
    public void The_vector_checksum_agrees_with_the_definition_on_random_and_crafted_headers()
    {
        var random = new Random(26);
        var realHeader = RawTar.Header("usr/lib/libc.so.6", '0', 12345);
        for (int i = 0; i < 20_000; i++)
        {
            var block = new byte[Block];
            switch (i % 5)
            {
                case 0: random.NextBytes(block); break;
                case 1:
                    // a header with a few bytes changed, its checksum then written as one of the sums, or not
                    realHeader.CopyTo(block, 0);
                    for (int k = random.Next(1, 8); k > 0; k--) block[random.Next(Block)] = (byte)random.Next(256);
                    var (u, s) = GoSums(block);
                    long stored = (i / 5 % 3) switch { 0 => u, 1 => s, _ => u + random.Next(-300, 300) };
                    if (stored >= 0) Encoding.ASCII.GetBytes(Convert.ToString(stored, 8).PadLeft(6, '0') + "\0 ").AsSpan(0, 8).CopyTo(block.AsSpan(148));
                    break;
                case 2:
                    // high bytes only: every byte of 0x80 or more, the signed and unsigned sums far apart
                    for (int k = 0; k < Block; k++) block[k] = (byte)(0x80 | random.Next(128));
                    break;
                case 3:
                    // mostly zero, as real headers are
                    for (int k = random.Next(1, 40); k > 0; k--) block[random.Next(Block)] = (byte)random.Next(256);
                    break;
                default:
                    block.AsSpan().Fill((byte)random.Next(256));
                    break;
            }
            AssertChecksumAgrees(block, $"random block {i}");
        }
        foreach (byte fill in new byte[] { 0x00, 0x20, 0x7f, 0x80, 0xff })
        {
            var block = new byte[Block];
            block.AsSpan().Fill(fill);
            AssertChecksumAgrees(block, $"all 0x{fill:x2}");
            // the checksum field itself holds high bytes: they count as spaces in the sums
            Encoding.ASCII.GetBytes("0004000\0").CopyTo(block, 148);
            block[155] = 0xff;
            AssertChecksumAgrees(block, $"all 0x{fill:x2}, checksum field ending 0xff");
        }
    }

    /// <summary>A header as old Sun tar wrote it: its name in Latin-1 (bytes over 0x7f), its checksum the signed sum.</summary>
    private static byte[] SunTarLayer(int checksumOffBy)
    {
        byte[] name = [.. "caf"u8, 0xe9, .. "-na"u8, 0xef, 0xf6, .. "ve"u8];
        var header = RawTar.Header(name, '0', 5);
        var (unsigned, signed) = GoSums(header);
        Assert.NotEqual(unsigned, signed); // 3 bytes over 0x7f: the sums differ by 3 x 256
        Encoding.ASCII.GetBytes(Convert.ToString(signed + checksumOffBy, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return [.. header, .. RawTar.Data("data\n"), .. RawTar.End];
    }

    [Fact]
    public void A_signed_checksum_as_Sun_tar_wrote_it_is_read_as_GNU_tar_reads_it()
    {
        if (!Scripts.OnPath("tar")) Assert.Skip("GNU tar is not installed");
        using var dir = new TempDir();
        var good = dir.File("sun.tar");
        File.WriteAllBytes(good, SunTarLayer(0));
        var (code, listing, stderr) = Scripts.Exec("tar", "-tvf", good);
        Assert.True(code == 0, $"GNU tar refused the signed checksum: {stderr}");
        Assert.Contains("caf", listing);

        var contents = LayerReader.Read(new MemoryStream(File.ReadAllBytes(good)), new LayerReadOptions { LayerIndex = 0 }, TestContext.Current.CancellationToken);
        var entry = Assert.Single(contents.Entries);
        Assert.Equal(PathText.FromBytes([.. "caf"u8, 0xe9, .. "-na"u8, 0xef, 0xf6, .. "ve"u8]), entry.Path);
        Assert.Equal(5, entry.Attributes!.Value.Size);

        // one off: GNU tar refuses it, and so does the reader
        var bad = dir.File("sun-bad.tar");
        File.WriteAllBytes(bad, SunTarLayer(1));
        Assert.NotEqual(0, Scripts.Exec("tar", "-tvf", bad).ExitCode);
        var error = Assert.Throws<ImageException>(() => LayerReader.Read(new MemoryStream(File.ReadAllBytes(bad)), new LayerReadOptions { LayerIndex = 0 }, TestContext.Current.CancellationToken));
        Assert.Contains("checksum does not match", error.Message);
    }

    private static byte[] Field(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Every form of a numeric field, with its value worked out by hand (null: refused).</summary>
    public static TheoryData<byte[], long?> NumericForms => new()
    {
        { Field("0000644\0"), 420 },                      // Go, System.Formats.Tar
        { Field("000644 \0"), 420 },                      // old GNU tar: digits, space, NUL
        { Field("   644 \0"), 420 },                      // leading spaces (V7 writers)
        { Field("\0\0\0\0644\0"), 420 },                  // leading NULs
        { Field("0000644 "), 420 },
        { Field("00000000144"), 100 },                    // a size with no terminator
        { Field("77777777777\0"), 8589934591 },           // the largest 11-digit size: 8 GiB - 1
        { Field("777777777777"), 68719476735 },           // 12 digits, no terminator (GNU tar writes this)
        { Field("14544676445\0"), 1704164645 },             // 2024-01-02 03:04:05 UTC
        { Field("012276\0 "), 5310 },                     // a checksum as Go writes it
        { Field("\0\0\0\0\0\0\0\0"), 0 },                 // blank
        { Field("        "), 0 },
        { Field(" \0 \0 \0 \0"), 0 },
        { Field("0\0\0\0\0\0\0\0"), 0 },
        { Field("0000648\0"), null },                     // not octal
        { Field("00006 44\0"), null },                    // a space between digits
        { Field("0000644\0x"), null },                    // something after the terminator
        { Field("00\x00644\0"), null },                   // a NUL between digits
        { Field("+000644\0"), null },
        { Field("-0000001"), null },
        { [0x80, 0, 0, 0, 0, 0, 0x01, 0x00], 256 },       // base-256, positive
        { [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0 },
        { [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], long.MaxValue },
        { [0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0], null },      // 2^63: does not fit
        { [0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], null },         // 2^64: a byte too many carries bits
        { [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -1 },  // base-256, negative: two's complement
        { [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], -2 },
        { [0xff, 0xff, 0xff, 0xff, 0x80, 0x0c, 0x4b, 0x80, 0, 0, 0, 0], -9219911324006350848 },
        { [0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0], long.MinValue },
        { [0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], null }, // below -2^63
        { [0xff, 0, 0, 0, 0, 0, 0, 0], -72057594037927936 }, // -2^56: the sign byte is a byte of the number
        { [0x81, 0, 0, 0, 0, 0, 0, 1], null },            // another first byte with the top bit (only damage writes it)
    };

    [Theory]
    [MemberData(nameof(NumericForms))]
    public void Numeric_fields_read_every_form(byte[] field, long? expected)
    {
        bool ok = TarGuard.Numeric(field, 0, field.Length, out long value);
        bool plainOk = TarGuard.PlainNumeric(field, out long plainValue);
        Assert.Equal(expected is not null, ok);
        Assert.Equal(plainOk, ok);
        if (expected is not null)
        {
            Assert.Equal(expected.Value, value);
            Assert.Equal(plainValue, value);
        }
    }

    [Fact]
    public void Numeric_fields_read_as_the_plain_reading_on_random_fields_and_on_every_header_of_the_corpus()
    {
        var random = new Random(2026);
        byte[] alphabet = [.. "012345678 "u8, 0, 0x80, 0xff, (byte)'x'];
        for (int i = 0; i < 200_000; i++)
        {
            var field = new byte[i % 2 == 0 ? 8 : 12];
            int digits = random.Next(field.Length + 1);
            // mostly the shapes writers use (digits, then a terminator), with a stray byte now and then
            for (int k = 0; k < field.Length; k++)
                field[k] = k < digits ? (byte)('0' + random.Next(8)) : (byte)(random.Next(2) == 0 ? 0 : ' ');
            for (int k = random.Next(3); k > 0; k--) field[random.Next(field.Length)] = alphabet[random.Next(alphabet.Length)];
            AssertNumericAgrees(field, $"random field {i}");
        }
        if (!Directory.Exists(Paths.PublicCorpus)) return;
        int headers = 0;
        foreach (var (block, where) in CorpusBlocks())
        {
            if (!ReferenceHolds(block) || !block.AsSpan().ContainsAnyExcept((byte)0)) continue;
            headers++;
            foreach (var (offset, length) in new[] { (100, 8), (108, 8), (116, 8), (124, 12), (136, 12), (148, 8), (329, 8), (337, 8), (345, 12), (357, 12) })
                AssertNumericAgrees(block.AsSpan(offset, length).ToArray(), $"{where} field @{offset}");
        }
        Assert.True(headers >= 1000, $"only {headers} headers found");
    }

    private static void AssertNumericAgrees(byte[] field, string where)
    {
        bool ok = TarGuard.Numeric(field, 0, field.Length, out long value);
        bool plainOk = TarGuard.PlainNumeric(field, out long plainValue);
        Assert.True(ok == plainOk && (!ok || value == plainValue), $"{where} [{Convert.ToHexString(field)}]: {ok} {value}, plain {plainOk} {plainValue}");
    }

    [Fact]
    public void Names_normalised_in_bytes_are_the_decoded_names_normalised()
    {
        List<byte[]> names =
        [
            .. new[] { "a", "a/b", "./a", "a/", "/a", "//a//b//", "a/./b", "a/../b", "../a", "a/..", "a/b/../../..", ".", "..", "./", "/",
                "a/.b", "a/..b", "a/b.", ".wh..wh..opq", "usr/share/package-00001/", "usr/lib/x86_64-linux-gnu/lib-000001.so" }
                .Select(Encoding.UTF8.GetBytes),
            [],
            [(byte)'a', 0, (byte)'b'],
            [0xff, (byte)'/', (byte)'.', (byte)'.', (byte)'/', (byte)'a'],      // not UTF-8, popped by ".."
            [.. "caf"u8, 0xc3, 0xa9, (byte)'/'],                                // UTF-8, a trailing slash
            [0xe2, 0x82, (byte)'/', (byte)'x'],                                 // a sequence cut by a slash
            [.. "./"u8, 0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4],                    // KOI8-R
            Encoding.UTF8.GetBytes("./" + string.Join('/', Enumerable.Repeat("segment", 100)) + "/"), // over the stack buffer
        ];
        var random = new Random(24);
        byte[][] pieces = [[(byte)'a'], [(byte)'b', (byte)'c'], [(byte)'/'], [(byte)'.'], [(byte)'.', (byte)'.'], [0xc3, 0xa9], [0xff], [0xe2, 0x82], [0]];
        for (int i = 0; i < 50_000; i++)
        {
            var name = new List<byte>();
            for (int k = random.Next(12); k > 0; k--) name.AddRange(pieces[random.Next(i % 3 == 0 ? pieces.Length : pieces.Length - 1)]);
            names.Add([.. name]);
        }
        foreach (var name in names)
        {
            string decoded = PathText.FromBytes(name);
            string? expected = PathText.Normalize(decoded, out _);
            string? actual = PathText.Normalize(name, out bool unchanged);
            Assert.True(expected == actual, $"[{Convert.ToHexString(name)}]: {actual}, expected {expected}");
            if (unchanged) Assert.Equal(decoded, actual);
        }
    }
}

/// <summary>
/// Issue 26: reading a layer allocates no more per entry than the path it hands on. Counted on this
/// thread, but the reader's buffers come from the shared pool, which a gen-2 collection caused by
/// another test may trim (a 64 KB buffer allocated anew, as CI once saw): so it runs alone.
/// </summary>
[Collection(nameof(SerialCollection))]
public sealed class TarAllocationTests
{
    /// <summary>Takes the entries as the merge would, checking each path against the one the test wrote.</summary>
    private sealed class CheckingSink(string[] paths) : IEntrySink
    {
        public int Count, Wrong = -1;

        public void Add(in RawEntry entry)
        {
            // compared without allocating: the sink is inside what is measured
            if (Wrong < 0 && !string.Equals(paths[Count], entry.Path, StringComparison.Ordinal)) Wrong = Count;
            Count++;
        }
    }

    /// <summary>What allocating one thing costs on this runtime (0 for a value type): measured over many, as the runtime lays objects out.</summary>
    private static long Cost(Func<object?> make)
    {
        var kept = new object?[256];
        make(); // compiled first
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < kept.Length; i++) kept[i] = make();
        long cost = (GC.GetAllocatedBytesForCurrentThread() - before) / kept.Length;
        GC.KeepAlive(kept);
        return cost;
    }

    /// <summary>A layer of <paramref name="count"/> directories and files, with long names in both GNU records and PAX records, and the paths the reader should give.</summary>
    private static (byte[] Tar, string[] Paths) Layer(TarEntryFormat format, int count)
    {
        var ms = new MemoryStream();
        var paths = new List<string>();
        using (var w = new TarWriter(ms, format, leaveOpen: true))
        {
            for (int i = 0; i < count; i++)
            {
                // one name in seven over the 100 bytes of a header's name field
                string dir = $"usr/share/{(i % 7 == 0 ? new string('p', 120) : "package")}-{i / 10:D6}";
                string name = i % 2 == 0 ? dir + "/" : $"{dir}/file-{i:D7}.txt";
                TarEntry entry = format == TarEntryFormat.Pax
                    ? new PaxTarEntry(i % 2 == 0 ? TarEntryType.Directory : TarEntryType.RegularFile, name)
                    : new GnuTarEntry(i % 2 == 0 ? TarEntryType.Directory : TarEntryType.RegularFile, name);
                entry.ModificationTime = DateTimeOffset.FromUnixTimeSeconds(1700000000 + i);
                if (i % 2 == 1) entry.DataStream = new MemoryStream([(byte)i, 1, 2]);
                w.WriteEntry(entry);
                paths.Add(name.TrimEnd('/'));
            }
        }
        return (ms.ToArray(), [.. paths]);
    }

    [Theory]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Pax)]
    public void Reading_a_layer_allocates_per_entry_only_its_path(TarEntryFormat format)
    {
        const int n = 20_000;
        var (small, smallPaths) = Layer(format, n);
        var (large, largePaths) = Layer(format, 2 * n);
        // an entry's attributes are a value (EntryAttributes is a struct): only its path is an object
        var strings = largePaths.Skip(n).Select(p => p.Length).Distinct().ToDictionary(length => length, length => Cost(() => new string('x', length)));
        long expected = largePaths.Skip(n).Sum(p => strings[p.Length]);

        long Allocated(byte[] tar, string[] paths)
        {
            var sink = new CheckingSink(paths);
            long before = GC.GetAllocatedBytesForCurrentThread();
            LayerReader.Read(new MemoryStream(tar), new LayerReadOptions { LayerIndex = 0 }, sink, TestContext.Current.CancellationToken);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(paths.Length, sink.Count);
            Assert.True(sink.Wrong < 0, $"entry {sink.Wrong}: expected {(sink.Wrong < 0 ? "" : paths[sink.Wrong])}");
            return allocated;
        }

        Allocated(small, smallPaths); // compiled, pools warm
        // what the second n entries cost: the fixed costs of a layer (its buffers, its hashes) cancel out.
        // A shared pool may miss now and then (another test's thread took its buffer: 64 KB once), which
        // only adds: the least of three reads of each layer is the one without
        long Least(byte[] tar, string[] paths) => Enumerable.Range(0, 3).Min(_ => Allocated(tar, paths));
        long extra = Least(large, largePaths) - Least(small, smallPaths);
        TestContext.Current.TestOutputHelper?.WriteLine($"{format}: {extra} bytes for {n} more entries, {expected} of them paths");
        Assert.InRange(extra - expected, -n, n); // within a byte an entry: nothing else per entry
    }
}
