using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// xz and bzip2, as legacy docker save archives carry them: layer blobs so compressed are read, and a
/// damaged whole archive (file or standard input) is the image's fault in one line, never an
/// "internal error" (issue 13's examples, built here with Python's lzma and bz2).
/// </summary>
public sealed class DamagedCompressionTests : IDisposable
{
    private static readonly string DiveImage = Paths.Public("dive__.data_test-docker-image.tar");
    private readonly TempDir _dir = new();

    private string Python(string script, params string[] args)
    {
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        var (code, stdout, stderr) = Scripts.Exec("python3", ["-c", script, .. args]);
        Assert.True(code == 0, stderr);
        return stdout;
    }

    /// <summary>dive's image with layers 0 and 3 compressed (the members keep their names; the diff ids, of the tars, still hold).</summary>
    private string WithCompressedLayers(string codec)
    {
        var path = _dir.File($"layers-{codec}.tar");
        Python("""
            import sys, tarfile, json, io, lzma, bz2
            src, dst, codec = sys.argv[1:4]
            squeeze = lzma.compress if codec == "xz" else bz2.compress
            t = tarfile.open(src)
            layers = json.load(t.extractfile("manifest.json"))[0]["Layers"]
            out = tarfile.open(dst, "w", format=tarfile.PAX_FORMAT)
            for ti in t.getmembers():
                if ti.isfile() and ti.name in (layers[0], layers[3]):
                    data = squeeze(t.extractfile(ti).read())
                    ti.size = len(data)
                    out.addfile(ti, io.BytesIO(data))
                elif ti.isfile():
                    out.addfile(ti, t.extractfile(ti))
                else:
                    out.addfile(ti)
            out.close()
            """, DiveImage, path, codec);
        return path;
    }

    [Theory]
    [InlineData("xz")]
    [InlineData("bz2")]
    public void Xz_and_bzip2_layer_blobs_are_read(string codec)
    {
        var r = Tool.Run("ls", WithCompressedLayers(codec), "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Tool.Run("ls", DiveImage, "--format", "tsv").Stdout, r.Stdout);
    }

    /// <summary>The whole archive compressed, then a few bytes flipped in the middle, or cut short.</summary>
    [Theory]
    [InlineData("xz", "flip")]
    [InlineData("xz", "cut")]
    [InlineData("bz2", "flip")]
    [InlineData("bz2", "cut")]
    public void A_damaged_compressed_archive_is_one_line_and_exit_2(string codec, string damage)
    {
        var path = _dir.File($"damaged.tar.{codec}");
        Python("""
            import sys, lzma, bz2
            src, dst, codec, damage = sys.argv[1:5]
            data = bytearray((lzma.compress if codec == "xz" else bz2.compress)(open(src, "rb").read()))
            if damage == "flip":
                for at in (len(data) // 3, len(data) // 2):
                    data[at] ^= 0xFF
            else:
                data = data[: len(data) // 2]
            open(dst, "wb").write(data)
            """, DiveImage, path, codec, damage);
        var file = Tool.Run("ls", path);
        Assert.Equal(2, file.ExitCode);
        var line = Assert.Single(file.StderrLines);
        Assert.StartsWith($"layerdive: error: {path}: ", line);
        Assert.DoesNotContain("internal error", line);

        var (code, _, stderr) = Scripts.Exec("bash", ["-c", $"dotnet '{Path.Combine(AppContext.BaseDirectory, "layerdive.dll")}' ls - < '{path}'"]);
        Assert.Equal(2, code);
        var fromStdin = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("layerdive: error: -: ", fromStdin);
        Assert.DoesNotContain("internal error", fromStdin);
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>More of issue 13's examples: the image's fault named, never an internal error.</summary>
public sealed class DamagedArchiveTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>The first header's mode field starts with 0xff (a base-256 number far too large).</summary>
    [Fact]
    public void An_outer_tar_mode_field_starting_with_0xff_is_one_line()
    {
        var bytes = File.ReadAllBytes(Paths.Public("dive__.data_test-docker-image.tar"));
        bytes[100] = 0xFF; // the mode field of the first header (offset 100, 8 bytes)
        var path = _dir.File("mode.tar");
        File.WriteAllBytes(path, bytes);
        var r = Tool.Run("ls", path);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith($"layerdive: error: {path}: ", line);
        Assert.DoesNotContain("internal error", line);
    }

    [Fact]
    public void Extract_skips_a_symlink_with_an_empty_target_and_says_so()
    {
        var image = new LayerDive.Samples.ImageBuilder()
            .Layer("links", l => l.Dir("d").File("d/f", "content\n").Symlink("d/nowhere", "x"));
        // no tar writer here writes an empty link name: clear it in the header (linkname: offset 157, 100 bytes)
        image.TamperTar = (_, tar) =>
        {
            for (int at = 0; at + 512 <= tar.Length; at += 512)
                if (System.Text.Encoding.ASCII.GetString(tar, at, 9) == "d/nowhere")
                {
                    Array.Clear(tar, at + 157, 100);
                    return TarBytes.FixChecksum(tar, at);
                }
            throw new InvalidOperationException("the symlink's header was not found");
        };
        var path = _dir.File("links.tar");
        image.WriteOciArchive(path);
        var r = Tool.Run("extract", path, "/d", "--output", _dir.File("out"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("layerdive: note: skipped /d/nowhere (a symlink with an empty target: not created)", r.StderrLines);
        Assert.Equal("content\n", File.ReadAllText(_dir.File("out/d/f")));
        Assert.False(File.Exists(_dir.File("out/d/nowhere")) || Directory.Exists(_dir.File("out/d/nowhere")));
    }

    /// <summary>A layout whose index.json is a named pipe: refused at once, never waited on.</summary>
    [Fact]
    public async Task A_named_pipe_in_a_layout_is_refused_not_waited_on()
    {
        if (!Scripts.OnPath("mkfifo")) Assert.Skip("mkfifo is not installed");
        var layout = Directory.CreateDirectory(_dir.File("layout")).FullName;
        var source = Paths.Public("regclient__testdata_testrepo");
        foreach (var f in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(layout, Path.GetRelativePath(source, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        File.Delete(Path.Combine(layout, "index.json"));
        Assert.Equal(0, Scripts.Exec("mkfifo", Path.Combine(layout, "index.json")).ExitCode);
        var run = Task.Run(() => Tool.Run("ls", layout), TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(first == run, "ls waited on the named pipe");
        var r = await run;
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: {layout}: 'index.json' in the layout is not a regular file (a named pipe, device or socket); refused", Assert.Single(r.StderrLines));
    }

    /// <summary>A pipe named as a path (bash's process substitution) streams once, as standard input does.</summary>
    [Fact]
    public void A_pipe_named_as_a_path_is_read_as_a_stream()
    {
        if (!Scripts.OnPath("bash")) Assert.Skip("bash is not installed");
        var image = Paths.Public("dive__.data_test-docker-image.tar");
        var (code, stdout, stderr) = Scripts.Exec("bash", ["-c", $"dotnet '{Path.Combine(AppContext.BaseDirectory, "layerdive.dll")}' ls <(cat '{image}') --format tsv"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(Tool.Run("ls", image, "--format", "tsv").Stdout, stdout);
    }

    public void Dispose() => _dir.Dispose();
}
