using System.Buffers.Binary;
using LayerDive.Core.Cache;
using LayerDive.Core.Loading;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// The layer cache: what a user sees is the same bytes with it and without it, a warm run opens no
/// blob (the blobs are overwritten with zeros after the first run, so any read of one fails its digest),
/// and cache files that are unsound are ignored and rewritten.
/// </summary>
public sealed class LayerCacheTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string CacheDir => Path.Combine(_dir.Path, "cache");

    private static CliResult Run(string? cache, params string[] args) =>
        Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = cache ?? "off" }, null, args);

    /// <summary>--ci --json on the image: the run and the JSON report's text (written to a file of its own).</summary>
    private (CliResult Run, string Json) Ci(string? cache, string image, params string[] more)
    {
        var json = Path.Combine(_dir.Path, Guid.NewGuid().ToString("N") + ".json");
        var r = Run(cache, ["--ci", image, "--json", json, .. more]);
        var text = File.Exists(json) ? File.ReadAllText(json) : "";
        return (r with { Stdout = r.Stdout.Replace(json, "J"), Stderr = r.Stderr.Replace(json, "J") }, text);
    }

    public static TheoryData<string> Images()
    {
        var data = new TheoryData<string>();
        foreach (var f in CorpusTests.PublicImages) data.Add(f.Data.Item1);
        data.Add("sample");
        return data;
    }

    /// <summary>The listings and the CI report without the cache, with a cold cache and with a warm one: the same bytes.</summary>
    [Theory]
    [MemberData(nameof(Images))]
    public void Listings_and_the_CI_report_are_the_same_bytes_with_and_without_the_cache(string file)
    {
        var image = file == "sample" ? Paths.Sample : Paths.Public(file);
        Assert.True(File.Exists(image) || Directory.Exists(image), $"{image} is missing");
        string[][] commands = [["ls", image, "-f", "tsv"], ["history", image], ["--ci", image, "--json", "J"], ["ls", image, "--changes", "-l", "0"]];
        foreach (var command in commands)
        {
            var outputs = new List<(CliResult Result, string Json)>();
            foreach (var (cache, n) in new[] { ((string?)null, 0), (CacheDir, 1), (CacheDir, 2) })
            {
                var json = Path.Combine(_dir.Path, $"out{n}.json");
                var result = Run(cache, command.Select(a => a == "J" ? json : a).ToArray());
                var text = File.Exists(json) ? File.ReadAllText(json) : "";
                outputs.Add((result with { Stdout = result.Stdout.Replace(json, "J"), Stderr = result.Stderr.Replace(json, "J") }, text));
            }
            for (int i = 1; i < outputs.Count; i++)
            {
                Assert.Equal(outputs[0].Result, outputs[i].Result);
                Assert.Equal(outputs[0].Json, outputs[i].Json);
            }
        }
    }

    private static ImageBuilder Builder(int layers)
    {
        var b = new ImageBuilder();
        b.Layer("base", l => l.Dir("etc").File("etc/os-release", "ID=test\n").Dir("usr").Dir("usr/bin").File("usr/bin/tool", new byte[40_000]).Symlink("usr/bin/t", "tool"));
        b.Layer("app", l => l.Dir("app").File("app/main", "main v1\n", mode: 0x1ED).Hardlink("app/main-link", "app/main").File("etc/os-release", "ID=changed\n"));
        b.Layer("clean", l => l.Whiteout("usr/bin/t").File("app/data", new byte[5000]));
        if (layers > 3) b.Layer("new", l => l.File("app/main", "main v2\n", mode: 0x1ED).File("app/extra", "x"));
        return b;
    }

    /// <summary>The layer blobs of an OCI layout, overwritten with zeros of their size: a run that reads one fails its digest.</summary>
    private static void ZeroBlobs(string layout, IEnumerable<string> digests)
    {
        foreach (var d in digests)
        {
            var path = Path.Combine(layout, "blobs", "sha256", d["sha256:".Length..]);
            File.WriteAllBytes(path, new byte[new FileInfo(path).Length]);
        }
    }

    [Fact]
    public void A_warm_run_reads_no_layer_blob_and_prints_the_same()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        var builder = Builder(3);
        builder.WriteOciLayout(layout);
        var (blobs, _, _, _) = builder.Build();
        var cold = Ci(CacheDir, layout);
        Assert.Equal(0, cold.Run.ExitCode);
        Assert.Equal(3, Directory.GetFiles(CacheDir, "*.ldc").Length);

        ZeroBlobs(layout, blobs.Select(b => b.Digest));
        var warm = Ci(CacheDir, layout);
        Assert.Equal(cold, warm);
        // the blobs are unreadable now: without the cache the same run fails, so the warm run read none
        var uncached = Ci(CacheDir, layout, "--no-cache").Run;
        Assert.Equal(2, uncached.ExitCode);
        // (the layers are read in parallel: the error names whichever damaged layer failed first)
        Assert.Matches(@"layer [0-2] \(sha256:", uncached.Stderr);
    }

    [Fact]
    public void An_image_with_one_layer_more_reads_only_that_layer()
    {
        var small = Path.Combine(_dir.Path, "small");
        Builder(3).WriteOciLayout(small);
        Assert.Equal(0, Run(CacheDir, "ls", small).ExitCode);

        var big = Path.Combine(_dir.Path, "big");
        var builder = Builder(4);
        builder.WriteOciLayout(big);
        var expected = Ci(null, big);
        var (blobs, _, _, _) = builder.Build();
        ZeroBlobs(big, blobs.Take(3).Select(b => b.Digest)); // the three layers the smaller image had
        var warm = Ci(CacheDir, big);
        Assert.Equal(expected, warm);
        Assert.Equal(4, Directory.GetFiles(CacheDir, "*.ldc").Length);
        Assert.Equal(2, Run(null, "ls", big).ExitCode); // the zeroed blobs fail without the cache

        // the same load in-process, its new layer's file gone: three layers taken from the cache, one read and written
        var diffIds = builder.Build().DiffIds;
        File.Delete(Directory.GetFiles(CacheDir, diffIds[3].Replace(':', '-') + "*.ldc").Single());
        var cache = new LayerCache(CacheDir);
        ImageLoader.Load(big, new LoadOptions { Cache = cache }, TestContext.Current.CancellationToken);
        Assert.Equal(3, cache.Hits);
        Assert.Equal(1, cache.Writes);
    }

    /// <summary>
    /// A blob gone from a layout or an archive is an error with a warm cache as without it (the cache spares
    /// reading a layer, not looking for it); one of another size than the blob the cache file was made from
    /// is read, and its damage found as without the cache; the compressed archive is read in its order
    /// (every layer from the cache, each member still looked for).
    /// </summary>
    [Theory]
    [InlineData("layout", "missing")]
    [InlineData("layout-cut", "truncated")]
    [InlineData("docker-archive", "missing")]
    [InlineData("docker-archive.tar.gz", "missing")]
    public void A_blob_gone_is_an_error_with_a_warm_cache_too(string form, string says)
    {
        var builder = Builder(3);
        var (blobs, _, _, _) = builder.Build();
        string image;
        if (form.StartsWith("layout", StringComparison.Ordinal))
        {
            image = Path.Combine(_dir.Path, "oci");
            builder.WriteOciLayout(image);
        }
        else
        {
            image = Path.Combine(_dir.Path, "image.tar");
            builder.WriteDockerArchive(image);
        }
        Assert.Equal(0, Run(CacheDir, "ls", image).ExitCode);
        Assert.Equal(3, Directory.GetFiles(CacheDir, "*.ldc").Length);
        switch (form)
        {
            case "layout":
                File.Delete(Path.Combine(image, "blobs", "sha256", blobs[1].Digest["sha256:".Length..]));
                break;
            case "layout-cut":
                var blob = Path.Combine(image, "blobs", "sha256", blobs[1].Digest["sha256:".Length..]);
                File.WriteAllBytes(blob, File.ReadAllBytes(blob)[..^1]);
                break;
            default:
                // the archive without layer 1's member (Python's tarfile copies the others), then compressed
                const string Copy = "import sys, tarfile\nwith tarfile.open(sys.argv[1]) as a, tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT) as b:\n"
                    + "    for m in a.getmembers():\n        if m.name != sys.argv[3]: b.addfile(m, a.extractfile(m) if m.isfile() else None)\n";
                var without = image + ".without";
                Assert.Equal(0, Scripts.Exec("python3", "-c", Copy, image, without, builder.Build().DiffIds[1]["sha256:".Length..] + "/layer.tar").ExitCode);
                File.Move(without, image, overwrite: true);
                if (form.EndsWith(".gz", StringComparison.Ordinal))
                {
                    Assert.Equal(0, Scripts.Exec("gzip", "-n", image).ExitCode);
                    image += ".gz";
                }
                break;
        }
        var uncached = Run(null, "ls", image);
        var warm = Run(CacheDir, "ls", image);
        Assert.Equal(2, uncached.ExitCode);
        Assert.Equal(2, warm.ExitCode);
        var line = Assert.Single(warm.StderrLines);
        Assert.True(line.Contains(": layer 1 (", StringComparison.Ordinal) && line.Contains(says, StringComparison.Ordinal), line);
        Assert.Equal(uncached.Stderr, warm.Stderr);
    }

    /// <summary>
    /// The advice's secret rules confirm a candidate by a marker in its bytes: a warm run takes which markers
    /// matched from the cache and reads no blob for them (the blobs are zeros by then), and the cache files
    /// hold no byte of the secret.
    /// </summary>
    [Fact]
    public void A_warm_run_confirms_secrets_from_the_cache_and_the_files_hold_no_secret()
    {
        const string Key = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQcorpusSECRETkey";
        var b = new ImageBuilder();
        b.Layer("base", l => l.Dir("etc").File("etc/os-release", "ID=test\n").Dir("root").Dir("root/.ssh")
            .File("root/.ssh/id_rsa", $"-----BEGIN OPENSSH PRIVATE KEY-----\n{Key}\n-----END OPENSSH PRIVATE KEY-----\n")
            .File("root/.ssh/id_ed25519", "a test key with no marker\n").Dir("app").File("app/.env", "PORT=80\n"));
        b.Layer("remove", l => l.Whiteout("root/.ssh/id_rsa").File("app/.env", $"API_TOKEN={Key}\n"));
        var layout = Path.Combine(_dir.Path, "oci");
        b.WriteOciLayout(layout);
        var (blobs, _, _, _) = b.Build();
        var expected = Ci(null, layout);
        Assert.Equal(1, expected.Run.ExitCode); // the key (deleted later) and the token fail the secrets rule
        var cold = Ci(CacheDir, layout);
        Assert.Equal(expected, cold);
        foreach (var f in Directory.GetFiles(CacheDir, "*.ldc"))
        {
            var bytes = File.ReadAllBytes(f);
            Assert.Equal(-1, bytes.AsSpan().IndexOf("corpusSECRET"u8));
            Assert.Equal(-1, bytes.AsSpan().IndexOf("PRIVATE KEY"u8));
        }
        ZeroBlobs(layout, blobs.Select(x => x.Digest));
        var warm = Ci(CacheDir, layout);
        Assert.Equal(expected, warm);
        Assert.Contains("id_rsa", warm.Json);
        Assert.Equal(2, Ci(null, layout).Run.ExitCode); // the blobs are unreadable: the warm run read none
    }

    public enum Damage { FlippedByte, Truncated, Empty, OtherVersion, Foreign, OtherLayer, Symlink, OtherOwner }

    [Theory]
    [InlineData(Damage.FlippedByte, "checksum")]
    [InlineData(Damage.Truncated, "checksum")]
    [InlineData(Damage.Empty, "not a LayerDive layer cache file")]
    [InlineData(Damage.OtherVersion, "format version 99")]
    [InlineData(Damage.Foreign, "not a LayerDive layer cache file")]
    [InlineData(Damage.OtherLayer, "another layer")]
    [InlineData(Damage.Symlink, "not a regular file")]
    [InlineData(Damage.OtherOwner, "belongs to user 4242")]
    public void An_unsound_cache_file_is_ignored_with_a_note_and_rewritten(Damage damage, string note)
    {
        if (damage == Damage.OtherOwner && CacheFiles.CurrentUser != 0) Assert.Skip("giving a file to another user needs root");
        var layout = Path.Combine(_dir.Path, "oci");
        Builder(3).WriteOciLayout(layout);
        var cold = Ci(CacheDir, layout);
        var files = Directory.GetFiles(CacheDir, "*.ldc").Order(StringComparer.Ordinal).ToArray();
        var originals = files.Select(File.ReadAllBytes).ToArray();
        var victim = files[1];
        var bytes = originals[1];
        switch (damage)
        {
            case Damage.FlippedByte:
                bytes = [.. bytes];
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(victim, bytes);
                break;
            case Damage.Truncated:
                File.WriteAllBytes(victim, bytes[..(bytes.Length - 5)]);
                break;
            case Damage.Empty:
                File.WriteAllBytes(victim, []);
                break;
            case Damage.OtherVersion:
                // version 99 with a checksum that is right for its bytes: only the version is wrong
                bytes = [.. bytes];
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 99);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
                File.WriteAllBytes(victim, bytes);
                break;
            case Damage.Foreign:
                File.WriteAllText(victim, "{\"not\": \"a cache file\"}\n");
                break;
            case Damage.OtherLayer:
                File.Copy(files[0], victim, overwrite: true); // sound, but of another layer
                break;
            case Damage.Symlink:
                File.Copy(victim, victim + ".elsewhere");
                File.Delete(victim);
                File.CreateSymbolicLink(victim, victim + ".elsewhere");
                break;
            case Damage.OtherOwner:
                Assert.Equal(0, Scripts.Exec("chown", "4242", victim).ExitCode);
                break;
        }
        var warm = Ci(CacheDir, layout);
        Assert.Equal(cold.Run.ExitCode, warm.Run.ExitCode);
        Assert.Equal(cold.Run.Stdout, warm.Run.Stdout);
        Assert.Equal(cold.Json, warm.Json);
        var line = Assert.Single(warm.Run.StderrLines, l => l.Contains("layer cache"));
        Assert.Contains(Path.GetFileName(victim), line);
        Assert.Contains(note, line);
        Assert.StartsWith("layerdive: note:", line);
        // rewritten as it was first written, a regular file of this user
        Assert.False(new FileInfo(victim).LinkTarget is not null);
        Assert.Equal(originals[1], File.ReadAllBytes(victim));
        var third = Ci(CacheDir, layout);
        Assert.Equal(cold, third);
    }

    [Fact]
    public void A_file_another_build_wrote_is_read_again_quietly_and_rewritten()
    {
        // an upgrade: a sound file from another build (its version and commit in the header) is a miss, as the
        // reader that wrote it may have decoded entries otherwise; no note, the blob read, the file made anew
        var layout = Path.Combine(_dir.Path, "oci");
        Builder(3).WriteOciLayout(layout);
        var cold = Ci(CacheDir, layout);
        var victim = Directory.GetFiles(CacheDir, "*.ldc").Order(StringComparer.Ordinal).First();
        var original = File.ReadAllBytes(victim);
        var build = System.Text.Encoding.UTF8.GetBytes(CacheFormat.Build);
        Assert.True(build.Length > 0);
        int at = original.AsSpan().IndexOf(build);
        Assert.True(at > 0, "the build is in the header");
        var other = original.ToArray();
        other[at] ^= 0x01; // the same length, another build
        BinaryPrimitives.WriteUInt64LittleEndian(other.AsSpan(other.Length - 8), System.IO.Hashing.XxHash3.HashToUInt64(other.AsSpan(0, other.Length - 8)));
        File.WriteAllBytes(victim, other);
        var warm = Ci(CacheDir, layout);
        Assert.Equal(cold, warm);
        Assert.DoesNotContain(warm.Run.StderrLines, l => l.Contains("layer cache", StringComparison.Ordinal));
        Assert.Equal(original, File.ReadAllBytes(victim));
    }

    [Fact]
    public async Task Two_runs_at_once_share_one_cache()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        Builder(4).WriteOciLayout(layout);
        var expected = Ci(null, layout);
        for (int round = 0; round < 4; round++)
        {
            if (Directory.Exists(CacheDir)) Directory.Delete(CacheDir, true);
            var env = new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = CacheDir };
            var runs = Enumerable.Range(0, 3).Select(i => Task.Run(() =>
            {
                var json = Path.Combine(_dir.Path, $"run{i}.json");
                var r = Scripts.Exec("dotnet", env, Path.Combine(AppContext.BaseDirectory, "layerdive.dll"), "--ci", layout, "--json", json);
                return (r, File.ReadAllText(json));
            })).ToArray();
            foreach (var (r, json) in await Task.WhenAll(runs))
            {
                Assert.True(r.ExitCode == 0, r.Stderr);
                Assert.Equal(expected.Json, json);
            }
            Assert.Equal(4, Directory.GetFiles(CacheDir, "*.ldc").Length);
            Assert.Empty(Directory.GetFiles(CacheDir, "*.tmp"));
            Assert.All(Directory.GetFiles(CacheDir, "*.ldc"), f => Assert.Null(CachedLayer.Check(File.ReadAllBytes(f), null, null, out _)));
            Assert.Equal(expected, Ci(CacheDir, layout));
        }
    }

    [Fact]
    public void The_size_bound_evicts_the_least_recently_used_files()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        Builder(4).WriteOciLayout(layout);
        Assert.Equal(0, Run(CacheDir, "ls", layout).ExitCode);
        var files = new DirectoryInfo(CacheDir).GetFiles("*.ldc").OrderBy(f => f.Name, StringComparer.Ordinal).ToArray();
        Assert.Equal(4, files.Length);
        var start = DateTime.UtcNow.AddHours(-4);
        for (int i = 0; i < files.Length; i++) File.SetLastWriteTimeUtc(files[i].FullName, start.AddMinutes(i));
        long bound = files.Skip(2).Sum(f => f.Length);
        var (removed, bytes) = new LayerCache(CacheDir, bound).Prune(bound);
        Assert.Equal(2, removed);
        Assert.Equal(files[0].Length + files[1].Length, bytes);
        Assert.Equal(files.Skip(2).Select(f => f.Name), new DirectoryInfo(CacheDir).GetFiles("*.ldc").Select(f => f.Name).Order(StringComparer.Ordinal));

        // a run bounded to one file's size keeps the total under it, whatever it wrote
        var smallest = files.Min(f => f.Length);
        var bounded = Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = CacheDir, ["LAYERDIVE_CACHE_MAX"] = smallest.ToString(System.Globalization.CultureInfo.InvariantCulture) }, null, "ls", layout);
        Assert.Equal(0, bounded.ExitCode);
        Assert.True(new DirectoryInfo(CacheDir).GetFiles("*.ldc").Sum(f => f.Length) <= Math.Max(smallest, files.Max(f => f.Length)));

        // a use makes a file the most recent: the next eviction takes the others first
        Directory.Delete(CacheDir, true);
        Assert.Equal(0, Run(CacheDir, "ls", layout).ExitCode);
        files = new DirectoryInfo(CacheDir).GetFiles("*.ldc").OrderBy(f => f.Name, StringComparer.Ordinal).ToArray();
        for (int i = 0; i < files.Length; i++) File.SetLastWriteTimeUtc(files[i].FullName, start.AddMinutes(i));
        Assert.Equal(0, Run(CacheDir, "ls", layout).ExitCode);
        Assert.All(new DirectoryInfo(CacheDir).GetFiles("*.ldc"), f => Assert.True(f.LastWriteTimeUtc > DateTime.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public void No_verify_neither_reads_nor_writes_the_cache()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        Builder(3).WriteOciLayout(layout);
        Assert.Equal(0, Run(CacheDir, "ls", layout, "--no-verify").ExitCode);
        Assert.False(Directory.Exists(CacheDir) && Directory.GetFiles(CacheDir).Length > 0);
        Assert.Equal(0, Run(CacheDir, "ls", layout, "--no-cache").ExitCode);
        Assert.False(Directory.Exists(CacheDir) && Directory.GetFiles(CacheDir).Length > 0);
        Assert.Equal(0, Run(null, "ls", layout, "--cache", CacheDir).ExitCode);
        Assert.Equal(3, Directory.GetFiles(CacheDir, "*.ldc").Length);
    }

    [Fact]
    public async Task Cache_ls_reads_no_pipe_no_link_and_nothing_past_the_bound()
    {
        // what a run would refuse, ls refuses too: a named pipe (opened blocking, it waited for a writer
        // for ever) and a link to an endless file (read whole, it ran out of memory)
        Directory.CreateDirectory(CacheDir);
        var pipe = Path.Combine(CacheDir, "sha256-" + new string('a', 64) + ".ldc");
        Assert.Equal(0, Scripts.Exec("mkfifo", pipe).ExitCode);
        File.CreateSymbolicLink(Path.Combine(CacheDir, "sha256-" + new string('b', 64) + ".ldc"), "/dev/zero");
        var ls = await Task.Run(() => Run(CacheDir, "cache", "ls"), TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken); // a hang fails here
        Assert.Equal(0, ls.ExitCode);
        Assert.Equal(2, ls.StdoutLines.Count(l => l.Contains("not a regular file", StringComparison.Ordinal)));
    }

    [Fact]
    public void Cache_ls_prune_and_clear_list_bound_and_empty_the_folder()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        var builder = Builder(3);
        builder.WriteOciLayout(layout);
        Assert.Equal(0, Run(CacheDir, "ls", layout).ExitCode);
        var stranger = Path.Combine(CacheDir, "notes.txt");
        File.WriteAllText(stranger, "the user's own file");
        var (blobs, diffIds, _, _) = builder.Build();

        var ls = Run(CacheDir, "cache", "ls");
        Assert.Equal(0, ls.ExitCode);
        var rows = ls.StdoutLines[1..^1].Select(l => l.Split('\t')).ToArray();
        // every layer: its diff id, its gzip blob's digest, and as many records as the layer has tar entries
        Assert.Equal(diffIds.Order(StringComparer.Ordinal), rows.Select(r => r[0]).Order(StringComparer.Ordinal));
        for (int i = 0; i < 3; i++)
        {
            var row = rows.Single(r => r[0] == diffIds[i]);
            Assert.Equal(blobs[i].Digest, row[1]);
            using var tar = new System.Formats.Tar.TarReader(new System.IO.Compression.GZipStream(new MemoryStream(blobs[i].Bytes), System.IO.Compression.CompressionMode.Decompress));
            int entries = 0;
            while (tar.GetNextEntry() is not null) entries++;
            Assert.Equal(entries.ToString(System.Globalization.CultureInfo.InvariantCulture), row[3]);
        }
        long total = Directory.GetFiles(CacheDir, "*.ldc").Sum(f => new FileInfo(f).Length);
        Assert.Contains($"3 files, {total} bytes", ls.StdoutLines[^1]);

        var prune = Run(CacheDir, "cache", "prune", "--max-size", "0");
        Assert.Equal(0, prune.ExitCode);
        Assert.Contains($"removed 3 files, {total} bytes", prune.Stdout);
        Assert.Equal(0, Run(CacheDir, "ls", layout).ExitCode);
        var clear = Run(CacheDir, "cache", "clear");
        Assert.Contains($"removed 3 files, {total} bytes", clear.Stdout);
        Assert.Empty(Directory.GetFiles(CacheDir, "*.ldc"));
        Assert.True(File.Exists(stranger)); // only the cache's own files go
        Assert.Equal(2, Run(null, "cache", "ls").ExitCode);
        Assert.Equal(2, Run(CacheDir, "cache", "prune", "--max-size", "lots").ExitCode);
    }

    [Fact]
    public void The_folder_is_the_option_else_the_variable_else_XDG_else_a_home_that_exists()
    {
        var home = _dir.Path;
        Assert.Equal(Path.Combine(home, ".cache", "layerdive"), LayerCache.Resolve(null, false, n => n == "HOME" ? home : null)!.Directory);
        Assert.Null(LayerCache.Resolve(null, false, n => n == "HOME" ? Path.Combine(home, "no-such-home") : null)); // no folders made for it
        Assert.Equal(Path.Combine(home, "xdg", "layerdive"), LayerCache.Resolve(null, false, n => n switch { "XDG_CACHE_HOME" => Path.Combine(home, "xdg"), "HOME" => home, _ => null })!.Directory);
        Assert.Equal("/x/y", LayerCache.Resolve("/x/y", false, n => n == "LAYERDIVE_CACHE" ? "/a" : null)!.Directory);
        Assert.Equal("/a", LayerCache.Resolve(null, false, n => n is "LAYERDIVE_CACHE" ? "/a" : n == "HOME" ? home : null)!.Directory);
        foreach (var off in new[] { "off", "0", "false", "no", "none", "OFF" })
            Assert.Null(LayerCache.Resolve(null, false, n => n == "LAYERDIVE_CACHE" ? off : n == "HOME" ? home : null));
        Assert.Null(LayerCache.Resolve("/x", true, n => n == "HOME" ? home : null));
        Assert.Equal(LayerCache.DefaultMaxBytes, LayerCache.Resolve("/x", false, _ => null)!.MaxBytes);
        Assert.Equal(3L << 30, LayerCache.Resolve("/x", false, n => n == "LAYERDIVE_CACHE_MAX" ? "3G" : null)!.MaxBytes);
        Assert.Equal(1500, LayerCache.Resolve("/x", false, n => n == "LAYERDIVE_CACHE_MAX" ? "1500" : null)!.MaxBytes);
        Assert.Throws<LayerDive.Core.ImageException>(() => LayerCache.Resolve("/x", false, n => n == "LAYERDIVE_CACHE_MAX" ? "big" : null));
    }

    [Fact]
    public void A_folder_that_cannot_be_written_is_a_note_when_named_and_quiet_when_default()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        Builder(3).WriteOciLayout(layout);
        var expected = Run(null, "ls", layout);
        var blocker = Path.Combine(_dir.Path, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var named = Run(Path.Combine(blocker, "cache"), "ls", layout); // a folder under a file: cannot be made, even by root
        Assert.Equal(expected.Stdout, named.Stdout);
        Assert.Equal(0, named.ExitCode);
        var line = Assert.Single(named.StderrLines);
        Assert.StartsWith($"layerdive: note: {layout}: layer cache {Path.Combine(blocker, "cache")} cannot be written", line);

        var home = Path.Combine(_dir.Path, "home");
        Directory.CreateDirectory(home);
        File.WriteAllText(Path.Combine(home, ".cache"), "a file where the folder would be");
        var quiet = Tool.RunWith(new Dictionary<string, string> { ["HOME"] = home, ["LAYERDIVE_CACHE"] = "" }, null, "ls", layout);
        Assert.Equal(expected, quiet);
    }
}
