using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// What an archive read as a stream (compressed as a whole, or on standard input) keeps of its
/// documents (issue 25, "memory and disk"): every document has a cap (a manifest 4 MiB, a config
/// 64 MiB) and all of them together one too (64 MiB), so a few MB of input cannot hold gigabytes; a
/// manifest.json between 4 and 64 MiB is one line (it was an internal error), and a config of more
/// than 4 MiB now reads.
/// </summary>
public sealed class HeldDocumentTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    /// <summary>A tar header for a member of <paramref name="size"/> bytes, as TarWriter writes it.</summary>
    private static byte[] Header(string name, long size)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
            w.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(new byte[1]), ModificationTime = ImageBuilder.Epoch });
        return TarBytes.SetSize(ms.ToArray()[..512], size);
    }

    /// <summary>
    /// A .tar.gz of 1,000 members of 4 MiB that look like JSON (a brace, spaces, a brace), then the
    /// image's config and manifest.json: gzip members joined (one stream to any gzip reader), the 4 MiB
    /// one compressed once, so the file is about 4 MB.
    /// </summary>
    private static void WriteThousand(string path)
    {
        var body = new byte[4 << 20];
        Array.Fill(body, (byte)' ');
        (body[0], body[^1]) = ((byte)'{', (byte)'}');
        var gzBody = HostileStoreTests.Gzip(body);
        using var f = File.Create(path);
        for (int i = 0; i < 1000; i++)
        {
            f.Write(HostileStoreTests.Gzip(Header($"junk/m{i:D4}.json", body.Length)));
            f.Write(gzBody);
        }
        var tail = new MemoryStream();
        using (var w = new TarWriter(tail, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, text) in new[] { ("c.json", """{"rootfs":{"type":"layers","diff_ids":[]}}"""), ("manifest.json", """[{"Config":"c.json","RepoTags":["junk:1"],"Layers":[]}]""") })
                w.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)), ModificationTime = ImageBuilder.Epoch });
        }
        f.Write(HostileStoreTests.Gzip(tail.ToArray()));
    }

    [Fact]
    public void A_thousand_members_that_look_like_JSON_are_held_up_to_the_cap_and_then_one_line()
    {
        using var dir = new TempDir();
        var path = dir.File("thousand.tar.gz");
        WriteThousand(path);
        Assert.InRange(new FileInfo(path).Length, 1 << 20, 16 << 20);
        foreach (var stdin in new[] { false, true })
        {
            var r = stdin ? Child.Run(Bound, Watch.None, null, path, "ls", "-") : Child.Run(Bound, Watch.None, null, null, "ls", path);
            Assert.False(r.Killed, $"still running after {Bound.TotalSeconds} s");
            Assert.Equal(2, r.ExitCode);
            var line = Assert.Single(r.ErrorLines);
            Assert.Equal($"layerdive: error: {(stdin ? "-" : path)}: 'c.json' was not kept: the documents a streamed archive holds may be 64 MiB in all, and the members before it took them", line);
            Assert.True(r.PeakRssMiB < 200, $"peak RSS {r.PeakRssMiB} MiB");
        }
    }

    [Fact]
    public void A_manifest_json_of_5_MiB_in_a_compressed_archive_or_on_standard_input_is_one_line()
    {
        using var dir = new TempDir();
        var tar = dir.File("big-manifest.tar");
        var manifest = "[" + new string(' ', 5 << 20) + "]";
        ImageBuilder.WriteTar(tar, [("manifest.json", Encoding.UTF8.GetBytes(manifest))]);
        var gz = dir.File("big-manifest.tar.gz");
        File.WriteAllBytes(gz, HostileStoreTests.Gzip(File.ReadAllBytes(tar)));
        foreach (var (source, stdin) in new[] { (tar, (string?)null), (gz, null), ("-", gz) })
        {
            var r = Child.Run(Bound, Watch.None, null, stdin, "ls", source);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"layerdive: error: {source}: 'manifest.json' is {manifest.Length} bytes: a manifest or index may be 4 MiB at most", Assert.Single(r.ErrorLines));
        }
    }

    [Fact]
    public void A_config_of_5_MiB_reads_from_a_compressed_archive_and_standard_input_as_from_the_plain_archive()
    {
        using var dir = new TempDir();
        var (layers, _, config, _) = new ImageBuilder().Layer("base", l => l.Dir("etc").File("etc/motd", "hi\n")).Build(LayerCompression.None);
        // a label of 5 MiB: the config a streamed archive kept no more than 4 MiB of before
        var node = JsonNode.Parse(config.Bytes)!;
        node["config"]!["Labels"] = new JsonObject { ["pad"] = new string('p', 5 << 20) };
        var bytes = Encoding.UTF8.GetBytes(node.ToJsonString());
        var hex = ImageBuilder.Digest(bytes)[7..];
        var tar = dir.File("big-config.tar");
        ImageBuilder.WriteTar(tar, [($"{hex}.json", bytes), ("l0/layer.tar", layers[0].Bytes),
            ("manifest.json", Encoding.UTF8.GetBytes($$"""[{"Config":"{{hex}}.json","RepoTags":["big:1"],"Layers":["l0/layer.tar"]}]"""))]);
        var gz = dir.File("big-config.tar.gz");
        File.WriteAllBytes(gz, HostileStoreTests.Gzip(File.ReadAllBytes(tar)));
        var expected = Tool.Run("ls", tar, "--format", "tsv");
        Assert.True(expected.ExitCode == 0, expected.Stderr);
        Assert.Contains("etc/motd", expected.Stdout);
        foreach (var (source, stdin) in new[] { (gz, (string?)null), ("-", gz) })
        {
            var r = Child.Run(Bound, Watch.None, null, stdin, "ls", source, "--format", "tsv");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(expected.Stdout, r.Stdout);
        }
    }

    /// <summary>A config within its 64 MiB of "0," (33 million values): before, a gigabyte of index, and from a 64 KB .tar.gz an internal error.</summary>
    [Fact]
    public void A_config_of_tiny_values_is_one_line_in_little_memory()
    {
        using var dir = new TempDir();
        var config = "[" + string.Concat(Enumerable.Repeat("0,", (64 << 20) / 2 - 16)) + "0]";
        var tar = dir.File("tiny-values.tar");
        ImageBuilder.WriteTar(tar, [("c.json", Encoding.UTF8.GetBytes(config)), ("manifest.json", """[{"Config":"c.json","RepoTags":["tiny:1"],"Layers":[]}]"""u8.ToArray())]);
        var gz = dir.File("tiny-values.tar.gz");
        File.WriteAllBytes(gz, HostileStoreTests.Gzip(File.ReadAllBytes(tar)));
        Assert.True(new FileInfo(gz).Length < 1 << 20);
        foreach (var (source, stdin) in new[] { (tar, (string?)null), (gz, null), ("-", gz) })
        {
            var r = Child.Run(Bound, Watch.None, null, stdin, "ls", source);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"layerdive: error: {source}: config holds more than 2097152 JSON values, more than any image document needs; refused", Assert.Single(r.ErrorLines));
            Assert.True(r.PeakRssMiB < 200, $"{source}: peak RSS {r.PeakRssMiB} MiB");
        }
    }

    /// <summary>A manifest that names a layer as its config: the member was never kept as a document (it was an internal error).</summary>
    [Fact]
    public void A_config_that_is_a_layer_in_a_streamed_archive_is_one_line()
    {
        using var dir = new TempDir();
        var (layers, _, _, _) = new ImageBuilder().Layer("base", l => l.Dir("etc").File("etc/motd", "hi\n")).Build(LayerCompression.None);
        var tar = dir.File("layer-as-config.tar");
        ImageBuilder.WriteTar(tar, [("l0/layer.tar", layers[0].Bytes),
            ("manifest.json", """[{"Config":"l0/layer.tar","RepoTags":["odd:1"],"Layers":["l0/layer.tar"]}]"""u8.ToArray())]);
        var gz = dir.File("layer-as-config.tar.gz");
        File.WriteAllBytes(gz, HostileStoreTests.Gzip(File.ReadAllBytes(tar)));
        foreach (var (source, stdin) in new[] { (gz, (string?)null), ("-", gz) })
        {
            var r = Child.Run(Bound, Watch.None, null, stdin, "ls", source);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"layerdive: error: {source}: 'l0/layer.tar' is not a JSON document", Assert.Single(r.ErrorLines));
        }
    }
}
