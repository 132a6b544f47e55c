using System.Security.Cryptography;
using System.Text;
using LayerDive.Core;
using LayerDive.Core.Model;
using LayerDive.Samples;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// Tar shapes other readers take, each built byte by byte as the single layer of an image, with the
/// listing (or refusal) that GNU tar 1.34, Python's tarfile (3.11) and Go's archive/tar (1.19) give
/// for the same bytes, run on them when these cases were written. Where they disagree, LayerDive
/// follows Go (the engines apply layers with it) and the case says so. Each case runs through `ls`,
/// `cat`, `extract` and the explorer's tree. The facts come from the peers' own test data:
/// libarchive/test/test_compat_*.tar.uu, Go's src/archive/tar/testdata, Python's Lib/test/testtar.tar.
/// </summary>
public sealed class TarFidelityTests : IDisposable
{
    private readonly TempDir _dir = new();

    private const int Block = RawTar.Block;
    private const long Time = RawTar.Time;
    private static readonly byte[] UstarMagic = RawTar.UstarMagic;
    private static readonly byte[] GnuMagic = RawTar.GnuMagic;
    private static readonly byte[] End = RawTar.End;

    private static byte[] Header(byte[] name, char type, long size = 0, int mode = 0x1A4, byte[]? link = null, byte[]? magic = null, byte[]? prefix = null, byte[]? mtime = null) =>
        RawTar.Header(name, type, size, mode, link, magic, prefix, mtime);

    private static byte[] Header(string name, char type, long size = 0, int mode = 0x1A4, string? link = null, byte[]? magic = null, byte[]? mtime = null) =>
        RawTar.Header(name, type, size, mode, link, magic, mtime);

    private static byte[] Data(string text) => RawTar.Data(text);

    private static byte[] Data(byte[] bytes) => RawTar.Data(bytes);

    private static byte[] Base256(long value, int width) => RawTar.Base256(value, width);

    private static byte[] Pax(params (string Key, byte[] Value)[] records) => RawTar.Pax(records);

    private static byte[] LongName(string name) => RawTar.LongName(name);

    private static readonly byte[] Koi8 = [0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4];   // "привет" in KOI8-R
    private static readonly byte[] Latin1 = [0xf0, 0xf2, 0xe9, 0xf7, 0xe5, 0xf4]; // "ðòé÷åô" in Latin-1: the same bytes shifted

    private static readonly byte[] Plain = [.. Header("a", '0', 600), .. Data(new string('a', 600)), .. Header("b", '0', 3), .. Data("bb\n"), .. End];

    // ---------------- the cases ----------------

    /// <summary>A layer: its tar, how it is stored, what `ls --format tsv` lists (path, type, size, mtime), the files' bytes, and the warnings or the error.</summary>
    private sealed record Case(string Name, byte[] Tar, string[] Listing, (string Path, string Bytes)[] Contents,
        string? Compression = null, string[]? Warnings = null, string? Error = null, byte[]? Trailing = null, bool PythonAgrees = true);

    private static readonly Case[] All =
    [
        // type NUL, a name ending in '/', size 1: a directory and no data (Go, Python; libarchive's
        // test_compat_tar_directory). GNU tar reads the directory but skips a block after it, and so
        // loses d2/: Go decides.
        new("old-style directory",
            [.. Header("d/", '\0', 1, 0x1ED), .. Header("d2/", '5', mode: 0x1ED), .. Header("d/f", '0', 2), .. Data("f\n"), .. End],
            ["d\tdir\t0\t-", "d/f\tfile\t2\t1700000000", "d2\tdir\t0\t-"], [("d/f", "f\n")],
            Warnings: ["layer 0: d: its header declares 1 bytes of data for an entry that has none"]),
        // type '0' with a trailing '/': Go and Python read a regular file (only type NUL is the old
        // directory); GNU tar reads a directory: Go decides (an engine makes the file d).
        new("type 0 with a trailing slash",
            [.. Header("d/", '0', 0, 0x1ED), .. Header("e", '0', 2), .. Data("e\n"), .. End],
            ["d\tfile\t0\t1700000000", "e\tfile\t2\t1700000000"], [("d", ""), ("e", "e\n")]),
        // names are bytes: KOI8-R and Latin-1 names stay two files (all three readers keep the bytes);
        // a real backslash is escaped too, so the shown form is unambiguous
        new("names that are not UTF-8",
            [.. Header(Koi8, '0', 5), .. Data("koi8\n"), .. Header(Latin1, '0', 7), .. Data("latin1\n"), .. Header("\\xd0", '0', 2), .. Data("b\n"), .. End],
            ["\\x5cxd0\tfile\t2\t1700000000", "\\xd0\\xd2\\xc9\\xd7\\xc5\\xd4\tfile\t5\t1700000000", "\\xf0\\xf2\\xe9\\xf7\\xe5\\xf4\tfile\t7\t1700000000"],
            [("\\xd0\\xd2\\xc9\\xd7\\xc5\\xd4", "koi8\n"), ("\\xf0\\xf2\\xe9\\xf7\\xe5\\xf4", "latin1\n"), ("\\x5cxd0", "b\n")],
            Warnings: ["layer 0: entry names that are not UTF-8 (the first: '\\xd0\\xd2\\xc9\\xd7\\xc5\\xd4')"]),
        // a directory with an empty name (libarchive's test_read_format_tar_empty_filename): Go and Python
        // read a directory named "", GNU tar substitutes "."; the engines clean it to ".": the root
        new("directory with an empty name",
            [.. Header("", '5', mode: 0x1FD), .. Header("f", '0', 2), .. Data("f\n"), .. End],
            ["f\tfile\t2\t1700000000"], [("f", "f\n")]),
        // a hardlink whose header carries its target's size: no data follows (all three readers)
        new("hardlink with a size",
            [.. Header("a", '0', 5), .. Data("aaaa\n"), .. Header("b", '1', 5, link: "a"), .. Header("c", '0', 2), .. Data("c\n"), .. End],
            ["a\tfile\t5\t1700000000", "b\tfile\t5\t1700000000", "c\tfile\t2\t1700000000"], [("a", "aaaa\n"), ("b", "aaaa\n"), ("c", "c\n")]),
        // magic "ustar\0" with version NUL NUL (plexus-archiver): ustar, its prefix read (all three readers)
        new("ustar version NUL NUL",
            [.. Header("f"u8.ToArray(), '0', 2, magic: [.. UstarMagic, 0, 0], prefix: "dir"u8.ToArray()), .. Data("f\n"), .. End],
            ["dir\tdir\t0\t-", "dir/f\tfile\t2\t1700000000"], [("dir/f", "f\n")]),
        // two GNU long names before one entry: GNU tar and Go take the last, Python the first: Go decides
        new("two GNU long names",
            [.. LongName("first/" + new string('x', 120)), .. LongName("second/" + new string('y', 120)), .. Header("short", '0', 2, magic: GnuMagic), .. Data("s\n"), .. End],
            ["second\tdir\t0\t-", $"second/{new string('y', 120)}\tfile\t2\t1700000000"], [($"second/{new string('y', 120)}", "s\n")],
            Warnings: ["two GNU long-name records for one entry (the second at offset 1024)"], PythonAgrees: false),
        // 1901, in base-256 and in a PAX record (libarchive's test_read_format_tar_... times): as given
        new("times before 1970",
            [.. Header("b256", '0', 2, mtime: Base256(-2146608000, 12)), .. Data("o\n"), .. Pax(("mtime", "-2146608000"u8.ToArray())), .. Header("paxold", '0', 2), .. Data("p\n"), .. End],
            ["b256\tfile\t2\t-2146608000", "paxold\tfile\t2\t-2146608000"], [("b256", "o\n"), ("paxold", "p\n")]),
        // the year 36812 (2^40 seconds) in base-256: as given
        new("a time far ahead",
            [.. Header("far", '0', 2, mtime: Base256(1L << 40, 12)), .. Data("f\n"), .. End],
            ["far\tfile\t2\t1099511627776"], [("far", "f\n")]),
        // binary xattrs (file capabilities hold 0x0a and NULs; IMA signatures any byte)
        new("binary PAX xattrs",
            [.. Pax(("SCHILY.xattr.security.capability", [0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
                ("SCHILY.xattr.security.ima", [0x03, 0x02, 0x0a, 0xff, 0x00])), .. Header("ping", '0', 2, 0x1ED), .. Data("p\n"), .. End],
            ["ping\tfile\t2\t1700000000"], [("ping", "p\n")]),
        // an old GNU sparse file: GNU tar, Python and Go read it; LayerDive refuses sparse files, in its own words
        new("old GNU sparse file",
            [.. Header("sparse", 'S', 0, magic: GnuMagic), .. End],
            [], [], Error: "entry 'sparse': an old GNU sparse file (type 'S', header offset 0): LayerDive does not read sparse files"),
        // xz and bzip2 blobs of two streams (the tar cut at a block boundary, each part compressed apart):
        // unxz, bunzip2, GNU tar and Python read every stream (Go's bzip2 too; Go has no xz)
        new("two xz streams", Plain, ["a\tfile\t600\t1700000000", "b\tfile\t3\t1700000000"], [("b", "bb\n")], Compression: "xz"),
        new("two bzip2 streams", Plain, ["a\tfile\t600\t1700000000", "b\tfile\t3\t1700000000"], [("b", "bb\n")], Compression: "bzip2"),
        // bytes after the last stream: bunzip2 warns and GNU tar goes on, Python and Go read the tar; unxz
        // refuses, Python reads: a warning, as for bytes after a gzip stream
        new("bytes after a bzip2 stream", Plain, ["a\tfile\t600\t1700000000", "b\tfile\t3\t1700000000"], [("b", "bb\n")], Compression: "bzip2",
            Warnings: ["layer 0: 8 bytes after the last bzip2 stream are not bzip2 data; ignored"], Trailing: "GARBAGE!"u8.ToArray()),
        new("bytes after an xz stream", Plain, ["a\tfile\t600\t1700000000", "b\tfile\t3\t1700000000"], [("b", "bb\n")], Compression: "xz",
            Warnings: ["layer 0: 8 bytes after the last xz stream are not xz data; ignored"], Trailing: "GARBAGE!"u8.ToArray()),
    ];

    public static TheoryData<string> Names() => [.. All.Select(c => c.Name)];

    private static Case Get(string name) => All.Single(c => c.Name == name);

    /// <summary>The case's image, an OCI layout; null (the test skips) when its compressor is not installed.</summary>
    private string? Image(Case c)
    {
        var path = _dir.File(string.Concat(c.Name.Split(' ')));
        var image = new ImageBuilder { TamperTar = (_, _) => c.Tar }.Layer(c.Name, _ => { });
        if (c.Compression is { } tool)
        {
            if (!Scripts.OnPath(tool)) return null;
            // the tar in two parts at a block boundary, each compressed apart, then the trailing bytes
            image.TamperBlob = (_, tar) => [.. Compress(tool, tar[..(3 * Block)]), .. Compress(tool, tar[(3 * Block)..]), .. c.Trailing ?? []];
            image.TamperManifest = m => m["layers"]![0]!["mediaType"] = "application/vnd.oci.image.layer.v1.tar+" + tool;
        }
        image.WriteOciLayout(path, compression: LayerCompression.None);
        return path;
    }

    private byte[] Compress(string tool, byte[] bytes)
    {
        var input = _dir.File("in-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllBytes(input, bytes);
        var (code, _, stderr) = Scripts.Exec(tool, "-kf", input);
        Assert.True(code == 0, stderr);
        return File.ReadAllBytes(input + (tool == "xz" ? ".xz" : ".bz2"));
    }

    private static string[] Rows(string tsv) =>
        [.. tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#') && !l.StartsWith(".\t", StringComparison.Ordinal))
            .Select(l => l.Split('\t')).Select(f => string.Join('\t', f[0], f[1], f[5], f[8]))];

    [Theory]
    [MemberData(nameof(Names))]
    public void Ls_lists_what_the_peers_list(string name)
    {
        var c = Get(name);
        if (Image(c) is not { } image) { Assert.Skip($"{c.Compression} is not installed"); return; }
        var r = Tool.Run("ls", image, "--format", "tsv");
        if (c.Error is { } error)
        {
            Assert.Equal(2, r.ExitCode);
            var line = Assert.Single(r.StderrLines);
            Assert.StartsWith($"layerdive: error: {image}: layer 0 (sha256:", line);
            Assert.EndsWith(error, line);
            return;
        }
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(c.Listing, Rows(r.Stdout));
        var warnings = r.StderrLines;
        Assert.Equal((c.Warnings ?? []).Length, warnings.Length);
        foreach (var w in c.Warnings ?? []) Assert.Contains(warnings, l => l.StartsWith($"layerdive: warning: {image}: ", StringComparison.Ordinal) && l.Contains(w, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Cat_prints_each_file_by_the_name_ls_shows(string name)
    {
        var c = Get(name);
        if (c.Contents.Length == 0) return;
        if (Image(c) is not { } image) { Assert.Skip($"{c.Compression} is not installed"); return; }
        foreach (var (path, bytes) in c.Contents)
        {
            var (code, stdout, stderr) = Cat(image, path);
            Assert.True(code == 0, $"cat {path}: {stderr}");
            Assert.Equal(bytes, Encoding.UTF8.GetString(stdout));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Extract_writes_each_name_as_its_bytes(string name)
    {
        var c = Get(name);
        if (c.Error is not null) return;
        if (Image(c) is not { } image) { Assert.Skip($"{c.Compression} is not installed"); return; }
        var output = _dir.File("x-" + string.Concat(c.Name.Split(' ')));
        var r = Tool.Run("extract", image, "/", "--output", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // what is on disk, by the names' bytes (Python lists them so; .NET would show U+FFFD), as ls shows them
        var (code, listing, err) = Scripts.Exec("python3", "-c",
            "import os,sys\nr=sys.argv[1].encode()\nfor d,ds,fs in os.walk(r):\n for n in ds+fs:\n  p=os.path.join(d,n); print(os.path.relpath(p,r).hex(), 'dir' if os.path.isdir(p) else open(p,'rb').read().hex())",
            output);
        Assert.True(code == 0, err);
        var onDisk = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .ToDictionary(f => PathText.Escape(PathText.FromBytes(Convert.FromHexString(f[0]))), f => f[1]);
        var expected = c.Listing.Select(l => l.Split('\t')).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), onDisk.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, type) in expected)
            if (type == "dir") Assert.Equal("dir", onDisk[path]);
        foreach (var (path, bytes) in c.Contents)
            Assert.Equal(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(bytes)), onDisk[path]);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_explorer_tree_shows_the_same_paths(string name)
    {
        var c = Get(name);
        if (c.Error is not null) return;
        if (Image(c) is not { } image) { Assert.Skip($"{c.Compression} is not installed"); return; }
        var model = Images.Load(image);
        var rows = new LayerDive.Ui.Explorer.TreeRows(model) { Layer = 0 }.Build();
        var shown = rows.Select(r => PathText.Escape(r.Node.Path) + "\t" + LayerDive.Core.Reports.RootfsListing.TypeName(r.Attributes.Type)).Order(StringComparer.Ordinal);
        var expected = c.Listing.Select(l => string.Join('\t', l.Split('\t')[..2])).Order(StringComparer.Ordinal);
        Assert.Equal(expected, shown);

        // the filter and the search take each path as the tree shows it (\xHH where the name is not UTF-8)
        foreach (var path in c.Listing.Select(l => l.Split('\t')[0]))
        {
            var filtered = new LayerDive.Ui.Explorer.TreeRows(model) { Layer = 0, Filter = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(path) + "$") }.Build();
            Assert.Contains(filtered, r => PathText.Escape(r.Node.Path) == path);
            var tree = new LayerDive.Ui.Explorer.FileTree(model);
            tree.Rows.Layer = 0;
            tree.Rebuild();
            Assert.True(tree.Find(path, includeCurrent: true), $"search for {path}");
            Assert.Contains(path, PathText.Escape(tree.Current!.Node.Path));
        }
    }

    /// <summary>Python's tarfile, run on the same tar now, names the same entries (where it agrees with Go).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Python_tarfile_reads_the_same_entries(string name)
    {
        var c = Get(name);
        if (c.Error is not null || !c.PythonAgrees) return;
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        var tar = _dir.File("py.tar");
        File.WriteAllBytes(tar, c.Tar);
        var (code, stdout, stderr) = Scripts.Exec("python3", "-c",
            "import tarfile,sys,os\nfor m in tarfile.open(sys.argv[1]):\n print(os.fsencode(m.name).hex(), 'dir' if m.isdir() else 'file' if m.isreg() or m.islnk() else m.type)", tar);
        Assert.True(code == 0, stderr);
        var python = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .Select(f => (Path: PathText.Normalize(PathText.FromBytes(Convert.FromHexString(f[0])), out _) ?? "", Type: f[1]))
            .Where(e => e.Path.Length > 0) // the root is no row
            .Select(e => PathText.Escape(e.Path) + "\t" + e.Type).Order(StringComparer.Ordinal);
        var model = Images.Load(Image(c)!);
        var ours = model.Walk(0).Where(n => !n.IsRoot && !n.StateAt(0)!.Value.Attributes.Implicit)
            .Select(n => PathText.Escape(n.Path) + "\t" + LayerDive.Core.Reports.RootfsListing.TypeName(n.StateAt(0)!.Value.Attributes.Type)).Order(StringComparer.Ordinal);
        Assert.Equal(python, ours);
    }

    [Fact]
    public void Explain_takes_the_shown_name_and_its_json_gives_the_bytes_back()
    {
        var image = Image(Get("names that are not UTF-8"))!;
        var r = Tool.Run("explain", image, "\\xd0\\xd2\\xc9\\xd7\\xc5\\xd4");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("/\\xd0\\xd2\\xc9\\xd7\\xc5\\xd4", r.StdoutLines[0]);
        Assert.Contains("5 B", r.Stdout); // the KOI8-R file, not its Latin-1 twin (7 B)
        var json = Tool.Run("explain", image, "/\\xf0\\xf2\\xe9\\xf7\\xe5\\xf4", "--format", "json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        if (!Scripts.OnPath("python3")) return;
        var file = _dir.File("explain.json");
        File.WriteAllText(file, json.Stdout);
        // what the document says of its paths, done: surrogateescape back to the bytes
        var (code, stdout, stderr) = Scripts.Exec("python3", "-c", "import json,os,sys\nd=json.load(open(sys.argv[1]))\nprint(d['pathEncoding'].split(';')[0], os.fsencode(d['path']).hex())", file);
        Assert.True(code == 0, stderr);
        Assert.Equal("utf-8 " + Convert.ToHexStringLower([(byte)'/', .. Latin1]), stdout.Trim());
    }

    [Fact]
    public void Escaped_names_read_back_to_their_bytes()
    {
        foreach (byte[] name in new[] { Koi8, Latin1, "\\xd0"u8.ToArray(), "ok/ü/😀"u8.ToArray(), [0xed, 0xa0, 0x80], [0xf0, 0x90, 0x80], [0xc3], "a\tb\nc\\"u8.ToArray() })
        {
            var s = PathText.FromBytes(name, out bool notUtf8);
            Assert.Equal(!System.Text.Unicode.Utf8.IsValid(name), notUtf8);
            Assert.Equal(name, PathText.ToBytes(s));
            Assert.Equal(s, PathText.Unescape(PathText.Escape(s)));
            Assert.Equal(name.Length, PathText.ByteCount(s));
        }
        // two byte strings are two strings, and sort as their bytes
        Assert.NotEqual(PathText.FromBytes(Koi8), PathText.FromBytes(Latin1));
        var names = new[] { Koi8, Latin1, "\\xd0"u8.ToArray(), "\u00e9"u8.ToArray(), [0xc3], "z"u8.ToArray(), "\U00010080"u8.ToArray(), "\uffff"u8.ToArray() };
        var byBytes = names.OrderBy(n => n, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).Select(n => PathText.FromBytes(n));
        Assert.Equal(byBytes, names.Select(n => PathText.FromBytes(n)).Order(Comparer<string>.Create(PathText.CompareUtf8)));
        // what the listings show is read back as UTF-8 where the escapes spell it
        Assert.Equal("\u0412", PathText.Unescape("\\xd0\\x92"));
        Assert.Equal("a\\b", PathText.Unescape("a\\b"));
    }

    public void Dispose()
    {
        Scripts.Exec("rm", "-rf", _dir.Path); // names .NET cannot spell back (bytes that are not UTF-8)
        _dir.Dispose();
    }

    private static (int Code, byte[] Stdout, string Stderr) Cat(string image, string path)
    {
        var bytes = new MemoryStream();
        var stderr = new StringWriter { NewLine = "\n" };
        var context = new LayerDive.Cli.CliContext(TextWriter.Null, stderr, n => n is "PATH" or "HOME" or "LAYERDIVE_CACHE" ? Environment.GetEnvironmentVariable(n) : null, Environment.CurrentDirectory)
        { RawOut = () => new PipeStream(bytes) };
        int code = LayerDive.Cli.CommandLine.Run(["cat", image, path], context);
        return (code, bytes.ToArray(), stderr.ToString());
    }

}
