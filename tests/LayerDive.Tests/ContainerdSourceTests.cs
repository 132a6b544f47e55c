using System.Diagnostics;
using System.Text.Json;
using LayerDive.Core;
using LayerDive.Core.Loading;
using LayerDive.Core.Sources;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

[CollectionDefinition("containerd")]
public sealed class ContainerdCollection : ICollectionFixture<ContainerdService>;

/// <summary>
/// containerd (a real one, <see cref="ContainerdService"/>): images imported with ctr into its
/// namespaces, read through its gRPC API. The cut copy is the archive with layer 3 cut in half imported
/// as it is (unpacking it would fail), the two-platform image the layout imported with every platform.
/// </summary>
[Collection("containerd")]
[ContractFor("containerd")]
public sealed class ContainerdSourceTests(ContainerdService containerd) : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();

    protected override void SkipUnlessReady() => containerd.Require();

    /// <summary>Options that name this containerd and nothing of the machine's (no CONTAINERD_* variable).</summary>
    private SourceOptions Options(string ns) => new() { Address = containerd.Socket, Namespace = ns, Environment = _ => null };

    /// <summary>The environment a command-line run gets: this containerd by its variable.</summary>
    private Dictionary<string, string> Env(string? ns = null)
    {
        var env = new Dictionary<string, string> { ["CONTAINERD_ADDRESS"] = containerd.Socket };
        if (ns is not null) env["CONTAINERD_NAMESPACE"] = ns;
        return env;
    }

    protected override (string, SourceOptions) Image(string archive) => ("containerd://" + containerd.Import(archive, "default")[0], Options("default"));

    protected override (string, SourceOptions) CutImage()
    {
        var cut = WriteCutArchive(_dir.Path, CutLayer);
        return ("containerd://" + containerd.Import(cut, "cut", "--no-unpack")[0], Options("cut"));
    }

    protected override (string, SourceOptions)? MultiPlatformImage(string layout)
    {
        // ctr imports archives: the layout as a tar, every platform's content kept
        var archive = _dir.File("multi.tar");
        var tar = Scripts.Exec("tar", "-C", layout, "-cf", archive, ".");
        Assert.True(tar.ExitCode == 0, tar.Stderr);
        return ("containerd://" + containerd.Import(archive, "multi", "--all-platforms", "--no-unpack")[0], Options("multi"));
    }

    private static string Listing(IReadOnlyDictionary<string, string> env, string name) =>
        Tool.RunWith(env, null, "ls", name, "--format", "tsv") is { ExitCode: 0 } run ? run.Stdout : throw new InvalidOperationException($"ls {name}: exit not 0");

    public static TheoryData<string, string> ArchivesAndNamespaces()
    {
        var data = new TheoryData<string, string>();
        foreach (var ns in new[] { "default", "k8s.io" })
        {
            data.Add(Archive, ns);
            data.Add(Paths.Sample, ns);
        }
        return data;
    }

    /// <summary>The docker-archive and the bundled sample (an OCI archive) imported into default and k8s.io: the listing through containerd:// is the archive's.</summary>
    [Theory]
    [MemberData(nameof(ArchivesAndNamespaces))]
    public void The_listing_equals_the_archive_listing(string archive, string ns)
    {
        SkipUnlessReady();
        var name = containerd.Import(archive, ns)[0];
        var run = Tool.RunWith(Env(ns), null, "ls", "containerd://" + name, "--format", "tsv");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(Tool.Run("ls", archive, "--format", "tsv").Stdout, run.Stdout);
    }

    /// <summary>The generated corpus's tricky image, as a docker-archive and as an OCI archive, against the archive's listing.</summary>
    [Theory]
    [InlineData("tricky.docker-archive.tar")]
    [InlineData("tricky.oci-archive.tar")]
    [InlineData("tricky.oci-archive-zstd.tar")]
    public void A_corpus_image_lists_as_its_archive(string file)
    {
        var archive = Path.Combine(Paths.GeneratedCorpus, "tricky", file);
        if (!File.Exists(archive)) Assert.Skip($"generated corpus not present ({archive}); run: bash ../shared/tools/make-corpus.sh");
        SkipUnlessReady();
        // a namespace each: the three archives hold the same name
        var ns = "corpus." + Path.GetFileNameWithoutExtension(file);
        var name = containerd.Import(archive, ns, "--no-unpack")[0];
        Assert.Equal(Tool.Run("ls", archive, "--format", "tsv").Stdout, Listing(Env(ns), "containerd://" + name));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("k8s.io")]
    public void CI_figures_equal_the_archive_ones(string ns)
    {
        SkipUnlessReady();
        var name = "containerd://" + containerd.Import(Archive, ns)[0];
        var a = Tool.RunWith(Env(ns), _dir.Path, Archive, "--ci", "--json", _dir.File($"a-{ns}.json"));
        var b = Tool.RunWith(Env(ns), _dir.Path, name, "--ci", "--json", _dir.File($"b-{ns}.json"));
        Assert.Equal(a.ExitCode, b.ExitCode);
        using var ja = JsonDocument.Parse(File.ReadAllBytes(_dir.File($"a-{ns}.json")));
        using var jb = JsonDocument.Parse(File.ReadAllBytes(_dir.File($"b-{ns}.json")));
        Assert.Equal(ja.RootElement.GetProperty("image").GetRawText(), jb.RootElement.GetProperty("image").GetRawText());
    }

    /// <summary>Names as nerdctl and crictl print them: the short name, the full reference, a prefix of the image's digest (nerdctl's IMAGE ID).</summary>
    [Fact]
    public void Names_are_taken_as_nerdctl_prints_them()
    {
        SkipUnlessReady();
        var full = containerd.Import(Archive, "default")[0];
        var (tag, _, _) = Expected();
        Assert.Equal($"docker.io/library/{tag}", full); // ctr's normalised name of the archive's RepoTags
        var digest = Target("default", full);
        var expected = Listing(Env("default"), "containerd://" + full);
        foreach (var name in new[] { tag, tag.Split(':')[0], digest[7..19], digest })
            Assert.Equal(expected, Listing(Env("default"), "containerd://" + name));
    }

    /// <summary>
    /// crictl's IMAGE ID is the first 13 hex digits of the image's config digest (read here from the
    /// manifest in the content store, with ctr): that prefix, and the whole config digest, name the image.
    /// </summary>
    [Fact]
    public void An_image_is_named_by_its_config_digest_as_crictl_prints_it()
    {
        SkipUnlessReady();
        var full = containerd.Import(Archive, "crictl-names")[0];
        var manifest = Target("crictl-names", full);
        var (code, output) = containerd.Ctr("crictl-names", "content", "get", manifest);
        Assert.True(code == 0, output);
        using var doc = JsonDocument.Parse(output);
        var config = doc.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        Assert.False(manifest.StartsWith(config[..20], StringComparison.Ordinal)); // the two digests differ: the config's is what names it
        var expected = Listing(Env("crictl-names"), "containerd://" + full);
        foreach (var name in new[] { config[7..20], config, config[..20] })
            Assert.Equal(expected, Listing(Env("crictl-names"), "containerd://" + name));
    }

    /// <summary>The digest <c>ctr images ls</c> gives as an image's target (its manifest or index).</summary>
    private string Target(string ns, string name)
    {
        var (code, output) = containerd.Ctr(ns, "images", "ls");
        Assert.True(code == 0, output);
        return output.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
    }

    /// <summary>Each layer's stored size and media type are what the manifest in the content store gives (read here with ctr), each blob verified.</summary>
    [Fact]
    public void Stored_sizes_and_media_types_are_the_manifests()
    {
        SkipUnlessReady();
        var (reference, options) = Image(Archive);
        var model = ImageLoader.Load(reference, new LoadOptions { Source = options }, TestContext.Current.CancellationToken);
        var name = reference["containerd://".Length..];
        var target = Target("default", name);
        var (code, output) = containerd.Ctr("default", "content", "get", target);
        Assert.True(code == 0, output);
        using var manifest = JsonDocument.Parse(output);
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(layers.Count, model.Layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            Assert.Equal(layers[i].GetProperty("digest").GetString(), model.Layers[i].Digest);
            Assert.Equal(layers[i].GetProperty("size").GetInt64(), model.Layers[i].CompressedSize);
            Assert.Equal(layers[i].GetProperty("mediaType").GetString(), model.Layers[i].MediaType);
            Assert.True(model.Layers[i].Verified, $"layer {i} not verified");
        }
        Assert.Equal("containerd", model.SourceKind);
    }

    /// <summary>A name only another namespace holds is read from it, and a note says which.</summary>
    [Fact]
    public void A_name_in_one_other_namespace_is_read_from_it_with_a_note()
    {
        SkipUnlessReady();
        // a name of its own (ctr images tag) for the sample: the other tests import it into default and k8s.io
        var imported = containerd.Import(Paths.Sample, "only-here")[0];
        var name = "layerdive/only-here:1";
        if (!containerd.Names("only-here").Contains(name))
        {
            var (code, output) = containerd.Ctr("only-here", "images", "tag", imported, name);
            Assert.True(code == 0, output);
        }
        Assert.DoesNotContain(name, containerd.Names("default").Concat(containerd.Names("k8s.io")));
        var run = Tool.RunWith(Env(), null, "ls", "containerd://" + name, "--format", "tsv");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(Tool.Run("ls", Paths.Sample, "--format", "tsv").Stdout, run.Stdout);
        Assert.Contains($"not in containerd namespace default: read from namespace only-here (containerd at {containerd.Socket})", run.Stderr);
    }

    /// <summary>A bare name neither Docker nor Podman has is read from containerd, before the registry, and a note says so.</summary>
    [Fact]
    public void A_bare_name_no_engine_has_reads_from_containerd_and_says_so()
    {
        SkipUnlessReady();
        var name = containerd.Import(Archive, "default")[0];
        var env = Env();
        env["DOCKER_HOST"] = "unix://" + _dir.File("no-docker.sock");
        env["CONTAINER_HOST"] = "unix://" + _dir.File("no-podman.sock");
        env["XDG_RUNTIME_DIR"] = _dir.Path;
        var tag = Expected().Tag;
        var run = Tool.RunWith(env, null, "ls", tag, "--format", "tsv");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(Tool.Run("ls", Archive, "--format", "tsv").Stdout, run.Stdout);
        Assert.Equal($"layerdive: note: {tag}: read from containerd at {containerd.Socket} (namespace default)", Assert.Single(run.StderrLines));
        Assert.Equal($"docker.io/library/{tag}", name);
    }

    /// <summary>
    /// An index imported as a node pulls it, its own platform's content only: <c>platforms</c> lists the
    /// platform present as an image and the other by its name, its manifest absent.
    /// </summary>
    [Fact]
    public void Platforms_says_which_platforms_are_present()
    {
        SkipUnlessReady();
        var own = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux/arm64" : "linux/amd64";
        var other = own == "linux/amd64" ? "linux/arm64" : "linux/amd64";
        var archive = _dir.File("multi-node.tar");
        var tar = Scripts.Exec("tar", "-C", MultiPlatformLayout, "-cf", archive, ".");
        Assert.True(tar.ExitCode == 0, tar.Stderr);
        var name = containerd.Import(archive, "node", "--no-unpack")[0];
        // what a pull of one platform leaves: the other platform's manifest absent (an import may keep it,
        // and the content store shares a blob another namespace imported with every platform)
        var otherManifest = PlatformManifests(MultiPlatformLayout)[other];
        containerd.Ctr("node", "content", "rm", otherManifest);
        var run = Tool.RunWith(Env("node"), null, "platforms", "containerd://" + name);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var rows = run.StdoutLines.Skip(1).Select(l => l.Split("   ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r[0] == own);
        Assert.Contains(rows, r => r[0] == $"{other} (missing blob)");
        Assert.All(rows, r => Assert.Equal(name, r[^1]));
    }

    /// <summary>
    /// A layer of 40 MiB of random bytes (stored as they are: gzip cannot shrink them): the image loads,
    /// every digest verified; and read in windows of 3 MiB, each a call of the Content service's Read whose
    /// messages are numbered from its own start, the blob's bytes hash to its digest.
    /// </summary>
    [Fact]
    public void A_blob_larger_than_one_read_window_is_read_whole()
    {
        SkipUnlessReady();
        var random = new byte[40 << 20];
        new Random(27).NextBytes(random);
        var archive = _dir.File("large.tar");
        new LayerDive.Samples.ImageBuilder().Layer("COPY large /large", l => l.File("large", random)).WriteDockerArchive(archive, "layerdive/large:1");
        var name = containerd.Import(archive, "large", "--no-unpack")[0];
        var model = ImageLoader.Load("containerd://" + name, new LoadOptions { Source = Options("large") }, TestContext.Current.CancellationToken);
        var layer = Assert.Single(model.Layers);
        Assert.True(layer.Verified);
        Assert.True(layer.CompressedSize > 32 << 20, $"{layer.CompressedSize} bytes: not more than ten windows");
        var ct = TestContext.Current.CancellationToken;
        using (var client = Core.Sources.Containerd.ContainerdClient.Connect(containerd.Socket, "large", ct))
        using (var blob = new Core.Sources.Containerd.ContentStream(client, layer.Digest!, layer.CompressedSize, ct, window: 3 << 20))
            Assert.Equal(layer.Digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob)));
        Assert.Equal(Tool.Run("ls", archive, "--format", "tsv").Stdout, Listing(Env("large"), "containerd://" + name));
    }

    /// <summary>
    /// The Read messages' own parser against Google.Protobuf's: a ReadContentResponse it wrote (with a field
    /// containerd may add some day, which is skipped), split across segments as a socket delivers it, gives
    /// the same offset and bytes; a message cut inside a field is refused, never read as a shorter one
    /// (a cut between fields is gRPC's length prefix's to catch).
    /// </summary>
    [Fact]
    public void A_read_message_is_parsed_as_protobuf_writes_it()
    {
        var data = new byte[300_000];
        new Random(27).NextBytes(data);
        var message = new Core.Sources.Containerd.Api.Content.ReadContentResponse { Offset = 5L << 33, Data = Google.Protobuf.ByteString.CopyFrom(data) };
        var unknown = new byte[] { (3 << 3) | 2, 3, 1, 2, 3, (4 << 3) | 0, 0x96, 0x01, (5 << 3) | 5, 1, 2, 3, 4 };
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(message).Concat(unknown).ToArray();
        foreach (var split in new[] { 1, 2, 7, 4096, bytes.Length - 1 })
        {
            var chunk = Core.Sources.Containerd.ContentChunk.Parse(Segments(bytes, split));
            Assert.Equal(message.Offset, chunk.Offset);
            Assert.True(chunk.Data.Span.SequenceEqual(data));
            chunk.Release();
        }
        foreach (var cut in new[] { 1, 3, bytes.Length - unknown.Length - 1000 })
            Assert.Throws<InvalidDataException>(() => Core.Sources.Containerd.ContentChunk.Parse(Segments(bytes[..cut], 4096)));
    }

    /// <summary><paramref name="bytes"/> as a sequence of segments of <paramref name="size"/> bytes.</summary>
    private static System.Buffers.ReadOnlySequence<byte> Segments(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (int at = 0; at < bytes.Length; at += size)
        {
            var s = new Segment(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)), last?.RunningIndex + last?.Memory.Length ?? 0);
            if (last is null) first = s;
            else last.SetNext(s);
            last = s;
        }
        return first is null ? default : new System.Buffers.ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index) => (Memory, RunningIndex) = (memory, index);
        public void SetNext(Segment next) => Next = next;
    }

    /// <summary>The explorer, in a real terminal (tmux), opens dive's test image from containerd.</summary>
    [Fact]
    public async Task The_explorer_opens_a_containerd_image_in_a_terminal()
    {
        SkipUnlessReady();
        if (!Scripts.OnPath("tmux")) Assert.Skip("tmux is not installed (apt-get install tmux); .ci/run installs it");
        var name = containerd.Import(Archive, "default")[0];
        var (code, output) = await Scripts.Run("tests/ui/tmux.sh", Scripts.Layerdive, "-", "containerd://" + name, "CONTAINERD_ADDRESS=" + containerd.Socket);
        Assert.True(code == 0, output);
        Assert.Contains("ok   dive's test image opens", output);
        Assert.Contains("tmux.sh: 0 failed", output);
    }

    /// <summary>The manifest digest of each platform an OCI layout's index names (nested indexes walked), read from its JSON.</summary>
    private static Dictionary<string, string> PlatformManifests(string layout)
    {
        var found = new Dictionary<string, string>();
        void Walk(JsonElement index)
        {
            foreach (var d in index.GetProperty("manifests").EnumerateArray())
            {
                var digest = d.GetProperty("digest").GetString()!;
                if (d.TryGetProperty("platform", out var p))
                    found[$"{p.GetProperty("os").GetString()}/{p.GetProperty("architecture").GetString()}"] = digest;
                else
                {
                    var blob = Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);
                    using var doc = JsonDocument.Parse(File.ReadAllBytes(blob));
                    if (doc.RootElement.TryGetProperty("manifests", out _)) Walk(doc.RootElement);
                }
            }
        }
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        Walk(index.RootElement);
        return found;
    }

    /// <summary>Faults: one line naming the socket (and the namespace where one was asked), exit 2.</summary>
    private static void AssertFault(CliResult run, params string[] parts)
    {
        Assert.Equal(2, run.ExitCode);
        var lines = run.StderrLines;
        Assert.True(lines.Length == 1, run.Stderr);
        Assert.StartsWith("layerdive: error: ", lines[0]);
        foreach (var p in parts) Assert.Contains(p, lines[0]);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void A_name_in_several_other_namespaces_is_an_error_naming_them()
    {
        SkipUnlessReady();
        var name = containerd.Import(Archive, "default")[0];
        containerd.Import(Archive, "k8s.io");
        var run = Tool.RunWith(Env("nowhere"), null, "ls", "containerd://" + name);
        AssertFault(run, containerd.Socket, "namespace nowhere", "--namespace");
        // the namespaces that hold it, in order: these two, and any another test of this containerd imported it into
        var held = System.Text.RegularExpressions.Regex.Match(run.StderrLines[0], "several others hold one: ([^;]*);").Groups[1].Value.Split(", ");
        Assert.Contains("default", held);
        Assert.Contains("k8s.io", held);
        Assert.Equal(held.Order(StringComparer.Ordinal), held);
    }

    [Fact]
    public void A_name_in_no_namespace_is_not_found()
    {
        SkipUnlessReady();
        containerd.Import(Archive, "default");
        var run = Tool.RunWith(Env(), null, "ls", "containerd://layerdive/absent:1");
        AssertFault(run, containerd.Socket, "layerdive/absent:1", "namespace default");
    }

    [Fact]
    public void No_socket_says_containerd_is_not_running()
    {
        SkipUnlessReady();
        var socket = _dir.File("none.sock");
        AssertFault(Tool.RunWith(new Dictionary<string, string> { ["CONTAINERD_ADDRESS"] = socket }, null, "ls", "containerd://x"), "not running", socket);
        AssertFault(Tool.RunWith(new Dictionary<string, string>(), null, "ls", "containerd://x", "--address", "unix://" + socket), "not running", socket);
    }

    /// <summary>A socket nobody listens on any more (what a killed containerd leaves): refused, said as such.</summary>
    [Fact]
    public void A_stale_socket_is_refused()
    {
        SkipUnlessReady();
        var socket = _dir.File("stale.sock");
        // bound, never listening, left behind: connect is refused (python's socket keeps its file when it closes; .NET's removes it)
        var bind = Scripts.Exec("python3", "-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socket);
        Assert.True(bind.ExitCode == 0 && File.Exists(socket), bind.Stderr);
        AssertFault(Tool.RunWith(Env(), null, "ls", "containerd://x", "--address", socket), "refuses connections", socket);
    }

    /// <summary>A containerd stopped while its socket is named: not running (its socket gone), one line.</summary>
    [Fact]
    public void A_stopped_containerd_is_an_error_naming_its_socket()
    {
        SkipUnlessReady();
        string socket;
        using (var other = new ContainerdService())
        {
            other.Require();
            socket = other.Socket;
        }
        var run = Tool.RunWith(new Dictionary<string, string> { ["CONTAINERD_ADDRESS"] = socket }, null, "ls", "containerd://x");
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.StderrLines);
        Assert.Contains(socket, run.Stderr);
        Assert.Matches("not running|refuses connections", run.Stderr);
    }

    /// <summary>A user who may not open the socket (containerd's is root's, mode 0660): permission denied, said as such.</summary>
    [Fact]
    public async Task A_socket_the_user_may_not_open_is_permission_denied()
    {
        SkipUnlessReady();
        if (!Scripts.OnPath("setpriv")) Assert.Skip("setpriv is not installed (util-linux)");
        var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", dll, "ls", "containerd://x", "--address", containerd.Socket })
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("CI");
        psi.Environment["HOME"] = _dir.Path;
        psi.Environment["DOTNET_CLI_HOME"] = _dir.Path;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = await stdoutTask;
        Assert.True(p.WaitForExit(60_000));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(p.ExitCode == 2 && lines.Length == 1, stderr);
        Assert.Contains("permission denied", lines[0]);
        Assert.Contains(containerd.Socket, lines[0]);
        Assert.Equal("", stdout);
    }

    /// <summary>A layer blob removed from the content store (as discard_unpacked_layers does): an error naming the layer, the socket and the namespace.</summary>
    [Fact]
    public void A_missing_blob_is_an_error_naming_the_layer()
    {
        SkipUnlessReady();
        var name = containerd.Import(Archive, "gone", "--no-unpack")[0];
        var layer = 5;
        var digest = ImageLoader.Load("containerd://" + name, new LoadOptions { Source = Options("gone") }, TestContext.Current.CancellationToken).Layers[layer].Digest!;
        var (code, output) = containerd.Ctr("gone", "content", "rm", digest);
        Assert.True(code == 0, output);
        var run = Tool.RunWith(Env("gone"), null, "ls", "containerd://" + name);
        AssertFault(run, $"layer {layer}", containerd.Socket, "namespace gone", "no blob", digest[..19]);
    }

    public static TheoryData<string> DiscardedArchives() =>
        [Archive, Path.Combine(Paths.GeneratedCorpus, "tricky", "tricky.docker-archive.tar")];

    /// <summary>
    /// Every layer blob removed after unpacking (what discard_unpacked_layers leaves): the same listing,
    /// read from the snapshots' folders, and a note naming each layer so read. The tricky image brings
    /// whiteouts and opaque directories, which the snapshots keep as 0/0 devices and the opaque xattr.
    /// </summary>
    [Theory]
    [MemberData(nameof(DiscardedArchives))]
    public void Layers_whose_blobs_are_gone_are_read_from_their_snapshots(string archive)
    {
        if (!File.Exists(archive)) Assert.Skip($"generated corpus not present ({archive}); run: bash ../shared/tools/make-corpus.sh");
        SkipUnlessReady();
        var ns = archive == Archive ? "discarded-dive" : "discarded-tricky";
        var name = containerd.Import(archive, ns)[0]; // unpacked: a snapshot per layer
        var ct = TestContext.Current.CancellationToken;
        var digests = ImageLoader.Load("containerd://" + name, new LoadOptions { Source = Options(ns) }, ct).Layers.Select(l => l.Digest!).ToList();
        foreach (var d in digests.Distinct())
            containerd.Ctr(ns, "content", "rm", d); // a second import's call finds it gone already: what counts is that none is left
        var (code, left) = containerd.Ctr(ns, "content", "ls", "-q");
        Assert.True(code == 0, left);
        Assert.All(digests, d => Assert.DoesNotContain(d, left));
        var run = Tool.RunWith(Env(ns), null, "ls", "containerd://" + name, "--format", "tsv");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(Tool.Run("ls", archive, "--format", "tsv").Stdout, run.Stdout);
        var note = Assert.Single(run.StderrLines);
        Assert.Contains("read from their snapshots", note);
        for (int i = 0; i < digests.Count; i++) Assert.Contains($"{i} ({digests[i][..19]}: {containerd.Root}/root/io.containerd.snapshotter.v1.overlayfs/snapshots/", note);
    }

    /// <summary>
    /// Checks, with Python, that each folder of <paramref name="folders"/> (bottom first) holds in its fs/
    /// exactly the files of the docker-archive's layer of that place, as the kernel's overlay reads them:
    /// each regular file with the tar member's bytes, each symlink with its target, each whiteout a 0/0
    /// character device, each opaque directory with trusted.overlay.opaque=y. Empty when they all do.
    /// </summary>
    private static string LayerFoldersMismatch(string archive, IReadOnlyList<string> folders)
    {
        var run = Scripts.Exec("python3", ["-c", """
            import json, os, stat, sys, tarfile
            archive, folders = sys.argv[1], sys.argv[2:]
            outer = tarfile.open(archive)
            layers = json.load(outer.extractfile('manifest.json'))[0]['Layers']
            if len(layers) != len(folders): sys.exit(f'{len(folders)} folders for {len(layers)} layers')
            for i, (member, folder) in enumerate(zip(layers, folders)):
                t = tarfile.open(fileobj=outer.extractfile(member))
                want, opaque = {}, set()
                for m in t.getmembers():
                    name = m.name.lstrip('/')
                    name = name[2:] if name.startswith('./') else name
                    if name in ('', '.'): continue
                    d, b = os.path.split(name.rstrip('/'))
                    if b == '.wh..wh..opq': opaque.add(d); continue
                    if b.startswith('.wh.'): want[os.path.join(d, b[4:])] = ('whiteout', None); continue
                    if m.isdir(): want[name.rstrip('/')] = ('dir', None)
                    elif m.issym(): want[name] = ('symlink', m.linkname)
                    elif m.isfile() or m.islnk(): want[name] = ('file', t.extractfile(m).read())
                    else: want[name] = ('other', None)
                for n in list(want) + list(opaque):
                    p = os.path.dirname(n)
                    while p: want.setdefault(p, ('dir', None)); p = os.path.dirname(p)
                for d in opaque:
                    if d: want.setdefault(d, ('dir', None))
                root, got = os.path.join(folder, 'fs'), {}
                for d, dirs, files in os.walk(root):
                    for n in dirs + files:
                        p = os.path.join(d, n); st = os.lstat(p); rel = os.path.relpath(p, root)
                        if stat.S_ISDIR(st.st_mode): got[rel] = ('dir', None)
                        elif stat.S_ISLNK(st.st_mode): got[rel] = ('symlink', os.readlink(p))
                        elif stat.S_ISCHR(st.st_mode) and st.st_rdev == 0: got[rel] = ('whiteout', None)
                        elif stat.S_ISREG(st.st_mode): got[rel] = ('file', open(p, 'rb').read())
                        else: got[rel] = ('other', None)
                if want != got:
                    diff = sorted(set(want.items()) ^ set(got.items()))[:5]
                    print(f'layer {i} ({folder}): {[(k, v[0]) for k, v in diff]}')
                for d in opaque:
                    if os.getxattr(os.path.join(root, d), 'trusted.overlay.opaque') != b'y': print(f'layer {i}: /{d} not opaque')
            """, archive, .. folders]);
        return run.ExitCode == 0 ? run.Stdout : run.Stdout + run.Stderr + $" (exit {run.ExitCode})";
    }

    /// <summary>The snapshot folders an overlay listing names (the lines that are a folder of this containerd's overlayfs snapshotter), in order.</summary>
    private List<string> SnapshotFolders(CliResult run) =>
        run.StdoutLines.Where(l => l.StartsWith(containerd.Root + "/root/io.containerd.snapshotter.v1.overlayfs/snapshots/", StringComparison.Ordinal) && l.EndsWith('/'))
            .Select(l => l[..^1]).ToList();

    /// <summary>
    /// <c>overlay</c> on an image in containerd names the snapshotter's real folders, one per layer, each
    /// holding that layer's files (checked against the archive's layer tars); <c>explain</c> names the
    /// folder the visible version of a file lives in, which holds its bytes.
    /// </summary>
    [Fact]
    public void Overlay_and_explain_name_the_real_snapshot_folders()
    {
        SkipUnlessReady();
        var name = containerd.Import(Archive, "folders")[0]; // unpacked: a snapshot per layer
        var run = Tool.RunWith(Env("folders"), null, "overlay", "containerd://" + name);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var folders = SnapshotFolders(run);
        Assert.All(folders, f => Assert.Matches(@"/snapshots/[0-9]+$", f));
        Assert.Equal("", LayerFoldersMismatch(Archive, folders));
        Assert.DoesNotContain("/var/lib/docker", run.Stdout);
        // the read-only mount of the image: every folder's fs/, top first
        Assert.Contains("mount -t overlay overlay -o lowerdir=" + string.Join(':', folders.AsEnumerable().Reverse().Select(f => f + "/fs")) + " /mnt", run.StdoutLines);
        // a file a later layer wrote (which one, read from the archive's own layer tars)
        var (path, layer) = LastWriter(Archive, "tmp/saved.again1.txt");
        var explain = Tool.RunWith(Env("folders"), null, "explain", "containerd://" + name, "/" + path);
        Assert.True(explain.ExitCode == 0, explain.Stderr);
        var host = Path.Combine(folders[layer], "fs", path);
        Assert.Contains("On this host: " + host, explain.StdoutLines);
        Assert.True(File.Exists(host), host);
    }

    /// <summary>The layer that last wrote <paramref name="path"/> in a docker-archive, read with Python's tarfile.</summary>
    private static (string Path, int Layer) LastWriter(string archive, string path)
    {
        var run = Scripts.Exec("python3", "-c", """
            import json, sys, tarfile
            outer = tarfile.open(sys.argv[1])
            last = -1
            for i, member in enumerate(json.load(outer.extractfile('manifest.json'))[0]['Layers']):
                names = [n.lstrip('/').removeprefix('./') for n in tarfile.open(fileobj=outer.extractfile(member)).getnames()]
                if sys.argv[2] in names: last = i
            print(last)
            """, archive, path);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var layer = int.Parse(run.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(layer >= 0, $"{path} is in no layer of {archive}");
        return (path, layer);
    }

    /// <summary>
    /// Runs <paramref name="script"/> in a container of the archive's image (<c>ctr run -d</c>) in
    /// <paramref name="ns"/>, waits for it to create /ready, hands the container's id to
    /// <paramref name="check"/>, then kills and removes the container.
    /// </summary>
    private void WithContainer(string ns, string script, Action<string, Dictionary<string, string>> check)
    {
        var image = containerd.Import(Archive, ns)[0];
        var id = "layerdive-" + Guid.NewGuid().ToString("N")[..8];
        var (code, output) = containerd.Ctr(ns, "run", "-d", image, id, "sh", "-c", script + "; touch /ready; sleep 600");
        if (code != 0)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"ctr run: {output}");
            Assert.Skip($"containers cannot run here (ctr run: {output.Trim()})");
        }
        // no engine but containerd: container:// finds neither Docker nor Podman
        var env = Env(ns);
        env["DOCKER_HOST"] = "unix://" + _dir.File("no-docker.sock");
        env["CONTAINER_HOST"] = "unix://" + _dir.File("no-podman.sock");
        env["XDG_RUNTIME_DIR"] = _dir.Path;
        try
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while (!Tool.RunWith(env, null, "ls", "container://" + id, "--changes", "--format", "tsv").Stdout.Contains("\tready\t", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < until, $"container {id} did not create /ready in 60 s");
                Thread.Sleep(200);
            }
            check(id, env);
        }
        finally
        {
            containerd.Ctr(ns, "tasks", "kill", "-s", "SIGKILL", id);
            for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until && containerd.Ctr(ns, "tasks", "rm", id).Code != 0;) Thread.Sleep(200);
            containerd.Ctr(ns, "containers", "rm", id);
        }
    }

    /// <summary>The mount points the runtime makes in a container's root: not what the container did.</summary>
    private static readonly string[] RuntimeMountPoints = ["dev", "proc", "run", "sys"];

    /// <summary>
    /// A running container's <c>ls --changes</c> is what it did: a file added, a file deleted (a whiteout),
    /// a directory replaced (opaque: everything the image had there is gone), with the runtime's mount points aside.
    /// </summary>
    [Fact]
    public void A_running_containers_changes_are_what_it_did()
    {
        SkipUnlessReady();
        const string Script = "echo hi > /new.txt; rm /root/saved.txt; rm -rf /root/.data; mkdir /root/.data; echo n > /root/.data/n";
        WithContainer("run", Script, (id, env) =>
        {
            var run = Tool.RunWith(env, null, "ls", "container://" + id, "--changes", "--format", "tsv");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Contains($"container {id} of docker.io/library/", run.Stderr);
            var actual = run.StdoutLines.Where(l => !l.StartsWith('#')).Select(l => l.Split('\t')).Select(f => $"{f[0]} {f[1]}")
                .Where(c => !RuntimeMountPoints.Contains(c[2..])).Order(StringComparer.Ordinal).ToList();
            // what the script did, the files it removed with /root/.data read from the archive's own listing
            var removed = Tool.Run("ls", Archive, "--format", "tsv").StdoutLines.Select(l => l.Split('\t')[0]).Where(p => p.StartsWith("root/.data/", StringComparison.Ordinal));
            var expected = new[] { "A new.txt", "A ready", "A root/.data/n", "M root", "M root/.data", "D root/saved.txt" }
                .Concat(removed.Select(p => "D " + p)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, actual);
        });
    }

    /// <summary>
    /// The merged tree of a running container equals its snapshot's mounts (<c>ctr snapshots mounts</c>'s
    /// upper and lower folders) mounted read-only here, listed with Python: path, type and size of each entry.
    /// </summary>
    [Fact]
    public void A_running_containers_tree_equals_its_snapshot_mounted()
    {
        SkipUnlessReady();
        WithContainer("run", "echo hi > /new.txt; rm /root/saved.txt; rm -rf /root/.data; mkdir /root/.data; echo n > /root/.data/n", (id, env) =>
        {
            var target = Directory.CreateDirectory(_dir.File("merged")).FullName;
            var (code, output) = containerd.Ctr("run", "snapshots", "mounts", target, id);
            Assert.True(code == 0, output);
            string Option(string key) => output.Split(' ', ',').Single(o => o.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..].Trim();
            // read-only: the upper folder becomes the top lower one, and nothing is written
            var mount = Scripts.Exec("mount", "-t", "overlay", "overlay", "-o", $"ro,lowerdir={Option("upperdir")}:{Option("lowerdir")}", target);
            if (mount.ExitCode != 0) Assert.Skip($"overlay cannot be mounted here: {mount.Stderr.Trim()}");
            try
            {
                var walk = Scripts.Exec("python3", "-c", """
                    import os, stat, sys
                    root = sys.argv[1]
                    for d, dirs, files in os.walk(root):
                        for n in dirs + files:
                            p = os.path.join(d, n); st = os.lstat(p); rel = os.path.relpath(p, root)
                            kind = 'dir' if stat.S_ISDIR(st.st_mode) else 'symlink' if stat.S_ISLNK(st.st_mode) else 'file' if stat.S_ISREG(st.st_mode) else 'other'
                            print(rel, kind, st.st_size if kind == 'file' else 0, sep='\t')
                    """, target);
                Assert.True(walk.ExitCode == 0, walk.Stderr);
                static bool Ours(string path) => !RuntimeMountPoints.Any(m => path == m || path.StartsWith(m + "/", StringComparison.Ordinal));
                var expected = walk.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => Ours(l.Split('\t')[0])).Order(StringComparer.Ordinal).ToList();
                var run = Tool.RunWith(env, null, "ls", "container://" + id, "--format", "tsv");
                Assert.True(run.ExitCode == 0, run.Stderr);
                var actual = run.StdoutLines.Where(l => !l.StartsWith('#')).Select(l => l.Split('\t'))
                    .Where(f => f[0] != "." && Ours(f[0]))
                    .Select(f => $"{f[0]}\t{(f[1] is "dir" or "symlink" or "file" ? f[1] : f[1] == "hardlink" ? "file" : "other")}\t{(f[1] is "file" or "hardlink" ? f[5] : "0")}")
                    .Order(StringComparer.Ordinal).ToList();
                Assert.Equal(expected, actual);
            }
            finally
            {
                Scripts.Exec("umount", target);
            }
        });
    }

    /// <summary>
    /// Short container ids, as crictl and nerdctl print them: two containers (created with ctr, ids of 64
    /// hex digits as theirs) whose ids share a start. A start only one id has names that container; one
    /// both have is a one-line error naming both ids, exit 2.
    /// </summary>
    [Fact]
    public void A_short_container_id_names_the_container_and_an_ambiguous_one_is_an_error()
    {
        SkipUnlessReady();
        const string Ns = "short-ids";
        var image = containerd.Import(Archive, Ns)[0];
        var start = Guid.NewGuid().ToString("N")[..6];
        var ids = new[] { start + "1" + new string('a', 57), start + "2" + new string('b', 57) };
        try
        {
            foreach (var id in ids)
            {
                var (code, output) = containerd.Ctr(Ns, "containers", "create", image, id, "sh");
                Assert.True(code == 0, output);
            }
            var env = Env(Ns);
            env["DOCKER_HOST"] = "unix://" + _dir.File("no-docker.sock");
            env["CONTAINER_HOST"] = "unix://" + _dir.File("no-podman.sock");
            env["XDG_RUNTIME_DIR"] = _dir.Path;
            var run = Tool.RunWith(env, null, "ls", "container://" + ids[1][..13], "--changes", "--format", "tsv");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Contains($"container {ids[1]} of {image}", run.Stderr);
            var ambiguous = Tool.RunWith(env, null, "ls", "container://" + start);
            AssertFault(ambiguous, containerd.Socket, $"namespace {Ns}", start, ids[0], ids[1]);
        }
        finally
        {
            foreach (var id in ids) containerd.Ctr(Ns, "containers", "rm", id);
        }
    }

    /// <summary>
    /// <c>overlay</c> and <c>explain</c> on a running containerd container: its image's snapshot folders
    /// and its own active snapshot, as <c>ctr snapshots mounts</c> names them, each image folder holding
    /// its layer's files; the file the container wrote is where explain says.
    /// </summary>
    [Fact]
    public void Overlay_and_explain_name_a_containers_snapshot_folders()
    {
        SkipUnlessReady();
        WithContainer("run", "echo hi > /new.txt", (id, env) =>
        {
            var (code, output) = containerd.Ctr("run", "snapshots", "mounts", "/mnt", id);
            Assert.True(code == 0, output);
            string Option(string key) => output.Split(' ', ',').Single(o => o.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..].Trim();
            var (upper, lower) = (Option("upperdir"), Option("lowerdir"));
            var run = Tool.RunWith(env, null, "overlay", "container://" + id);
            Assert.True(run.ExitCode == 0, run.Stderr);
            var folders = SnapshotFolders(run);
            Assert.Equal(lower.Split(':').Reverse().Append(upper).Select(f => f[..^"/fs".Length]), folders);
            Assert.Equal("", LayerFoldersMismatch(Archive, folders[..^1]));
            Assert.Contains($"mount -t overlay overlay -o lowerdir={lower},upperdir={upper},workdir={Option("workdir")} /mnt", run.StdoutLines);
            var explain = Tool.RunWith(env, null, "explain", "container://" + id, "/new.txt");
            Assert.True(explain.ExitCode == 0, explain.Stderr);
            Assert.Contains("On this host: " + Path.Combine(upper, "new.txt"), explain.StdoutLines);
            Assert.Equal("hi\n", File.ReadAllText(Path.Combine(upper, "new.txt")));
        });
    }

    /// <summary>
    /// The connection to containerd cut halfway through the image's blobs (a proxy in front of the real
    /// socket that passes its first 700 kB): one line naming a layer and the socket, exit 2, no hang.
    /// </summary>
    [Fact]
    public void A_connection_cut_in_a_blob_is_one_line_naming_the_layer()
    {
        SkipUnlessReady();
        var name = containerd.Import(Archive, "default")[0];
        using var proxy = new CuttingProxy(containerd.Socket, _dir.File("cut.sock"), 700_000);
        var clock = Stopwatch.StartNew();
        var run = Tool.RunWith(new Dictionary<string, string> { ["CONTAINERD_ADDRESS"] = proxy.Socket }, null, "ls", "containerd://" + name);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        AssertFault(run, proxy.Socket, "namespace default", ": layer ");
    }

    /// <summary>The API's own refusal (a namespace name containerd does not accept): one line with the method and the status.</summary>
    [Fact]
    public void An_API_error_is_one_line()
    {
        SkipUnlessReady();
        var run = Tool.RunWith(Env(), null, "ls", "containerd://x", "--namespace", "Not A Namespace!");
        AssertFault(run, containerd.Socket, "Images.List", "InvalidArgument");
    }

    /// <summary>The lease taken for the read is gone once the read ends.</summary>
    [Fact]
    public void No_lease_is_left_behind()
    {
        SkipUnlessReady();
        var name = containerd.Import(Archive, "default")[0];
        Listing(Env("default"), "containerd://" + name);
        var (code, output) = containerd.Ctr("default", "leases", "ls", "-q");
        Assert.True(code == 0, output);
        Assert.DoesNotContain("layerdive-", output);
    }

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
