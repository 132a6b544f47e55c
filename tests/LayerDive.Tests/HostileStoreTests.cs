using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// A containers-storage store and an OCI layout built by an attacker (issue 25, "reading outside what
/// the user named" and the store's "memory and disk" cases): links to the host's files in any
/// component, a layer folder that is a link, ids that are paths, named pipes and devices where files
/// belong, a huge record, a tar-split line with no end. Each ends in one line and exit 2 within a
/// bound, nothing of the victim (a file and a folder only the test knows) shows in any output, and
/// strace sees no open of it: with openat2, and with openat2 failing as on kernels before 5.6 (the
/// path walked one component at a time).
/// </summary>
public sealed class HostileStoreTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>Two layers: files, a folder, a link (the link is the layer's own, and is never opened).</summary>
    private static ImageBuilder Image() => new ImageBuilder()
        .Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0::/root:/bin/sh\n").Dir("bin").File("bin/sh", new string('s', 700)).Symlink("bin/bash", "sh"))
        .Layer("app", l => l.File("etc/motd", "hello\n").Dir("app").File("app/data.json", "{\"a\":1}\n"));

    public static TheoryData<Watch> Watches => new(Watch.Opens, Watch.OpensWithoutOpenat2);

    [Theory]
    [MemberData(nameof(Watches))]
    public void A_hand_built_store_lists_as_its_layout_does_and_opens_nothing_outside(Watch watch)
    {
        Child.RequireStrace();
        using var dir = new TempDir();
        using var victim = new Victim();
        var layout = dir.File("layout");
        Image().WriteOciLayout(layout, "t", LayerCompression.None);
        var expected = Tool.Run("ls", layout, "--format", "tsv");
        Assert.Equal(0, expected.ExitCode);
        foreach (var driver in new[] { "vfs", "overlay" })
        {
            var store = new StoreBuilder(dir.File(driver), Image(), driver);
            // the opens are watched, so the layers are read: with the cache off (the layout's run above keeps them when the suite runs with it on)
            var r = Child.Run(Bound, watch, null, null, "ls", "--no-cache", store.Reference, "--format", "tsv");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(expected.Stdout, r.Stdout);
            victim.AssertUntouched(r);
            // every layer file was opened beneath the store, by openat2 or (without it) by the walk
            Assert.Contains(watch == Watch.Opens ? "openat2(" : "openat(", r.Trace);
            Assert.Matches(@"= \d+<" + Regex.Escape(store.FolderOf(store.LayerIds[0])) + "/etc/passwd>", r.Trace!);
        }
    }

    /// <summary>Damages a store built by hand as an attacker would; returns the command to run and what its one line says.</summary>
    private static (string[] Args, string Says, int? Layer) Damage(string damage, StoreBuilder store, Victim victim)
    {
        var l0 = store.LayerIds[0];
        var files = store.FolderOf(l0);
        string[] ls = ["ls", store.Reference];
        switch (damage)
        {
            case "a folder of a file's path is a link":
                // etc -> the victim's folder: "cat etc/passwd" printed the host's file
                victim.Plant("passwd", (int)new FileInfo(Path.Combine(files, "etc", "passwd")).Length);
                Directory.Delete(Path.Combine(files, "etc"), recursive: true);
                File.CreateSymbolicLink(Path.Combine(files, "etc"), victim.Folder);
                return (["cat", "--no-verify", store.Reference, "etc/passwd"], "etc/passwd in the layer's folder is, or passes through, a symbolic link", 0);
            case "a file is a link":
                File.Delete(Path.Combine(files, "etc", "passwd"));
                File.CreateSymbolicLink(Path.Combine(files, "etc", "passwd"), victim.File);
                return (["cat", "--no-verify", store.Reference, "etc/passwd"], "etc/passwd in the layer's folder is, or passes through, a symbolic link", 0);
            case "the layer's folder is a link":
                victim.Plant("etc/passwd", (int)new FileInfo(Path.Combine(files, "etc", "passwd")).Length);
                victim.Plant("bin/sh", 700);
                Directory.Delete(files, recursive: true);
                File.CreateSymbolicLink(files, victim.Folder);
                return (["cat", "--no-verify", store.Reference, "etc/passwd"], $"{files} is, or passes through, a symbolic link: a store's files are never links; refused", 0);
            case "a layer id is a path out of the store":
            {
                // vfs/dir/ID and ID.tar-split.gz then name the victim's folder and a tar-split beside it
                var escape = string.Concat(Enumerable.Repeat("../", 12)) + victim.Folder.TrimStart('/');
                victim.Plant("etc/passwd", 26);
                File.Copy(store.File(store.TarSplit(l0)), victim.Folder + ".tar-split.gz");
                File.WriteAllText(store.LayersJson, File.ReadAllText(store.LayersJson).Replace(l0, escape));
                return (ls, $"the store names '{escape}' as an image or layer id: an id is 64 hex digits", null);
            }
            case "the image id is a path out of the store":
            {
                var escape = string.Concat(Enumerable.Repeat("../", 12)) + victim.Path.TrimStart('/');
                File.WriteAllText(store.ImagesJson, File.ReadAllText(store.ImagesJson).Replace($"\"id\":\"{store.ConfigId}\"", $"\"id\":\"{escape}\""));
                return (ls, $"the store names '{escape}' as an image or layer id", null);
            }
            case "images.json is a link":
                File.Delete(store.ImagesJson);
                File.CreateSymbolicLink(store.ImagesJson, victim.File);
                return (ls, $"{store.ImagesJson} is, or passes through, a symbolic link", null);
            case "images.json is a link to /dev/zero":
                File.Delete(store.ImagesJson);
                File.CreateSymbolicLink(store.ImagesJson, "/dev/zero");
                return (ls, $"{store.ImagesJson} is, or passes through, a symbolic link", null);
            case "the config is a link":
                File.Delete(store.ConfigFile);
                File.CreateSymbolicLink(store.ConfigFile, victim.File);
                return (ls, $"{store.ConfigFile} is, or passes through, a symbolic link", null);
            case "a tar-split is a link":
                File.Delete(store.File(store.TarSplit(l0)));
                File.CreateSymbolicLink(store.File(store.TarSplit(l0)), victim.File);
                return (ls, $"{store.File(store.TarSplit(l0))} is, or passes through, a symbolic link", 0);
            case "images.json is a named pipe":
                MakeFifo(store.ImagesJson);
                return (ls, $"{store.ImagesJson} is not a regular file", null);
            case "images.lock is a named pipe":
                MakeFifo(store.File(store.Driver + "-images/images.lock"));
                return (ls, $"{store.File(store.Driver + "-images/images.lock")} is not a regular file", null);
            case "a tar-split is a named pipe":
                MakeFifo(store.File(store.TarSplit(l0)));
                return (ls, $"{store.File(store.TarSplit(l0))} is not a regular file", 0);
            case "a file's body is a named pipe":
                MakeFifo(Path.Combine(files, "bin", "sh"));
                return (ls, "bin/sh in the layer's folder is not a regular file (a named pipe, device or socket) where the tar-split has a file; refused", 0);
            default:
                throw new ArgumentException(damage);
        }
    }

    private static void MakeFifo(string path)
    {
        File.Delete(path);
        var (code, _, stderr) = Scripts.Exec("mkfifo", path);
        Assert.True(code == 0, stderr);
    }

    [Theory]
    [InlineData("a folder of a file's path is a link", Watch.Opens)]
    [InlineData("a folder of a file's path is a link", Watch.OpensWithoutOpenat2)]
    [InlineData("a file is a link", Watch.Opens)]
    [InlineData("a file is a link", Watch.OpensWithoutOpenat2)]
    [InlineData("the layer's folder is a link", Watch.Opens)]
    [InlineData("the layer's folder is a link", Watch.OpensWithoutOpenat2)]
    [InlineData("a layer id is a path out of the store", Watch.Opens)]
    [InlineData("the image id is a path out of the store", Watch.Opens)]
    [InlineData("images.json is a link", Watch.Opens)]
    [InlineData("images.json is a link", Watch.OpensWithoutOpenat2)]
    [InlineData("images.json is a link to /dev/zero", Watch.Opens)]
    [InlineData("the config is a link", Watch.Opens)]
    [InlineData("the config is a link", Watch.OpensWithoutOpenat2)]
    [InlineData("a tar-split is a link", Watch.Opens)]
    [InlineData("images.json is a named pipe", Watch.Opens)]
    [InlineData("images.lock is a named pipe", Watch.Opens)]
    [InlineData("a tar-split is a named pipe", Watch.Opens)]
    [InlineData("a file's body is a named pipe", Watch.Opens)]
    [InlineData("a file's body is a named pipe", Watch.OpensWithoutOpenat2)]
    public void A_hostile_store_is_one_line_and_nothing_outside_it_is_opened(string damage, Watch watch)
    {
        Child.RequireStrace();
        using var dir = new TempDir();
        using var victim = new Victim();
        var store = new StoreBuilder(dir.File("store"), Image(), damage == "the layer's folder is a link" ? "overlay" : "vfs");
        var (args, says, layer) = Damage(damage, store, victim);
        var r = Child.Run(Bound, watch, null, null, args);
        Assert.False(r.Killed, $"{damage}: still running after {Bound.TotalSeconds} s");
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith($"layerdive: error: {store.Reference}: ", line);
        Assert.Contains(says, line);
        if (layer is int n) Assert.Contains($": layer {n} (sha256:", line);
        Assert.Empty(r.Stdout);
        victim.AssertUntouched(r);
        Assert.True(r.PeakRssMiB < 200, $"peak RSS {r.PeakRssMiB} MiB");
    }

    /// <summary>Where memory is the point: a record that is a device or huge, a tar-split line with no end.</summary>
    [Theory]
    [InlineData("images.json is a device")]
    [InlineData("images.json is 8 GiB")]
    [InlineData("images.json is 32 MiB of tiny values")]
    [InlineData("a tar-split of 2 MB with a 2 GiB line")]
    public void A_store_that_would_fill_the_memory_is_one_line_in_little_memory(string damage)
    {
        using var dir = new TempDir();
        var store = new StoreBuilder(dir.File("store"), Image());
        string says;
        int? layer = null;
        switch (damage)
        {
            case "images.json is a device":
                if (Environment.UserName != "root") Assert.Skip("making a device node (/dev/zero's numbers) needs root");
                File.Delete(store.ImagesJson);
                Assert.Equal(0, Scripts.Exec("mknod", store.ImagesJson, "c", "1", "5").ExitCode);
                says = $"{store.ImagesJson} is not a regular file (a named pipe, device, socket or folder); refused";
                break;
            case "images.json is 8 GiB":
                using (var f = File.OpenWrite(store.ImagesJson)) f.SetLength(8L << 30); // sparse: nothing is written
                says = $"{store.ImagesJson} is {8L << 30} bytes: a store's record may be 32 MiB at most";
                break;
            case "images.json is 32 MiB of tiny values":
                // within the size a record may have, but 16 million values would index into hundreds of MB
                File.WriteAllText(store.ImagesJson, "[" + string.Concat(Enumerable.Repeat("0,", (32 << 20) / 2 - 8)) + "0]");
                says = $"{store.ImagesJson} holds more than 2097152 JSON values, more than any image document needs; refused";
                break;
            default:
                // gzip members joined make one stream: an opening, then 2,048 members of 1 MiB of 'A' with no newline
                var split = store.File(store.TarSplit(store.LayerIds[0]));
                using (var f = File.Create(split))
                {
                    f.Write(Gzip("{\"type\":2,\"payload\":\""u8.ToArray()));
                    var mib = Gzip(Enumerable.Repeat((byte)'A', 1 << 20).ToArray());
                    for (int i = 0; i < 2048; i++) f.Write(mib);
                }
                Assert.InRange(new FileInfo(split).Length, 1 << 20, 8 << 20);
                says = "damaged tar-split at line 1: a line longer than 4 MiB";
                layer = 0;
                break;
        }
        var r = Child.Run(Bound, Watch.None, null, null, "ls", store.Reference);
        Assert.False(r.Killed, $"{damage}: still running after {Bound.TotalSeconds} s");
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith($"layerdive: error: {store.Reference}: ", line);
        Assert.Contains(says, line);
        if (layer is int n) Assert.Contains($": layer {n} (sha256:", line);
        Assert.True(r.PeakRssMiB < 200, $"peak RSS {r.PeakRssMiB} MiB");
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true)) gz.Write(bytes);
        return ms.ToArray();
    }

    // ---------------- OCI layouts ----------------

    /// <summary>The layout's blob files: its config and its layers, by what they are.</summary>
    private static (string Config, string Layer0, string Index) Blobs(string layout)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "blobs", "sha256", index["manifests"]![0]!["digest"]!.GetValue<string>()[7..])))!;
        string Blob(JsonNode d) => Path.Combine(layout, "blobs", "sha256", d["digest"]!.GetValue<string>()[7..]);
        return (Blob(manifest["config"]!), Blob(manifest["layers"]![0]!), Path.Combine(layout, "index.json"));
    }

    [Theory]
    [InlineData("the config is a link to a host file", Watch.Opens)]
    [InlineData("the config is a link to a host file", Watch.OpensWithoutOpenat2)]
    [InlineData("a layer is a link to a host file", Watch.Opens)]
    [InlineData("a layer is a link to a host file", Watch.OpensWithoutOpenat2)]
    [InlineData("index.json is a link to a host file", Watch.Opens)]
    [InlineData("the config is a link to /proc/self/environ", Watch.Opens)]
    [InlineData("the config is a link to /proc/self/environ", Watch.OpensWithoutOpenat2)]
    [InlineData("a layer is a relative link that climbs out", Watch.Opens)]
    [InlineData("a layer is a relative link that climbs out", Watch.OpensWithoutOpenat2)]
    public void A_layout_that_links_outside_itself_is_one_line_and_nothing_outside_it_is_opened(string damage, Watch watch)
    {
        Child.RequireStrace();
        using var dir = new TempDir();
        using var victim = new Victim();
        var layout = dir.File("layout");
        Image().WriteOciLayout(layout, "t");
        var (config, layer0, index) = Blobs(layout);
        var (path, target) = damage switch
        {
            "the config is a link to a host file" => (config, victim.File),
            "a layer is a link to a host file" => (layer0, victim.File),
            "index.json is a link to a host file" => (index, victim.File),
            "the config is a link to /proc/self/environ" => (config, "/proc/self/environ"),
            _ => (layer0, string.Concat(Enumerable.Repeat("../", 16)) + victim.File.TrimStart('/')),
        };
        File.Delete(path);
        File.CreateSymbolicLink(path, target);
        var relative = Path.GetRelativePath(layout, path);
        // the environment the child's /proc/self/environ would show
        var r = Child.Run(Bound, watch, new Dictionary<string, string> { ["LAYERDIVE_TEST_SECRET"] = victim.Secret }, null, "ls", layout);
        Assert.False(r.Killed);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith($"layerdive: error: {layout}: ", line);
        Assert.Contains($"'{relative}' in the layout is a link that leads outside it; refused", line);
        if (path == layer0) Assert.Contains(": layer 0 (sha256:", line);
        victim.AssertUntouched(r);
        Assert.DoesNotMatch(@"= \d+</proc/\d+/environ>", r.Trace!);
    }

    [Theory]
    [MemberData(nameof(Watches))]
    public void A_link_that_stays_inside_the_layout_is_followed(Watch watch)
    {
        Child.RequireStrace();
        using var dir = new TempDir();
        var layout = dir.File("layout");
        Image().WriteOciLayout(layout, "t");
        var expected = Tool.Run("ls", layout, "--format", "tsv");
        // an unpacked docker save links a layer.tar to another folder's; here a blob to a folder beside blobs/
        var (config, layer0, _) = Blobs(layout);
        foreach (var blob in new[] { config, layer0 })
        {
            var shared = Path.Combine(layout, "shared", Path.GetFileName(blob));
            Directory.CreateDirectory(Path.GetDirectoryName(shared)!);
            File.Move(blob, shared);
            File.CreateSymbolicLink(blob, Path.Combine("..", "..", "shared", Path.GetFileName(blob)));
        }
        var r = Child.Run(Bound, watch, null, null, "ls", layout, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(expected.Stdout, r.Stdout);
    }

    /// <summary>
    /// An unpacked docker save of the v1 form (only repositories and layer folders) is searched for an
    /// image config beside it: a link to / is not entered, and a .json linking to a host file is not read.
    /// </summary>
    [Fact]
    public void An_unpacked_archive_whose_links_lead_to_the_root_and_a_host_file_reads_only_itself()
    {
        Child.RequireStrace();
        using var dir = new TempDir();
        using var victim = new Victim();
        var archive = Paths.Public("go-containerregistry__pkg_v1_tarball_testdata_no_manifest.tar");
        var unpacked = Directory.CreateDirectory(dir.File("unpacked")).FullName;
        System.Formats.Tar.TarFile.ExtractToDirectory(archive, unpacked, overwriteFiles: false);
        Assert.True(File.Exists(Path.Combine(unpacked, "repositories")) && !File.Exists(Path.Combine(unpacked, "manifest.json")));
        File.CreateSymbolicLink(Path.Combine(unpacked, "root"), "/");
        File.CreateSymbolicLink(Path.Combine(unpacked, "host.json"), victim.File);
        var expected = Tool.Run("ls", archive, "--format", "tsv");
        Assert.True(expected.ExitCode == 0, expected.Stderr);
        var r = Child.Run(Bound, Watch.Opens, null, null, "ls", unpacked, "--format", "tsv");
        Assert.False(r.Killed);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(expected.Stdout, r.Stdout);
        victim.AssertUntouched(r);
        Assert.DoesNotContain($"\"{Path.Combine(unpacked, "root")}", r.Trace!); // the folder behind the link was never opened
    }
}
