using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using LayerDive.Core.Reports;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>The command as a user runs it: verbs, options, exit codes and what is printed.</summary>
public sealed class CliTests
{
    [Fact]
    public void History_prints_docker_history_of_the_dive_test_image()
    {
        var path = Paths.Public("dive__.data_test-docker-image.tar");
        // read the config independently: manifest.json -> Config member -> history[]
        var (config, configBytes) = DockerArchive.Config(path);
        var createdBy = config.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("created_by").GetString()!).Reverse().ToList();

        var result = Tool.Run("history", path);
        Assert.Equal(0, result.ExitCode);
        var lines = result.StdoutLines;
        var layersMade = config.GetProperty("history").EnumerateArray().Count(h => !h.TryGetProperty("empty_layer", out var e) || !e.GetBoolean());
        Assert.Equal(config.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength(), layersMade); // 14 layers, 15 steps (CMD made none)
        Assert.Equal(createdBy.Count + 1, lines.Length);
        Assert.Matches(@"^IMAGE\s{3,}CREATED\s{3,}CREATED BY\s{3,}SIZE\s{3,}COMMENT\s{3,}KIND$", lines[0]);
        Assert.StartsWith("sha256:" + Convert.ToHexStringLower(SHA256.HashData(configBytes)) + "   ", lines[1]);
        Assert.All(lines.Skip(2), l => Assert.StartsWith("<missing>", l));
        for (int i = 0; i < createdBy.Count; i++)
            Assert.Contains(createdBy[i], lines[i + 1]);
        Assert.Contains(" ago   ", lines[1]);
        Assert.Matches(@"CMD \[""sh""\]\s{3,}0B", lines[^2]); // the step without a layer: 0B, as docker prints it
    }

    [Fact]
    public void Ls_lists_the_merged_tree_after_any_layer()
    {
        var top = Tool.Run("ls", Paths.Sample);
        Assert.Equal(0, top.ExitCode);
        // from samples/LayerDive.Samples/SampleImage.cs: var/run became a file in layer 6, the archives were deleted in layer 2
        Assert.Contains(top.StdoutLines, l => l.StartsWith("-rw-r--r-- ", StringComparison.Ordinal) && l.EndsWith("  var/run", StringComparison.Ordinal));
        Assert.DoesNotContain(top.StdoutLines, l => l.Contains("var/cache/apt/archives"));
        Assert.Contains(top.StdoutLines, l => l.StartsWith("-rwsr-xr-x ", StringComparison.Ordinal) && l.EndsWith("usr/bin/tool", StringComparison.Ordinal));
        Assert.Contains(top.StdoutLines, l => l.EndsWith("bin/bash → sh", StringComparison.Ordinal));

        var one = Tool.Run("ls", Paths.Sample, "--layer", "1");
        Assert.Contains(one.StdoutLines, l => l.EndsWith("var/cache/apt/archives/app_1.0_amd64.deb", StringComparison.Ordinal) && l.Contains(" 20 kB "));
        Assert.Contains(one.StdoutLines, l => l.StartsWith("drwxr-xr-x ", StringComparison.Ordinal) && l.EndsWith("  var/run", StringComparison.Ordinal));
    }

    [Fact]
    public void Ls_changes_shows_each_status_and_why()
    {
        var l2 = Tool.Run("ls", Paths.Sample, "--layer", "2", "--changes");
        Assert.Equal(0, l2.ExitCode);
        Assert.Contains(l2.StdoutLines, l => l.StartsWith("D  ", StringComparison.Ordinal) && l.Contains("var/cache/apt/archives  (whiteout)"));
        Assert.Contains(l2.StdoutLines, l => l.StartsWith("D  ", StringComparison.Ordinal) && l.Contains("var/cache/apt/archives/app_1.0_amd64.deb  (parent whited out)"));
        Assert.Contains(l2.StdoutLines, l => l.StartsWith("D  ", StringComparison.Ordinal) && l.Contains("var/log/apt/history.log  (whiteout)"));

        var l3 = Tool.Run("ls", Paths.Sample, "--layer", "3", "--changes");
        Assert.Contains(l3.StdoutLines, l => l.StartsWith("D  ", StringComparison.Ordinal) && l.Contains("etc/app/defaults.json  (opaque directory)"));
        Assert.Contains(l3.StdoutLines, l => l.StartsWith("A  ", StringComparison.Ordinal) && l.EndsWith("etc/app/site.json", StringComparison.Ordinal));

        var l4 = Tool.Run("ls", Paths.Sample, "--layer", "4", "--changes");
        Assert.Contains(l4.StdoutLines, l => l.StartsWith("A  ", StringComparison.Ordinal) && l.EndsWith("etc/app/config.json", StringComparison.Ordinal)); // the opaque dir dropped the old one

        var l5 = Tool.Run("ls", Paths.Sample, "--layer", "5", "--changes");
        Assert.Contains(l5.StdoutLines, l => l.StartsWith("M  -rwsr-xr-x ", StringComparison.Ordinal) && l.EndsWith("usr/bin/tool  (mode)", StringComparison.Ordinal));
        Assert.Contains(l5.StdoutLines, l => l.StartsWith("M  ", StringComparison.Ordinal) && l.EndsWith("etc/motd  (size, content)", StringComparison.Ordinal));

        var l6 = Tool.Run("ls", Paths.Sample, "--layer", "6", "--changes");
        Assert.Contains(l6.StdoutLines, l => l.StartsWith("U  ", StringComparison.Ordinal) && l.EndsWith("usr/lib/app/libapp.so", StringComparison.Ordinal));
        Assert.Contains(l6.StdoutLines, l => l.StartsWith("A  ", StringComparison.Ordinal) && l.EndsWith("usr/lib/libapp.so.1 ⇒ usr/lib/app/libapp.so", StringComparison.Ordinal));
        Assert.Contains(l6.StdoutLines, l => l.StartsWith("D  ", StringComparison.Ordinal) && l.EndsWith("var/run/daemon.pid  (parent replaced by a non-directory)", StringComparison.Ordinal));
    }

    [Fact]
    public void Ls_aggregate_compares_the_top_with_layer_zero()
    {
        var r = Tool.Run("ls", Paths.Sample, "--aggregate", "--format", "tsv");
        Assert.Equal(0, r.ExitCode);
        var rows = r.StdoutLines.Skip(1).Select(l => l.Split('\t')).ToDictionary(c => c[1], c => c[0]);
        Assert.Equal("A", rows["usr/lib/app/app.py"]);
        Assert.Equal("M", rows["var/run"]);
        Assert.Equal("D", rows["var/run/daemon.pid"]);
        Assert.Equal("M", rows["etc/motd"]);
        Assert.False(rows.ContainsKey("etc/app/defaults.json")); // added in 1 and gone by 3: not a change against layer 0
        Assert.False(rows.ContainsKey("var/cache/apt/archives"));
    }

    [Fact]
    public void Ls_tsv_has_the_ground_truth_columns()
    {
        var r = Tool.Run("ls", Paths.Sample, "--format", "tsv");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(RootfsListing.Header, r.StdoutLines[0]);
        Assert.StartsWith(".\tdir\t0755\t0\t0\t0\t-\t-\t-\t-", r.StdoutLines[1]);
        var motd = r.StdoutLines.Single(l => l.StartsWith("etc/motd\t", StringComparison.Ordinal)).Split('\t');
        var content = "Welcome to the LayerDive sample.\nbe nice\n"u8.ToArray();
        Assert.Equal(["etc/motd", "file", "0644", "0", "0", content.Length.ToString(), Convert.ToHexStringLower(SHA256.HashData(content)), "-", ImageBuilder.Epoch.ToUnixTimeSeconds().ToString(), "1"], motd);
        var lib = r.StdoutLines.Single(l => l.StartsWith("usr/lib/libapp.so.1\t", StringComparison.Ordinal)).Split('\t');
        Assert.Equal("2", lib[9]); // nlink: two names for one file
    }

    [Fact]
    public void Layer_out_of_range_is_exit_2()
    {
        var r = Tool.Run("ls", Paths.Sample, "--layer", "7");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: {Paths.Sample}: there is no layer 7: the image has 7 layers (0..6)", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void Usage_errors_are_exit_2()
    {
        var r = Tool.Run("ls", Paths.Sample, "--format", "xml");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("layerdive: error: ", r.StderrLines[0]);
        Assert.Equal(2, Tool.Run("ls").ExitCode);
        Assert.Equal(2, Tool.Run("ls", Paths.Sample, "--source", "registry").ExitCode);
    }

    [Fact]
    public void Without_an_image_the_bundled_sample_opens()
    {
        var r = Tool.Run();
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Image:    layerdive/sample:latest (oci-archive, linux/amd64)", r.Stdout);
        Assert.Equal(7 + 1, r.StdoutLines.SkipWhile(l => !l.StartsWith("LAYER", StringComparison.Ordinal)).Count());
    }

    [Fact]
    public void Dive_scheme_prefixes_are_accepted()
    {
        var path = Paths.Public("dive__.data_test-docker-image.tar");
        var r = Tool.Run("ls", "docker-archive://" + path, "--quiet");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.EndsWith("root/saved.txt", StringComparison.Ordinal));
    }

    [Fact]
    public void Version_and_help_work()
    {
        Assert.Equal(0, Tool.Run("--version").ExitCode);
        var help = Tool.Run("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var verb in new[] { "ls", "history", "platforms", "--no-verify", "--platform", "--image" })
            Assert.Contains(verb, help.Stdout);
    }

    public static TheoryData<string> OuterCompressions => new() { "gzip", "zstd", "bzip2" };

    [Theory]
    [MemberData(nameof(OuterCompressions))]
    public void Whole_archive_compression_is_detected_by_its_bytes(string compression)
    {
        using var dir = new TempDir();
        var plain = dir.File("image.tar");
        SampleImage.Create().WriteDockerArchive(plain, "sample:docker");
        var packed = dir.File("image.bin"); // no telling extension
        using (var input = File.OpenRead(plain))
        using (var output = File.Create(packed))
        using (Stream z = compression switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest),
            "zstd" => new SharpCompress.Compressors.ZStandard.CompressionStream(output, 3, 1 << 16, leaveOpen: false),
            _ => SharpCompress.Compressors.BZip2.BZip2Stream.Create(output, SharpCompress.Compressors.CompressionMode.Compress, false, false, false),
        })
            input.CopyTo(z);
        var a = Tool.Run("ls", plain, "--format", "tsv");
        var b = Tool.Run("ls", packed, "--format", "tsv");
        Assert.Equal(0, b.ExitCode);
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.Contains("sample:docker", Tool.Run(packed).Stdout);
    }

    [Fact]
    public void Oci_layout_archive_and_docker_archive_give_the_same_tree()
    {
        using var dir = new TempDir();
        var image = SampleImage.Create();
        image.WriteOciLayout(dir.File("layout"), "x");
        image.WriteDockerArchive(dir.File("docker.tar"), "x:1");
        var a = Tool.Run("ls", dir.File("layout"), "--format", "tsv").Stdout;
        Assert.Equal(a, Tool.Run("ls", dir.File("docker.tar"), "--format", "tsv").Stdout);
        Assert.Equal(a, Tool.Run("ls", Paths.Sample, "--format", "tsv").Stdout);
    }
}

public sealed class UnitsTests
{
    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(9, "9 B")]
    [InlineData(12810, "13 kB")]
    [InlineData(32025, "32 kB")]
    [InlineData(1220598, "1.2 MB")]
    [InlineData(66237, "66 kB")]
    [InlineData(1000, "1.0 kB")]
    public void Bytes_read_as_go_humanize_writes_them(long bytes, string text) => Assert.Equal(text, Units.HumanBytes(bytes));

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(100, "100B")]
    [InlineData(12810, "12.8kB")]
    [InlineData(1220598, "1.22MB")]
    [InlineData(1000, "1kB")]
    [InlineData(5_630_000, "5.63MB")]
    public void Sizes_read_as_docker_history_writes_them(long bytes, string text) => Assert.Equal(text, Units.DockerSize(bytes));

    [Theory]
    [InlineData(0.5, "Less than a second")]
    [InlineData(45, "45 seconds")]
    [InlineData(90, "About a minute")]
    [InlineData(3600 * 5, "5 hours")]
    [InlineData(86400 * 3, "3 days")]
    [InlineData(86400 * 20, "2 weeks")]
    [InlineData(86400 * 100, "3 months")]
    [InlineData(86400 * 365 * 3, "3 years")]
    public void Durations_read_as_docker_writes_them(double seconds, string text) => Assert.Equal(text, Units.DockerDuration(TimeSpan.FromSeconds(seconds)));
}
