using System.Formats.Tar;
using System.Text;
using LayerDive.Core;
using LayerDive.Core.Model;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// docs/bad-input.md. Errors: exit 2 and one line naming the image and the layer, no stack trace, nothing
/// written. Warnings: the image is shown and the oddity said. Must-work cases: simply work.
/// </summary>
public sealed class BadInputTests
{
    private static ImageBuilder TwoLayers() => new ImageBuilder()
        .Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))
        .Layer("app", l => l.File("app.bin", new string('x', 3000)));

    /// <summary>Runs `ls` on the image and checks the error contract; returns the one error line.</summary>
    private static string AssertFails(string image)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(image))!;
        var before = Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order().ToList();
        var cwdBefore = Directory.EnumerateFileSystemEntries(Environment.CurrentDirectory).Order().ToList();
        var r = Tool.Run("ls", image);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith($"layerdive: error: {image}: ", line);
        Assert.DoesNotContain(" at ", line.Replace(" at this point", "")); // no stack trace
        Assert.Empty(r.Stdout);
        Assert.Equal(before, Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order().ToList());
        Assert.Equal(cwdBefore, Directory.EnumerateFileSystemEntries(Environment.CurrentDirectory).Order().ToList());
        return line;
    }

    private static string Layout(TempDir dir, ImageBuilder image, LayerCompression compression = LayerCompression.Gzip)
    {
        var path = dir.File("image");
        image.WriteOciLayout(path, "t", compression);
        return path;
    }

    /// <summary>The two layers with layer 1's tar (app.bin's header, then its 3,000 bytes in six blocks) cut after <paramref name="bytes"/>.</summary>
    private static string WithAppLayerCut(TempDir dir, int bytes, LayerCompression compression = LayerCompression.Gzip)
    {
        var image = TwoLayers();
        image.TamperTar = (n, tar) => n == 1 ? tar[..bytes] : tar;
        return Layout(dir, image, compression);
    }

    [Fact]
    public void Truncated_tar_names_the_layer_and_the_entry()
    {
        using var dir = new TempDir();
        var line = AssertFails(WithAppLayerCut(dir, 512 + 1000)); // header + a third of app.bin
        Assert.Contains(": layer 1 (sha256:", line);
        Assert.Contains("entry 'app.bin'", line);
        Assert.Contains("truncated", line);
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.None)]
    public void A_layer_ending_right_after_its_last_file_opens_as_gnu_tar_reads_it(LayerCompression compression)
    {
        using var dir = new TempDir();
        var r = Tool.Run("ls", WithAppLayerCut(dir, 512 + 3072, compression)); // no end-of-archive blocks
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(r.StdoutLines, l => l.EndsWith("3.0 kB  app.bin"));
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.None)]
    public void A_layer_cut_on_a_block_boundary_inside_a_file_is_truncated(LayerCompression compression)
    {
        using var dir = new TempDir();
        var line = AssertFails(WithAppLayerCut(dir, 512 + 2048, compression)); // two of app.bin's six blocks
        Assert.Contains("entry 'app.bin'", line);
        Assert.Contains("truncated", line);
    }

    /// <summary>
    /// Of two bad layers the error names the lower, however soon the upper one's reader fails: three readers at
    /// once, layer 2 cut after its gzip header (it fails at its first read), layer 0 (2 MB of files that do not
    /// compress) cut at nine tenths.
    /// </summary>
    [Fact]
    public void Of_two_bad_layers_the_lower_is_named()
    {
        using var dir = new TempDir();
        var random = new Random(28);
        var image = new ImageBuilder()
            .Layer("big", l =>
            {
                for (int i = 0; i < 2000; i++)
                {
                    var bytes = new byte[1024];
                    random.NextBytes(bytes);
                    l.File($"f{i:D4}", bytes);
                }
            })
            .Layer("small", l => l.File("ok", "ok\n"))
            .Layer("bad", l => l.File("x", new string('x', 3000)));
        image.TamperBlob = (n, blob) => n switch { 0 => blob[..(blob.Length * 9 / 10)], 2 => blob[..20], _ => blob };
        var path = Layout(dir, image);
        for (int round = 0; round < 5; round++)
        {
            var ex = Assert.Throws<ImageException>(() => Images.Load(path, new LayerDive.Core.Loading.LoadOptions { MaxParallelism = 3 }));
            Assert.Equal(0, ex.LayerIndex);
        }
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Corrupt_compressed_data_is_an_error_in_that_layer(LayerCompression compression)
    {
        using var dir = new TempDir();
        var image = TwoLayers();
        image.TamperBlob = (n, blob) =>
        {
            if (n != 1) return blob;
            var copy = (byte[])blob.Clone();
            for (int i = 20; i < copy.Length - 12; i += 7) copy[i] ^= 0x5a;
            return copy;
        };
        var line = AssertFails(Layout(dir, image, compression));
        Assert.Contains(": layer 1 (sha256:", line);
        Assert.True(line.Contains("corrupt") || line.Contains("diff id mismatch") || line.Contains("truncated"), line);
    }

    [Fact]
    public void Missing_blob_is_named()
    {
        using var dir = new TempDir();
        var image = TwoLayers();
        var path = Layout(dir, image);
        var digest = image.Build().Layers[1].Digest;
        File.Delete(Path.Combine(path, "blobs", "sha256", digest[7..]));
        var line = AssertFails(path);
        Assert.Contains($": layer 1 ({digest[..19]}", line);
        Assert.Contains("missing", line);
    }

    [Fact]
    public void Blob_digest_mismatch_is_an_error_unless_verification_is_off()
    {
        using var dir = new TempDir();
        var image = TwoLayers();
        var path = Layout(dir, image, LayerCompression.None);
        var blob = Path.Combine(path, "blobs", "sha256", image.Build(LayerCompression.None).Layers[1].Digest[7..]);
        var bytes = File.ReadAllBytes(blob);
        bytes[512 + 10] = (byte)'y'; // a byte of app.bin's content
        File.WriteAllBytes(blob, bytes);
        var line = AssertFails(path);
        Assert.Contains("layer 1", line);
        Assert.Contains("blob digest mismatch", line);

        var unchecked_ = Tool.Run("ls", path, "--no-verify");
        Assert.Equal(0, unchecked_.ExitCode);
        Assert.Contains("app.bin", unchecked_.Stdout);
    }

    [Fact]
    public void Diff_id_mismatch_in_a_docker_archive_is_an_error()
    {
        using var dir = new TempDir();
        var image = TwoLayers();
        var archive = dir.File("image.tar");
        var (layers, _, config, _) = image.Build(LayerCompression.None);
        var tampered = (byte[])layers[1].Bytes.Clone();
        tampered[512 + 5] = (byte)'z';
        var manifest = $$"""[{"Config":"{{config.Digest[7..]}}.json","RepoTags":["t:1"],"Layers":["l0/layer.tar","l1/layer.tar"]}]""";
        ImageBuilder.WriteTar(archive, [("manifest.json", Encoding.UTF8.GetBytes(manifest)), ($"{config.Digest[7..]}.json", config.Bytes), ("l0/layer.tar", layers[0].Bytes), ("l1/layer.tar", tampered)]);
        var line = AssertFails(archive);
        Assert.Contains("layer 1", line);
        Assert.Contains("diff id mismatch", line);
    }

    [Theory]
    [InlineData("../../etc/passwd", "climbs out of the root")]
    [InlineData("a/../../b", "climbs out of the root")]
    public void Names_that_leave_the_root_are_errors(string name, string message)
    {
        using var dir = new TempDir();
        var image = TwoLayers().Layer("evil", l => l.Raw(() => new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("x"u8.ToArray()) }));
        var line = AssertFails(Layout(dir, image));
        Assert.Contains("layer 2", line);
        Assert.Contains($"entry '{name}'", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public void Name_with_a_nul_byte_is_an_error()
    {
        using var dir = new TempDir();
        var image = TwoLayers().Layer("nul", l => l.Raw(() => new PaxTarEntry(TarEntryType.RegularFile, "ok-name") { DataStream = new MemoryStream("x"u8.ToArray()) }));
        // TarWriter will not write a NUL: splice one into the PAX path record ("path=ok-name" -> "path=ba\0name")
        image.TamperTar = (n, tar) =>
        {
            if (n != 2) return tar;
            var copy = (byte[])tar.Clone();
            int at = copy.AsSpan().IndexOf("path=ok-name"u8);
            "path=ba\0name"u8.CopyTo(copy.AsSpan(at));
            return copy;
        };
        var line = AssertFails(Layout(dir, image));
        Assert.Contains("layer 2", line);
        Assert.Contains("NUL", line);
    }

    [Theory]
    [InlineData("null", "manifest.json is null, not a list of images")]
    [InlineData("", "manifest.json is empty")]
    [InlineData("{not json", "manifest.json is not JSON")]
    [InlineData("{\"Config\":\"x\"}", "manifest.json is an object, not a list of images")]
    public void Broken_manifest_json_is_one_clear_line(string manifest, string message)
    {
        using var dir = new TempDir();
        var archive = dir.File("image.tar");
        ImageBuilder.WriteTar(archive, [("manifest.json", Encoding.UTF8.GetBytes(manifest))]);
        var line = AssertFails(archive);
        Assert.EndsWith(message, line.Split(" (")[0]);
    }

    [Fact]
    public void Config_that_is_not_json_is_an_error()
    {
        using var dir = new TempDir();
        var archive = dir.File("image.tar");
        ImageBuilder.WriteTar(archive, [("manifest.json", """[{"Config":"c.json","RepoTags":["t:1"],"Layers":[]}]"""u8.ToArray()), ("c.json", "<html>"u8.ToArray())]);
        Assert.Contains("config is not JSON", AssertFails(archive));
    }

    [Fact]
    public void Old_gnu_sparse_entry_is_an_error()
    {
        using var dir = new TempDir();
        var image = new ImageBuilder().Layer("sparse", l => l.File("sparse.img", new string('s', 600)));
        image.TamperTar = (_, tar) => TarBytes.SetTypeFlag(tar, 'S');
        var line = AssertFails(Layout(dir, image));
        Assert.Contains("layer 0", line);
        Assert.Contains("sparse", line);
    }

    [Fact]
    public void Header_claiming_a_terabyte_in_a_tiny_layer_is_an_error_not_a_hang()
    {
        using var dir = new TempDir();
        var image = new ImageBuilder().Layer("liar", l => l.File("huge.bin", "tiny"));
        image.TamperTar = (_, tar) => TarBytes.SetSize(tar, 1L << 40);
        var line = AssertFails(Layout(dir, image));
        Assert.Contains("layer 0", line);
        Assert.Contains("truncated", line);
    }

    [Fact]
    public void Not_an_image_at_all()
    {
        using var dir = new TempDir();
        var junk = dir.File("junk.bin");
        File.WriteAllBytes(junk, Encoding.ASCII.GetBytes(new string('j', 5000)));
        AssertFails(junk);
        var tar = dir.File("plain.tar");
        ImageBuilder.WriteTar(tar, [("README", "hello"u8.ToArray())]);
        Assert.Contains("not a container image", AssertFails(tar));
        Assert.Contains("no such file", AssertFails(dir.File("does-not-exist.tar")));
    }

    // ---------------- warnings ----------------

    [Fact]
    public void Warnings_are_shown_and_the_image_still_opens()
    {
        using var dir = new TempDir();
        var image = TwoLayers().Layer("odd", l => l
            .Hardlink("etc/link", "etc/nothing-here")
            .Whiteout("etc/never-existed")
            .CharDevice("etc/passwd", 0, 0)
            .Raw(() => new GnuTarEntry(TarEntryType.RegularFile, "/etc/absolute") { DataStream = new MemoryStream("a"u8.ToArray()) }));
        image.TamperManifest = m => m["layers"]![0]!["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd";
        var path = Layout(dir, image);
        var r = Tool.Run("ls", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("etc/absolute", r.Stdout);
        var warnings = r.StderrLines;
        Assert.All(warnings, w => Assert.StartsWith($"layerdive: warning: {path}: layer ", w));
        Assert.Contains(warnings, w => w.Contains("layer 2: etc/link: hardlink to 'etc/nothing-here'"));
        Assert.Contains(warnings, w => w.Contains("layer 2: etc/never-existed: whiteout .wh.never-existed hides nothing"));
        Assert.Contains(warnings, w => w.Contains("layer 2: etc/passwd: overlay-native marker, not applied"));
        Assert.Contains(warnings, w => w.Contains("layer 2: etc/absolute: absolute entry name '/etc/absolute'"));
        Assert.Contains(warnings, w => w.Contains("layer 0: media type application/vnd.oci.image.layer.v1.tar+zstd says zstd but the bytes are gzip"));
        Assert.Empty(Tool.Run("ls", path, "--quiet").Stderr);
    }

    // ---------------- must simply work ----------------

    /// <summary>dive's inefficient files in --ci name odd paths as ls does: escaped, one line each.</summary>
    [Fact]
    public void Odd_names_among_the_inefficient_files_are_escaped_as_ls_escapes_them()
    {
        using var dir = new TempDir();
        // 💩 (U+1F4A9) is D83D DCA9 in UTF-16: its low half lies where a byte that is not UTF-8 is held (U+DC80-U+DCFF)
        static void Odd(LayerBuilder l) => l.File("tab\tname", "t").File("new\nline", "n").File("back\\slash", "b").File("ünï 日本 😀", "u").File("invalid-X-utf8", "i").File("pile 💩", "p");
        // both layers hold the five files in one order: the fifth header (four one-block files in) of each gets the byte
        var image = new ImageBuilder().Layer("odd", Odd).Layer("again", Odd);
        image.TamperTar = (_, tar) => TarBytes.ReplaceInName(tar, "X", [0xff], header: 4 * 1024);
        var r = Tool.Run(Layout(dir, image), "--ci");
        var inefficient = r.StdoutLines.SkipWhile(l => l != "Count  Wasted Space  File Path").Skip(1).TakeWhile(l => l.StartsWith("    2 ", StringComparison.Ordinal));
        // dive's columns: the count in 5, two spaces, the bytes in 12, two spaces
        Assert.Equal(["/back\\x5cslash", "/invalid-\\xff-utf8", "/new\\x0aline", "/pile 💩", "/tab\\x09name", "/ünï 日本 😀"],
            inefficient.Select(l => l[21..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Odd_names_huge_ids_and_old_times_simply_work()
    {
        using var dir = new TempDir();
        var image = new ImageBuilder().Layer("odd", l => l
            .File("tab\tname", "t").File("new\nline", "n").File("back\\slash", "b").File("ünï 日本 😀", "u")
            .File("invalid-X-utf8", "i")
            .Raw(() => new GnuTarEntry(TarEntryType.RegularFile, "big-ids") { Uid = 3_000_000, Gid = 2_100_000, ModificationTime = ImageBuilder.Epoch, DataStream = new MemoryStream("g"u8.ToArray()) })
            .Raw(() => new PaxTarEntry(TarEntryType.RegularFile, "sixties") { ModificationTime = new DateTimeOffset(1960, 1, 1, 0, 0, 0, TimeSpan.Zero), DataStream = new MemoryStream("s"u8.ToArray()) }));
        // an invalid UTF-8 byte in a raw ustar name (header 4 in the layer: after four one-block files)
        image.TamperTar = (_, tar) => TarBytes.ReplaceInName(tar, "X", [0xff], header: 4 * 1024);
        var path = Layout(dir, image);
        var m = Images.Load(path);
        Assert.Equal(3_000_000, m.Attrs("big-ids").Uid);
        Assert.Equal(2_100_000, m.Attrs("big-ids").Gid);
        Assert.Equal(new DateTimeOffset(1960, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), m.Attrs("sixties").MTime);
        Assert.True(m.Visible("ünï 日本 😀"));
        var r = Tool.Run("ls", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("tab\\x09name", r.Stdout);
        Assert.Contains("new\\x0aline", r.Stdout);
        Assert.Contains("back\\x5cslash", r.Stdout);
        // the byte 0xff is no UTF-8: shown as it is, and said once for the layer
        Assert.Contains("invalid-\\xff-utf8", r.Stdout);
        Assert.Equal(7, r.StdoutLines.Length); // one line a path, whatever bytes the names hold
        Assert.Equal($"layerdive: warning: {path}: layer 0: entry names that are not UTF-8 (the first: 'invalid-\\xff-utf8'): names are bytes, shown with \\xHH for each byte that is not UTF-8",
            Assert.Single(r.StderrLines));
    }

    [Fact]
    public void Empty_layers_and_an_empty_image_simply_work()
    {
        using var dir = new TempDir();
        var withEmpty = new ImageBuilder().Layer("base", l => l.File("a", "a")).Layer("nothing", _ => { }).Empty("ENV X=1");
        var m = Reference.Load(withEmpty);
        Assert.Equal(2, m.Layers.Count);
        Assert.Equal(0, m.Layers[1].EntryCount);
        Assert.True(m.Visible("a"));

        var empty = dir.File("empty");
        new ImageBuilder().Empty("CMD [\"sh\"]").WriteOciLayout(empty);
        var r = Tool.Run("ls", empty);
        Assert.Equal(0, r.ExitCode);
        Assert.Empty(r.Stdout);
        var overview = Tool.Run(empty);
        Assert.Equal(0, overview.ExitCode);
        Assert.Contains("in 0 layers", overview.Stdout);
    }

    [Fact]
    public async Task A_million_entries_in_one_directory_simply_work()
    {
        const int count = 1_000_000;
        var pipe = new System.IO.Pipelines.Pipe();
        var writer = Task.Run(() =>
        {
            using var s = pipe.Writer.AsStream();
            using var w = new TarWriter(s, TarEntryFormat.Gnu, leaveOpen: true);
            w.WriteEntry(new GnuTarEntry(TarEntryType.Directory, "d/"));
            for (int i = 0; i < count; i++)
                w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "d/f" + i.ToString("D7")));
        }, TestContext.Current.CancellationToken);
        using var reader = pipe.Reader.AsStream();
        var contents = await Task.Run(() => LayerDive.Core.Layers.LayerReader.Read(reader, new() { LayerIndex = 0 }, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        await writer;
        var merger = new LayerDive.Core.Merge.OverlayMerger();
        var layer = new LayerInfo { Index = 0 };
        merger.Apply(layer, contents);
        merger.Complete();
        Assert.Equal(count + 1, layer.Added);
        var d = merger.Root.Child("d")!.Value;
        Assert.Equal(count, d.ChildCount);
        Assert.True(d.Child("f0999999")!.Value.IsVisibleAt(0));
    }
}
