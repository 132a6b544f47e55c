using LayerDive.Samples;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// Issue 13, item 1: damaged layer tar headers the runtime's tar reader takes in its stride (a zero
/// checksum ends the layer there, a wrong one is not noticed, a changed magic drops the name prefix,
/// PAX values that do not parse are skipped, GNU sparse records become file content). Each layer is
/// written by Python's tarfile, damaged byte by byte, and put in an image whose diff ids are those of
/// the damaged tar, so only the tar structure tells. GNU tar is the reference: it rejects every
/// layer the tool calls an error.
/// </summary>
public sealed class DamagedTarHeaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    private const string Generator = """
        import sys, tarfile, io
        case, out = sys.argv[1:3]
        pax = {}
        if case == "pax-1tib": pax = {"comment": "x"}
        if case == "gnu-sparse-pax": pax = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "etc/b", "GNU.sparse.realsize": "100"}
        if case.startswith("pax-value-"): k, v = {"pax-value-uid": ("uid", "-5"), "pax-value-mtime": ("mtime", "nan"), "pax-value-size": ("size", "")}[case]; pax = {k: v}
        buf = io.BytesIO()
        t = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
        d = tarfile.TarInfo("etc"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
        for name, data, extra in (("etc/a", b"aaa", {}), ("etc/b", b"b" * 100, pax), ("etc/c", b"ccc", {})):
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644; ti.mtime = 1700000000; ti.pax_headers = extra
            t.addfile(ti, io.BytesIO(data))
        t.close()
        b = bytearray(buf.getvalue())

        def header(name):
            for at in range(0, len(b), 512):
                if b[at:at + len(name) + 1] == name.encode() + b"\0" and b[at + 156:at + 157] == b"0": return at
            raise SystemExit("no header " + name)

        def fix(at):
            b[at + 148:at + 156] = b" " * 8
            b[at + 148:at + 156] = b"%06o\0 " % sum(b[at:at + 512])

        at = header("etc/b")
        if case == "zero-checksum": b[at + 148:at + 156] = b"\0" * 8
        elif case == "wrong-checksum": b[at + 136] = ord("3") if b[at + 136] != ord("3") else ord("2")
        elif case == "magic": b[at + 257:at + 263] = b"uxtar\0"; fix(at)
        elif case == "magic-prefix": b[at + 345:at + 348] = b"usr"; b[at + 257:at + 263] = b"uxtar\0"; fix(at)
        elif case == "octal": b[at + 100:at + 108] = b"00006x4\0"; fix(at)
        elif case == "size-past-data": a = header("etc/a"); b[a + 124:a + 136] = b"%011o\0" % 700; fix(a)
        elif case == "pax-1tib": x = max(a for a in range(0, at, 512) if b[a + 156:a + 157] == b"x"); b[x + 124:x + 136] = b"\x80" + (1 << 40).to_bytes(11, "big"); fix(x)
        elif case == "gnu-sparse-pax": b[at + 257:at + 265] = b"ustar  \0"; fix(at)
        elif case == "early-end": b[at:at] = b"\0" * 512
        elif case == "trailing": b += b"garbage!" * 64
        open(out, "wb").write(b)
        """;

    private string LayerTar(string damage)
    {
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        var path = _dir.File($"{damage}.layer.tar");
        var (code, _, stderr) = Scripts.Exec("python3", ["-c", Generator, damage, path]);
        Assert.True(code == 0, stderr);
        return path;
    }

    /// <summary>An image of one layer: the tar as written (its diff id taken after the damage).</summary>
    private string Image(string damage, LayerCompression compression = LayerCompression.Gzip)
    {
        var tar = File.ReadAllBytes(LayerTar(damage));
        var image = new ImageBuilder().Layer("files", l => l.Dir("placeholder"));
        image.TamperTar = (_, _) => tar;
        var path = _dir.File($"{damage}-{compression}.tar");
        image.WriteOciArchive(path, compression: compression);
        return path;
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "zero-checksum", "damaged tar header at offset 1536 (after 'etc/a'): its checksum is zero (a reader would end the layer here)" },
        { "wrong-checksum", "damaged tar header at offset 1536 (after 'etc/a'): its checksum does not match its contents" },
        { "magic-prefix", "damaged tar header at offset 1536 (after 'etc/a'): its magic 'uxtar\\000' is neither ustar nor GNU, and a V7 header has no name prefix: the name would lose 'usr'" },
        { "octal", "damaged tar header at offset 1536 (after 'etc/a'): its mode field '00006x4\\0' is not a number" },
        { "size-past-data", "damaged tar header at offset 2048 (after 'etc/a'): its checksum" },
        { "pax-1tib", "(after 'etc/a'): its PAX records claim 1099511627776 bytes (at most 1048576 are read)" },
        { "gnu-sparse-pax", "a GNU sparse file (PAX GNU.sparse records, header offset 1536): LayerDive does not read sparse files" },
        { "pax-value-uid", "damaged tar header at offset 1536 (after 'etc/a'): its PAX record uid='-5' is not a non-negative whole number" },
        { "pax-value-mtime", "damaged tar header at offset 1536 (after 'etc/a'): its PAX record mtime='nan' is not a time" },
        { "pax-value-size", "damaged tar header at offset 1536 (after 'etc/a'): its PAX record size='' is not a non-negative whole number" },
        { "early-end", "an empty block at offset 1536 ends the layer early: tar entries follow it ('etc/b')" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void A_damaged_header_is_one_line_naming_image_layer_and_place_and_exit_2(string damage, string expected)
    {
        // the reference: GNU tar refuses the layer too, but for GNU sparse files (it reads them; LayerDive
        // does not) and a changed magic (it reads a V7 header, the name prefix lost without a word)
        if (Scripts.OnPath("tar") && damage is not ("gnu-sparse-pax" or "magic-prefix"))
        {
            var (tarCode, _, tarSays) = Scripts.Exec("tar", ["-tvf", LayerTar(damage)]);
            Assert.True(tarCode != 0 || tarSays.Contains("tar:", StringComparison.Ordinal), $"GNU tar took {damage} without a word");
        }
        foreach (var compression in new[] { LayerCompression.Gzip, LayerCompression.None })
        {
            var path = Image(damage, compression);
            var r = Tool.Run("ls", path, "--format", "tsv");
            Assert.True(r.ExitCode == 2, $"{damage}: exit {r.ExitCode}\n{r.Stdout}{r.Stderr}");
            Assert.Empty(r.Stdout);
            var line = Assert.Single(r.StderrLines);
            Assert.StartsWith($"layerdive: error: {path}: layer 0 (sha256:", line);
            Assert.True(line.Contains(expected, StringComparison.Ordinal), line);
            Assert.DoesNotContain("internal error", line);
        }
    }

    /// <summary>Data after the end-of-archive blocks that is not a tar header: GNU tar reads past it in silence; here a warning, and the listing whole.</summary>
    [Fact]
    public void Garbage_after_the_end_of_the_archive_is_a_warning_and_the_listing_is_whole()
    {
        var path = Image("trailing");
        var clean = Image("clean");
        var r = Tool.Run("ls", path, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Tool.Run("ls", clean, "--format", "tsv").Stdout, r.Stdout);
        Assert.Contains("etc/c\t", r.Stdout);
        Assert.Matches($@"^layerdive: warning: {System.Text.RegularExpressions.Regex.Escape(path)}: layer 0: 512 bytes of data after the tar end-of-archive block \(offset \d+\) ignored$", Assert.Single(r.StderrLines));
    }

    /// <summary>A magic that is neither ustar nor GNU on a header with nothing past the V7 fields: GNU tar and Go read it as V7, and so does LayerDive, with a warning.</summary>
    [Fact]
    public void A_changed_magic_with_no_prefix_reads_as_v7_with_a_warning()
    {
        var path = Image("magic");
        var r = Tool.Run("ls", path, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Tool.Run("ls", Image("clean"), "--format", "tsv").Stdout, r.Stdout);
        Assert.Equal($"layerdive: warning: {path}: layer 0: etc/b: its tar header's magic 'uxtar\\000' is neither ustar nor GNU; read as an old V7 header", Assert.Single(r.StderrLines));
    }

    public void Dispose() => _dir.Dispose();
}
