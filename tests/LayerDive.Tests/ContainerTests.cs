using System.Formats.Tar;
using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>
/// <c>container://NAME</c> (issue 17, item 2): real containers run by a real dockerd that add, modify,
/// delete, chmod and replace a directory. With overlay2 the container's layer is read from its upper
/// directory (0/0 character devices, the opaque xattr); with vfs through the API (changes and archive).
/// Either way its changes are <c>docker diff</c>'s and the merged tree is <c>docker export</c>'s.
/// The source contract runs on a container created (never started) from the image: its image's layers,
/// and on top its own layer, empty.
/// </summary>
public abstract class ContainerContract(DockerService docker) : SourceContract, IDisposable
{
    /// <summary>The engine the containers run in.</summary>
    protected DockerService Engine => docker;

    private readonly TempDir _dir = new();
    private readonly Dictionary<string, string> _created = [];
    private CuttingProxy? _proxy;

    protected override void SkipUnlessReady()
    {
        if (docker.SkipReason is { } why) Assert.Skip(why);
    }

    /// <summary>A container created from the image of <paramref name="archive"/> (loaded with docker load), once per archive.</summary>
    private string Created(string archive)
    {
        if (_created.TryGetValue(archive, out var name)) return name;
        var image = docker.Ensure(archive);
        name = "c" + Guid.NewGuid().ToString("N")[..10];
        var (code, output) = docker.Docker("create", "--network", "none", "--name", name, image, "true");
        Assert.True(code == 0, output);
        return _created[archive] = name;
    }

    private SourceOptions Options(string host) => EngineEnv.Options(EngineEnv.With(("DOCKER_HOST", host)));

    protected override (string, SourceOptions) Image(string archive) => ("container://" + Created(archive), Options(docker.Address));

    /// <summary>The container's layer: what the container changed, read by the source, which no digest names.</summary>
    protected override int LayersOnTop => 1;

    /// <summary>The image's export cut in the middle of layer 0, by a proxy in front of the engine (as the engines' contract cuts it).</summary>
    protected override (string, SourceOptions) CutImage()
    {
        var name = Created(Archive);
        _proxy = EngineEnv.CutInLayerZero(docker, docker.Ensure(Archive), _dir.File("proxy.sock"));
        return ("container://" + name, Options(_proxy.Address));
    }

    /// <summary>Layer 0, for the reason the engines' contract gives: the legacy export names the bottom layer by its json alone.</summary>
    protected override int CutLayer => 0;

    protected override (string, SourceOptions) MissingImage() => ("container://layerdive-missing-" + Guid.NewGuid().ToString("N")[..8], Options(docker.Address));

    /// <summary>Overridden: a container has one image, of one platform.</summary>
    [Fact]
    public override void The_platform_asked_for_is_chosen() => Another_platform_is_not_found();

    public void Dispose()
    {
        _proxy?.Dispose();
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>How the note on stderr says the container's layer was read.</summary>
    protected abstract string ReadFrom { get; }

    /// <summary>What the container does: every kind of change a layer can hold.</summary>
    private const string Script =
        "echo new > /root/added.txt; echo more >> /etc/passwd; rm /etc/group; " +
        "rm -rf /tmp; mkdir /tmp; echo t > /tmp/t; chmod 700 /root; " +
        "mkdir -p /somedir/sub; echo x > /somedir/sub/x; ln -s /etc/passwd /somedir/link";

    /// <summary>Paths the engine itself puts in a container (its init layer and mounts), left out of the comparison with export.</summary>
    private static readonly string[] Injected = [".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf", "etc/mtab", "dev", "proc", "sys"];

    private string Container()
    {
        if (docker.SkipReason is { } why) Assert.Skip(why);
        var image = docker.Ensure(Paths.Public("dive__.data_test-docker-image.tar"));
        var name = "c" + Guid.NewGuid().ToString("N")[..10];
        var (code, output) = docker.Docker("run", "--network", "none", "--name", name, image, "sh", "-c", Script);
        Assert.True(code == 0, output);
        return name;
    }

    private Dictionary<string, string> Env => new() { ["DOCKER_HOST"] = docker.Address };

    [Fact]
    public void The_container_layer_changes_are_docker_diffs()
    {
        var name = Container();
        var (code, diff) = docker.Docker("diff", name);
        Assert.Equal(0, code);
        // docker diff: A added, D deleted, C changed (a directory with a change below it too)
        var expected = diff.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (Kind: l[0], Path: l[2..].Trim().TrimStart('/'))).ToHashSet();
        var r = Tool.RunWith(Env, null, "ls", "container://" + name, "--changes");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var ours = r.StdoutLines.Select(l => (Kind: l[0] switch { 'M' or 'U' => 'C', var k => k }, Path: Path(l))).ToHashSet();
        Assert.Equal(expected.OrderBy(x => x.Path), ours.OrderBy(x => x.Path));
        Assert.Contains($"container {name}: its read-write layer", Tool.RunWith(Env, null, "history", "container://" + name).Stdout);
        Assert.Contains(ReadFrom, r.Stderr);
    }

    /// <summary>The path of an <c>ls --changes</c> line: after the size column, before a "  (why)" note or an arrow.</summary>
    private static string Path(string line)
    {
        var rest = System.Text.RegularExpressions.Regex.Match(line, @"^\S\s+\S+\s+\S+\s+(?:-|[\d.]+ [kMGT]?B)  (.*)$").Groups[1].Value;
        foreach (var end in new[] { "  (", " → ", " ⇒ " })
            if (rest.IndexOf(end, StringComparison.Ordinal) is int at and >= 0) rest = rest[..at];
        return rest;
    }

    [Fact]
    public void The_merged_tree_is_docker_exports_less_what_the_engine_injects()
    {
        var name = Container();
        using var dir = new TempDir();
        var export = System.IO.Path.Combine(dir.Path, "export.tar");
        var (code, output) = docker.Docker("export", "-o", export, name);
        Assert.True(code == 0, output);
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        var injected = new SortedSet<string>(StringComparer.Ordinal);
        using (var tar = new TarReader(File.OpenRead(export)))
            while (tar.GetNextEntry() is { } e)
            {
                var path = (e.Name.StartsWith("./", StringComparison.Ordinal) ? e.Name[2..] : e.Name.TrimStart('/')).TrimEnd('/');
                if (path.Length == 0) continue;
                if (Injected.Any(i => path == i || path.StartsWith(i + "/", StringComparison.Ordinal))) { injected.Add(path); continue; }
                string type = e.EntryType switch
                {
                    TarEntryType.Directory => "dir",
                    TarEntryType.SymbolicLink => "symlink",
                    TarEntryType.CharacterDevice => "char",
                    _ => "file", // a hard link is a file of the tree
                };
                string size = type == "file" && e.EntryType != TarEntryType.HardLink ? e.Length.ToString() : "-";
                expected.Add($"{path}\t{type}\t{Convert.ToString((int)e.Mode & 0xFFF, 8).PadLeft(4, '0')}\t{e.Uid}\t{e.Gid}\t{size}\t{(type == "symlink" ? e.LinkName : "-")}");
            }
        var r = Tool.RunWith(Env, null, "ls", "container://" + name, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var ours = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var l in r.StdoutLines.Skip(1))
        {
            var c = l.Split('\t'); // path type mode uid gid size sha256 linktarget mtime nlink
            if (c[0] == ".") continue;
            if (Injected.Any(i => c[0] == i || c[0].StartsWith(i + "/", StringComparison.Ordinal))) continue;
            bool hardlinked = c[1] == "file" && int.Parse(c[9]) > 1;
            ours.Add($"{c[0]}\t{c[1]}\t{c[2]}\t{c[3]}\t{c[4]}\t{(c[1] == "file" && !hardlinked ? c[5] : "-")}\t{c[7]}");
        }
        // a hard link's size is told by export on one of its names only: compare those as "-" on both sides
        var linked = r.StdoutLines.Skip(1).Select(l => l.Split('\t')).Where(c => c[1] == "file" && c[9] != "1").Select(c => c[0]).ToHashSet();
        var expectedNormal = expected.Select(e => e.Split('\t') is var c && linked.Contains(c[0]) ? string.Join('\t', c[..5]) + "\t-\t" + c[6] : e).ToHashSet();
        Assert.Equal(expectedNormal.Order(StringComparer.Ordinal), ours);
        Assert.Contains(".dockerenv", injected); // the engine's own, named and left out
    }

    [Fact]
    public void Explain_says_a_path_was_deleted_in_the_containers_layer_and_the_CI_gate_runs()
    {
        var name = Container();
        var r = Tool.RunWith(Env, null, "explain", "container://" + name, "/etc/group");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("Deleted in the container's layer", r.Stdout);
        Assert.Contains("hidden by a whiteout (/etc/.wh.group)", r.Stdout);
        r = Tool.RunWith(Env, null, "explain", "container://" + name, "/tmp/saved.again1.txt");
        Assert.Contains("Deleted in the container's layer", r.Stdout);
        r = Tool.RunWith(Env, null, "explain", "container://" + name, "/root/added.txt");
        Assert.Contains("Written in the container's layer", r.Stdout);
        var ci = Tool.RunWith(new Dictionary<string, string>(Env) { ["CI"] = "true" }, null, "container://" + name);
        Assert.True(ci.ExitCode is 0 or 1, ci.Stderr);
        Assert.Contains("efficiency:", ci.Stdout);
        var missing = Tool.RunWith(Env, null, "ls", "container://no-such-container");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no container no-such-container", Assert.Single(missing.StderrLines));
    }

    [Fact]
    public void The_explorer_shows_the_containers_layer_on_top()
    {
        var name = Container();
        var dive = new LayerDive.Core.Analysis.DiveMetrics();
        var options = new LayerDive.Core.Loading.LoadOptions
        {
            Observers = [dive],
            Source = new LayerDive.Core.Sources.SourceOptions { Environment = n => n == "DOCKER_HOST" ? docker.Address : null },
        };
        using var load = LayerDive.Core.Loading.ImageLoader.Start("container://" + name, options, TestContext.Current.CancellationToken);
        var model = load.Wait();
        using var ui = new UiHarness(new LayerDive.Ui.Explorer.ExplorerWindow(model, dive.Result(), color: true));
        ui.Press(Enumerable.Repeat(Terminal.Gui.Input.Key.CursorDown, 30).ToArray());
        Assert.Contains($"container {name}: its read-write", ui.Screen);
        // the top layer selected: the tree shows what the container added, changed and deleted
        Assert.Equal(model.Layers.Count - 1, ui.Window.Layers.SelectedLayer);
        var rows = ui.Window.Tree.VisibleRows.ToDictionary(r => r.Node.Path, r => r.Status);
        Assert.Equal(LayerDive.Ui.Explorer.RowStatus.Added, rows["root/added.txt"]);
        Assert.Equal(LayerDive.Ui.Explorer.RowStatus.Removed, rows["etc/group"]);
        Assert.Equal(LayerDive.Ui.Explorer.RowStatus.Modified, rows["etc/passwd"]);
    }
}

[Collection(nameof(SerialCollection))]
[ContractFor("container")]
public sealed class Overlay2ContainerTests(Overlay2DockerService docker) : ContainerContract(docker), IClassFixture<Overlay2DockerService>
{
    protected override string ReadFrom => "its read-write layer read from " + Engine.Root;

    private Dictionary<string, string> Env => new() { ["DOCKER_HOST"] = Engine.Address };

    /// <summary>issue 17, item 3: overlay and explain on an engine's image and container name the engine's real folders.</summary>
    [Fact]
    public void Overlay_and_explain_name_the_engines_real_folders()
    {
        if (Engine.SkipReason is { } why) Assert.Skip(why);
        var image = Engine.Ensure(Paths.Public("dive__.data_test-docker-image.tar"));
        var (code, inspect) = Engine.Docker("image", "inspect", "--format", "{{.GraphDriver.Data.LowerDir}} {{.GraphDriver.Data.UpperDir}}", image);
        Assert.True(code == 0, inspect);
        var folders = inspect.Trim().Split([' ', ':'], StringSplitOptions.RemoveEmptyEntries);
        var r = Tool.RunWith(Env, null, "overlay", "docker://" + image);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("# on this host: the engine's real folders (overlay2 driver", r.Stdout);
        foreach (var diff in folders)
        {
            var folder = diff[..^"/diff".Length];
            Assert.Contains(folder + "/", r.StdoutLines);
            // the short link name read beside it, as the engine wrote it
            Assert.Contains("    link      " + File.ReadAllText(Path.Combine(folder, "link")).Trim(), r.Stdout);
        }
        // a container: its init layer and its upper directory too, and where a visible file lives
        var name = "c" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(0, Engine.Docker("run", "--network", "none", "--name", name, image, "sh", "-c", "echo new > /root/added.txt").Code);
        var (_, upper) = Engine.Docker("container", "inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", name);
        r = Tool.RunWith(Env, null, "overlay", "container://" + name);
        Assert.Contains(upper.Trim()[..^"/diff".Length] + "/", r.StdoutLines);
        Assert.Contains("the container's read-write layer (upperdir)", r.Stdout);
        Assert.Contains("the engine's init layer", r.Stdout);
        r = Tool.RunWith(Env, null, "explain", "container://" + name, "/root/added.txt");
        Assert.Contains("On this host: " + Path.Combine(upper.Trim(), "root/added.txt"), r.Stdout);
        Assert.Equal("new\n", File.ReadAllText(Path.Combine(upper.Trim(), "root/added.txt")));
        // and in Russian
        r = Tool.RunWith(Env, null, "overlay", "container://" + name, "--lang", "ru");
        Assert.Contains("# на этом хосте: настоящие папки движка", r.Stdout);
    }
}

[Collection(nameof(SerialCollection))]
[ContractFor("container")]
public sealed class VfsContainerTests(DockerService docker) : ContainerContract(docker), IClassFixture<DockerService>
{
    protected override string ReadFrom => "its read-write layer rebuilt through the engine's API (the vfs driver's";

    [Fact]
    public void Overlay_says_the_engine_uses_vfs_and_shows_what_instead()
    {
        if (Engine.SkipReason is { } why) Assert.Skip(why);
        var image = Engine.Ensure(Paths.Public("dive__.data_test-docker-image.tar"));
        var r = Tool.RunWith(new Dictionary<string, string> { ["DOCKER_HOST"] = Engine.Address }, null, "overlay", "docker://" + image);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("# on this host the engine uses the vfs driver, not overlay2", r.Stdout);
    }
}
