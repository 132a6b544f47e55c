using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>The <c>--json</c> report is written while the image loads (issue 13, item 6): whole or not at all.</summary>
public sealed class JsonExportTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void A_report_naming_the_image_being_read_is_refused_and_the_image_is_untouched()
    {
        var image = _dir.File("image.tar");
        File.Copy(Paths.Public("dive__.data_test-oci-gzip-image.tar"), image);
        var before = File.ReadAllBytes(image);
        var r = Tool.Run("--ci", "--json", image, image);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: {image}: --json {image} names the image being read; the report would replace it: name another file", Assert.Single(r.StderrLines));
        Assert.Equal(before, File.ReadAllBytes(image));
        Assert.Equal(["image.tar"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
    }

    /// <summary>Layer 0 is written to the report before layer 1 is found damaged: nothing of it is left behind.</summary>
    [Fact]
    public void A_load_that_fails_half_way_leaves_no_report()
    {
        var image = new ImageBuilder()
            .Layer("good", l => l.Dir("etc").File("etc/a", "a\n"))
            .Layer("bad", l => l.File("etc/b", "b\n"));
        image.TamperBlob = (n, blob) => n == 1 ? blob[..^8] : blob; // layer 1's gzip cut before its trailer
        var path = _dir.File("half.tar");
        image.WriteOciArchive(path);
        var report = _dir.File("report.json");
        File.WriteAllText(report, "an earlier report\n");
        var r = Tool.Run("--ci", "--json", report, path);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"layerdive: error: {path}: layer 1", Assert.Single(r.StderrLines));
        Assert.Equal("an earlier report\n", File.ReadAllText(report)); // replaced only when whole
        Assert.Equal(["half.tar", "report.json"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// The file lists are written on a thread of the report's own, beside the merge: a write that fails there
    /// (/dev/full refuses every byte with ENOSPC) still ends the run in one line naming the image, exit 2,
    /// however many layers were handed over before it.
    /// </summary>
    [Fact]
    public void A_report_that_cannot_be_written_is_one_line()
    {
        if (!File.Exists("/dev/full")) Assert.Skip("no /dev/full on this machine");
        var image = new ImageBuilder();
        for (int n = 0; n < 3; n++)
        {
            int layer = n;
            // enough items that the lists fill the writer's buffer (64 KB) and blocks (2,048 steps) several times
            image.Layer($"RUN make {layer}", l => { l.Dir($"d{layer}"); for (int i = 0; i < 3000; i++) l.File($"d{layer}/f{i}", $"{i}\n"); });
        }
        var path = _dir.File("many.tar");
        image.WriteOciArchive(path);
        var r = Tool.Run("--ci", "--json", "/dev/full", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: {path}: No space left on device : '/dev/full'", Assert.Single(r.StderrLines));
    }

    /// <summary>A report that cannot be written and a damaged layer: the layer's error is the one told (a reviewer's case).</summary>
    [Fact]
    public void A_damaged_layer_is_told_before_a_report_that_cannot_be_written()
    {
        if (!File.Exists("/dev/full")) Assert.Skip("no /dev/full on this machine");
        var image = new ImageBuilder()
            .Layer("good", l => { l.Dir("etc"); for (int i = 0; i < 3000; i++) l.File($"etc/f{i}", $"{i}\n"); })
            .Layer("bad", l => l.File("etc/b", "b\n"));
        image.TamperBlob = (n, blob) => n == 1 ? blob[..^8] : blob; // layer 1's gzip cut before its trailer
        var path = _dir.File("damaged.tar");
        image.WriteOciArchive(path);
        var r = Tool.Run("--ci", "--json", "/dev/full", path);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.True(line.StartsWith($"layerdive: error: {path}: layer 1", StringComparison.Ordinal), line);
    }

    public void Dispose() => _dir.Dispose();
}
