using System.Diagnostics;

namespace LayerDive.Tests;

/// <summary>
/// Real containers-storage stores (overlay and vfs) made by podman and buildah under a temporary root,
/// each left as those tools leave it (bind mounts undone at the end).
/// </summary>
public sealed class StoreFixture : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "layerdive-stores-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The run roots: podman refuses one longer than 50 characters, so they live in a short folder of /tmp.</summary>
    private readonly string _runs = Path.Combine("/tmp", "ldrun-" + Guid.NewGuid().ToString("N")[..8]);

    private string RunRoot(string driver) => Path.Combine(_runs, driver);
    public string? SkipReason { get; }

    /// <summary>The images loaded: name in the store -> the archive it came from (null: built here by buildah).</summary>
    public Dictionary<string, string?> Images { get; } = [];

    public static readonly string[] Drivers = ["overlay", "vfs"];

    public StoreFixture()
    {
        if (Environment.UserName != "root") { SkipReason = "podman and buildah stores need root here"; return; }
        foreach (var tool in new[] { "podman", "buildah" })
            if (!Scripts.OnPath(tool)) { SkipReason = $"{tool} is not installed (apt-get install {tool}); .ci/run installs it"; return; }
        var archives = new Dictionary<string, string>
        {
            ["localhost/layerdive/sample:latest"] = Paths.Sample,
            ["localhost/dive-test:latest"] = Paths.Public("dive__.data_test-docker-image.tar"),
        };
        var tricky = Path.Combine(Paths.GeneratedCorpus, "tricky", "tricky.docker-archive.tar");
        if (File.Exists(tricky)) archives["localhost/corpus/tricky:latest"] = tricky;
        foreach (var driver in Drivers)
        {
            foreach (var (name, archive) in archives)
            {
                // podman load names an image by its archive's tag; the dive test image has none: tag it
                Run("podman", driver, "load", "-q", "-i", archive);
                if (name == "localhost/dive-test:latest")
                {
                    var id = Run("podman", driver, "images", "-q", "--filter", "dangling=true").Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                    if (id is not null) Run("podman", driver, "tag", id, "dive-test:latest");
                }
            }
            // a build with buildah: files, then a layer that deletes one, replaces a directory and chmods
            var first = Run("buildah", driver, "from", "scratch").Trim();
            var mount = Run("buildah", driver, "mount", first).Trim();
            Directory.CreateDirectory(Path.Combine(mount, "etc"));
            Directory.CreateDirectory(Path.Combine(mount, "data", "dir"));
            File.WriteAllText(Path.Combine(mount, "etc", "motd"), "hello\n");
            File.WriteAllText(Path.Combine(mount, "etc", "old"), "gone\n");
            File.WriteAllText(Path.Combine(mount, "data", "dir", "a"), "a\n");
            Run("buildah", driver, "commit", "-q", first, "built:1");
            var second = Run("buildah", driver, "from", "localhost/built:1").Trim();
            mount = Run("buildah", driver, "mount", second).Trim();
            File.Delete(Path.Combine(mount, "etc", "old"));
            Directory.Delete(Path.Combine(mount, "data", "dir"), recursive: true);
            Directory.CreateDirectory(Path.Combine(mount, "data", "dir"));
            File.WriteAllText(Path.Combine(mount, "data", "dir", "b"), "b\n");
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Path.Combine(mount, "etc", "motd"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Run("buildah", driver, "commit", "-q", second, "built:2");
            Run("buildah", driver, "rm", "-a");
        }
        foreach (var (name, archive) in archives) Images[name] = archive;
        Images["localhost/built:2"] = null;
        Unmount();
    }

    public string StoreRoot(string driver) => Path.Combine(Root, driver, "root");

    /// <summary>The reference as LayerDive takes it.</summary>
    public string Reference(string driver, string name) => $"containers-storage:[{driver}@{StoreRoot(driver)}+{RunRoot(driver)}]{name}";

    private string Run(string tool, string driver, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.Exec(tool, ["--root", StoreRoot(driver), "--runroot", RunRoot(driver), "--storage-driver", driver, .. args]);
        if (code != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: {stderr}");
        return stdout;
    }

    /// <summary>Undoes what the store left mounted under the root (containers-storage bind-mounts ROOT/overlay on itself).</summary>
    private void Unmount()
    {
        var mounts = File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')[1].Replace("\\040", " "))
            .Where(m => m.StartsWith(Root + "/", StringComparison.Ordinal) || m.StartsWith(_runs + "/", StringComparison.Ordinal)).Reverse();
        foreach (var m in mounts) Process.Start("umount", ["-l", m])!.WaitForExit();
    }

    public void Dispose()
    {
        Unmount();
        foreach (var dir in new[] { Root, _runs })
            if (Directory.Exists(dir))
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The stores are made once for every test class that reads them (this suite and the source contract's).</summary>
[CollectionDefinition("stores")]
public sealed class StoresCollection : ICollectionFixture<StoreFixture>;

/// <summary>
/// <c>containers-storage:[DRIVER@ROOT+RUNROOT]NAME</c> (issue 17, item 1): images podman loaded and
/// buildah built, read from the store's files with no engine running; the layers rebuilt from their
/// tar-split verify against their diff ids, and the merged tree equals the archive's and umoci's.
/// </summary>
[Collection("stores")]
public sealed class ContainersStorageTests(StoreFixture stores)
{
    private void Require()
    {
        if (stores.SkipReason is { } why) Assert.Skip(why);
    }

    public static TheoryData<string> Drivers => new(StoreFixture.Drivers);

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Every_loaded_image_lists_as_its_archive_does_and_its_layers_verify(string driver)
    {
        Require();
        foreach (var (name, archive) in stores.Images)
        {
            if (archive is null) continue;
            var reference = stores.Reference(driver, name);
            var fromStore = Tool.Run("ls", reference, "--format", "tsv");
            Assert.True(fromStore.ExitCode == 0, fromStore.Stderr);
            Assert.Equal(Tool.Run("ls", archive, "--format", "tsv").Stdout, fromStore.Stdout);
            var model = Images.Load(reference);
            Assert.All(model.Layers, l => Assert.True(l.Verified, $"{name}: layer {l.Index}"));
            Assert.Equal(model.Config.DiffIds, model.Layers.Select(l => l.DiffId));
            Assert.Equal("containers-storage", model.SourceKind);
        }
        // umoci's ground truth of the tricky image (every edge case), where the corpus was generated
        var truth = Path.Combine(Paths.GeneratedCorpus, "tricky.rootfs.tsv");
        if (stores.Images.ContainsKey("localhost/corpus/tricky:latest") && File.Exists(truth))
            Assert.Equal(File.ReadAllText(truth), Tool.Run("ls", stores.Reference(driver, "corpus/tricky"), "--format", "tsv").Stdout);
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_buildah_build_that_deletes_and_replaces_merges_as_umoci_unpacks_it(string driver)
    {
        Require();
        var reference = stores.Reference(driver, "built:2");
        var ours = Tool.Run("ls", reference, "--format", "tsv");
        Assert.True(ours.ExitCode == 0, ours.Stderr);
        // what the steps left: motd chmod 600, old deleted, data/dir replaced (a gone, b new)
        var paths = ours.StdoutLines.Skip(1).Select(l => l.Split('\t')).ToDictionary(c => c[0], c => c);
        Assert.Equal(["."  , "data", "data/dir", "data/dir/b", "etc", "etc/motd"], paths.Keys);
        Assert.Equal("0600", paths["etc/motd"][2]);
        var changes = Tool.Run("ls", reference, "--changes");
        Assert.Contains(changes.StdoutLines, l => l.StartsWith("D ", StringComparison.Ordinal) && l.Contains("etc/old  (whiteout)"));
        // how the removal is written is the driver's choice (overlay: an opaque directory; vfs: a whiteout of a)
        Assert.Contains(changes.StdoutLines, l => l.StartsWith("D ", StringComparison.Ordinal) && l.Contains("data/dir/a  ("));

        // umoci's reading of the same image, exported by skopeo from the store
        Support.Reference.RequireUmoci();
        if (!Scripts.OnPath("skopeo")) Assert.Skip("skopeo is not installed");
        using var dir = new TempDir();
        var layout = Path.Combine(dir.Path, "oci");
        var skopeo = Scripts.Exec("skopeo", "copy", "-q", stores.Reference(driver, "localhost/built:2"), $"oci:{layout}:t");
        Assert.True(skopeo.ExitCode == 0, skopeo.Stderr);
        var bundle = Path.Combine(dir.Path, "bundle");
        Support.Reference.Run("umoci", "unpack", "--image", layout + ":t", bundle);
        var tsv = Path.Combine(dir.Path, "rootfs.tsv");
        Support.Reference.Run("python3", Paths.CorpusTools, "rootfs", Path.Combine(bundle, "rootfs"), tsv);
        Assert.Equal(File.ReadAllText(tsv), ours.Stdout);
    }

    [Theory]
    [InlineData("layerdive/sample")]
    [InlineData("layerdive/sample:latest")]
    [InlineData("localhost/layerdive/sample:latest")]
    [InlineData("aba55cb8")]
    public void An_image_is_found_by_its_names_and_its_id(string name)
    {
        Require();
        var r = Tool.Run("history", stores.Reference("vfs", name));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("RUN apt-get install -y app", r.Stdout);
    }

    [Fact]
    public void The_default_driver_is_the_one_whose_folders_are_there()
    {
        Require();
        foreach (var driver in StoreFixture.Drivers)
        {
            var r = Tool.Run("ls", $"containers-storage:[{stores.StoreRoot(driver)}]layerdive/sample", "--format", "tsv");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(Tool.Run("ls", Paths.Sample, "--format", "tsv").Stdout, r.Stdout);
        }
        var missing = Tool.Run("ls", stores.Reference("vfs", "no/such:image"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no image no/such:image in the store", Assert.Single(missing.StderrLines));
        Assert.Contains("localhost/layerdive/sample:latest", missing.Stderr);
    }

    /// <summary>A copy of the vfs store, damaged one way: one line naming the image and the layer, exit 2.</summary>
    [Theory]
    [InlineData("missing layer folder", "the layer's folder")]
    [InlineData("corrupt tar-split", "tar-split")]
    [InlineData("tar-split line damaged", "damaged tar-split at line")]
    [InlineData("file shortened", "ends 1 bytes before the tar-split says")]
    [InlineData("incomplete layer", "marked incomplete")]
    public void A_damaged_store_is_one_line_and_exit_2(string damage, string says)
    {
        Require();
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "root");
        Assert.Equal(0, Scripts.Exec("cp", "-a", stores.StoreRoot("vfs"), root).ExitCode);
        var reference = $"containers-storage:[vfs@{root}]layerdive/sample";
        var model = Images.Load(reference);
        // layer 1 of the sample: its id is the second in the chain (its diff id, as the store names a layer it pulled)
        var layersJson = File.ReadAllText(Path.Combine(root, "vfs-layers", "layers.json"));
        var id = System.Text.Json.JsonDocument.Parse(layersJson).RootElement.EnumerateArray()
            .First(l => l.GetProperty("diff-digest").GetString() == model.Layers[1].DiffId).GetProperty("id").GetString()!;
        var split = Path.Combine(root, "vfs-layers", id + ".tar-split.gz");
        switch (damage)
        {
            case "missing layer folder": Directory.Delete(Path.Combine(root, "vfs", "dir", id), recursive: true); break;
            case "corrupt tar-split": File.WriteAllBytes(split, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]); break;
            case "tar-split line damaged":
                using (var gz = new System.IO.Compression.GZipStream(File.Create(split), System.IO.Compression.CompressionLevel.Fastest))
                    gz.Write("{\"type\":2,\"payload\":\"not base64!\",\"position\":0}\n"u8);
                break;
            case "file shortened":
                var lib = Path.Combine(root, "vfs", "dir", id, "usr", "lib", "app", "libapp.so");
                File.WriteAllBytes(lib, File.ReadAllBytes(lib)[..^1]);
                break;
            case "incomplete layer":
                File.WriteAllText(Path.Combine(root, "vfs-layers", "layers.json"), layersJson.Replace($"\"id\":\"{id}\"", $"\"id\":\"{id}\",\"flags\":{{\"incomplete\":true}}"));
                break;
        }
        // damaged bytes are found by reading them: with the cache off (the load above kept the layer when the
        // suite runs with it on); a folder gone is an error with the cache too (its layers are still looked for)
        var r = damage == "missing layer folder" ? Tool.Run("ls", reference) : Tool.Run("ls", "--no-cache", reference);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith($"layerdive: error: {reference}: ", line);
        Assert.Contains(says, line);
        if (damage != "incomplete layer") Assert.Contains("layer 1", line);
    }

    /// <summary>
    /// A store being written is read safely or refused: the store's own fcntl locks (what podman and
    /// buildah take) are honoured. A writer (a process holding layers.lock for writing, as c/storage's
    /// writers hold it) makes the read wait, or, past the wait, one line; a layer being read holds the
    /// read lock, so a writer cannot take the store from under it.
    /// </summary>
    [Fact]
    public void A_store_being_written_is_waited_for_or_refused_and_a_read_keeps_writers_out()
    {
        Require();
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        var lockFile = Path.Combine(stores.StoreRoot("vfs"), "vfs-layers", "layers.lock");
        var reference = stores.Reference("vfs", "layerdive/sample");
        // the writer: takes the lock, holds it, then marks that it lets go (a file written before the unlock)
        const string Writer = "import fcntl, sys, time\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(float(sys.argv[2]))\nopen(sys.argv[3], 'w').close()\nfcntl.lockf(f, fcntl.LOCK_UN)\ntime.sleep(5)\n";
        using var scratch = new TempDir();
        var released = Path.Combine(scratch.Path, "released");
        using (var writer = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3", ["-c", Writer, lockFile, "30", released]) { RedirectStandardOutput = true })!)
        {
            Assert.Equal("locked", writer.StandardOutput.ReadLine());
            var refused = Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_STORE_WAIT"] = "1" }, null, "ls", reference);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("layers.lock stayed locked for writing for 1 s", Assert.Single(refused.StderrLines));
            writer.Kill();
            writer.WaitForExit();
        }
        using (var writer = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3", ["-c", Writer, lockFile, "1", released]) { RedirectStandardOutput = true })!)
        {
            Assert.Equal("locked", writer.StandardOutput.ReadLine());
            var waited = Tool.Run("ls", reference, "--format", "tsv"); // waits for the writer, then reads
            Assert.True(waited.ExitCode == 0, waited.Stderr);
            Assert.True(File.Exists(released), "the read finished while the writer still held the store");
            writer.Kill();
            writer.WaitForExit();
            Assert.Equal(Tool.Run("ls", Paths.Sample, "--format", "tsv").Stdout, waited.Stdout);
        }
        // while a layer is read, a writer cannot lock
        using var source = LayerDive.Core.Sources.SourceCatalog.Open(reference, new LayerDive.Core.Sources.SourceOptions(), TestContext.Current.CancellationToken);
        var image = source.Candidates[0].Resolve(TestContext.Current.CancellationToken);
        const string TryLock = "import fcntl, sys\nf = open(sys.argv[1], 'r+')\ntry:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('locked')\nexcept OSError:\n    print('busy')\n";
        using (((LayerDive.Core.Sources.IRandomAccessBlobs)image.Blobs).Open(image.Layers[0]))
            Assert.Equal("busy", Scripts.Exec("python3", "-c", TryLock, lockFile).Stdout.Trim());
        Assert.Equal("locked", Scripts.Exec("python3", "-c", TryLock, lockFile).Stdout.Trim());
    }
}
