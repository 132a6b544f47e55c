using LayerDive.Samples;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// A gzip layer must end where gzip says: its last member complete, with its CRC and size trailer
/// (issue 13, item 2). The tar inside stays whole in every case here, so only the gzip framing tells
/// the damage; gzip -t is the reference for each verdict.
/// </summary>
public sealed class DamagedGzipTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static ImageBuilder Image() => new ImageBuilder()
        .Layer("base", l => l.Dir("etc").File("etc/os-release", "ID=test\n").File("etc/big", new string('x', 100_000)))
        .Layer("app", l => l.Dir("app").File("app/run.sh", "#!/bin/sh\necho hi\n", mode: 0x1ED));

    private string Write(string name, Func<byte[], byte[]>? damageLayer1)
    {
        var image = Image();
        if (damageLayer1 is not null) image.TamperBlob = (n, blob) => n == 1 ? damageLayer1(blob) : blob;
        var path = _dir.File(name);
        image.WriteOciArchive(path);
        return path;
    }

    private static (int Code, string Stderr) GzipTest(byte[] blob, TempDir dir)
    {
        if (!Scripts.OnPath("gzip")) Assert.Skip("gzip is not installed");
        var file = dir.File($"blob-{Guid.NewGuid():N}.gz");
        File.WriteAllBytes(file, blob);
        var (code, _, stderr) = Scripts.Exec("gzip", ["-t", file]);
        return (code, stderr);
    }

    public static TheoryData<string> Truncations => ["trailer", "half-trailer", "header-only", "partial-second-member", "crc"];

    private static byte[] Damage(string how, byte[] blob) => how switch
    {
        "trailer" => blob[..^8],                       // the CRC and size cut off: the tar is still whole
        "half-trailer" => blob[..^3],
        "header-only" => blob[..10],                   // what is left of a layer cut to its gzip header
        "partial-second-member" => [.. blob, .. blob[..40]],
        "crc" => Flip(blob, blob.Length - 8),          // the CRC no longer matches the data
        _ => throw new ArgumentException(how),
    };

    private static byte[] Flip(byte[] b, int at)
    {
        var copy = (byte[])b.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    [Theory]
    [MemberData(nameof(Truncations))]
    public void A_gzip_layer_that_does_not_end_where_gzip_says_is_one_line_and_exit_2(string how)
    {
        byte[]? damaged = null;
        var path = Write($"{how}.tar", b => damaged = Damage(how, b));
        Assert.NotEqual(0, GzipTest(damaged!, _dir).Code); // gzip -t rejects it too
        // --no-verify: the blob digest would not catch it either way (the archive's digests were recomputed)
        foreach (var args in new[] { new[] { "ls", path }, ["ls", path, "--no-verify"], ["--ci", path] })
        {
            var r = Tool.Run(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
            var line = Assert.Single(r.StderrLines);
            Assert.StartsWith($"layerdive: error: {path}: layer 1", line);
            Assert.True(line.Contains(how == "crc" ? "incorrect data check" : "no CRC and size trailer"), line);
            Assert.DoesNotContain("internal error", line);
        }
    }

    /// <summary>Garbage after the last member: gzip warns (exit 2); zeros: gzip says nothing (exit 0).</summary>
    [Theory]
    [InlineData("garbage")]
    [InlineData("zeros")]
    public void Bytes_after_the_last_member_are_as_gzip_says_and_the_listing_is_whole(string what)
    {
        byte[]? damaged = null;
        var path = Write($"{what}.tar", b => damaged = what == "garbage" ? [.. b, 1, 2, 3, 4, 5] : [.. b, .. new byte[700]]);
        var (gzipCode, gzipSays) = GzipTest(damaged!, _dir);
        Assert.True(gzipCode == (what == "garbage" ? 2 : 0), $"gzip -t: {gzipCode} {gzipSays}");
        var clean = _dir.File("clean.tar");
        Image().WriteOciArchive(clean);

        var r = Tool.Run("ls", path, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Tool.Run("ls", clean, "--format", "tsv").Stdout, r.Stdout);
        if (what == "garbage")
            Assert.Equal($"layerdive: warning: {path}: layer 1: 5 bytes after the gzip stream are not gzip data; ignored", Assert.Single(r.StderrLines));
        else
            Assert.Empty(r.StderrLines);
    }

    /// <summary>Concatenated members (gzip reads them as one stream; eStargz is made of them) are one layer.</summary>
    [Fact]
    public void A_layer_of_several_gzip_members_is_read_whole()
    {
        var image = Image();
        image.TamperBlob = (n, blob) =>
        {
            if (n != 0) return blob;
            // recompress layer 0's tar as three members split at arbitrary points
            using var inflated = new MemoryStream();
            using (var g = new System.IO.Compression.GZipStream(new MemoryStream(blob), System.IO.Compression.CompressionMode.Decompress))
                g.CopyTo(inflated);
            var tar = inflated.ToArray();
            using var output = new MemoryStream();
            foreach (var (from, to) in new[] { (0, 700), (700, 50_000), (50_000, tar.Length) })
                using (var g = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                    g.Write(tar, from, to - from);
            return output.ToArray();
        };
        var path = _dir.File("members.tar");
        image.WriteOciArchive(path);
        var clean = _dir.File("clean.tar");
        Image().WriteOciArchive(clean);
        var r = Tool.Run("ls", path, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Empty(r.StderrLines);
        Assert.Equal(Tool.Run("ls", clean, "--format", "tsv").Stdout, r.Stdout);
    }

    public void Dispose() => _dir.Dispose();
}
