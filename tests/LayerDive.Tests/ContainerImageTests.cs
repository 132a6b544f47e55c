using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace LayerDive.Tests;

/// <summary>
/// The container image (issue 31, item 3), built as a release builds it: <c>release/image.sh</c> with
/// the real dockerd the engine tests start, on the native executable, the Containerfile's distroless
/// base substituted by the one <c>release/base.sh</c> makes from this machine's files (no registry can
/// be reached). Built once for the class.
/// </summary>
public sealed class LayerDiveImage : IDisposable
{
    private readonly NativeBuild _native = new();
    private readonly TempDir _out = new();
    private readonly Lazy<Task<(string Tag, string Archive)>> _built;

    public LayerDiveImage() => _built = new(Build);

    public DockerService Docker { get; } = new();

    public Task<string> Native => _native.Command;

    /// <summary>The tag in the engine (layerdive:VERSION) and the OCI archive image.sh saved.</summary>
    public Task<(string Tag, string Archive)> Built => _built.Value;

    private async Task<(string, string)> Build()
    {
        var env = new Dictionary<string, string>
        {
            ["BUILDER"] = "docker", ["DOCKER_HOST"] = Docker.Address, ["BASE"] = "local", ["LAYERDIVE_EXECUTABLE"] = await Native,
        };
        var (code, stdout, stderr) = Scripts.Exec("bash", env, Path.Combine(Paths.RepoRoot, "release", "image.sh"), _out.Path);
        Assert.True(code == 0, $"release/image.sh: exit {code}\n{stdout}{stderr}");
        var archive = stdout.Trim();
        var version = Scripts.ExecIn(Paths.RepoRoot, "dotnet", null, "msbuild", "src/LayerDive", "-getProperty:Version").Stdout.Trim();
        Assert.Equal(Path.Combine(_out.Path, $"layerdive-{version}-image.tar"), archive);
        return ("layerdive:" + version, archive);
    }

    public void Dispose()
    {
        Docker.Dispose();
        _native.Dispose();
        _out.Dispose();
        GC.SuppressFinalize(this);
    }
}

[Collection(nameof(SerialCollection))]
public sealed class ContainerImageTests(LayerDiveImage image) : IClassFixture<LayerDiveImage>
{
    private static string DiveImage => Paths.Public("dive__.data_test-docker-image.tar");

    private void SkipUnlessReady()
    {
        if (image.Docker.SkipReason is not { } why) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why + " (CI=true: .ci/run installs docker.io and runs as root)");
        Assert.Skip(why);
    }

    /// <summary>The group of the engine's socket, which the container's nonroot user is given (as the README says).</summary>
    private string SocketGroup() => Stat("%g");

    private string Stat(string format)
    {
        var (code, stdout, stderr) = Scripts.Exec("stat", "-c", format, image.Docker.Socket);
        Assert.True(code == 0, stderr);
        return stdout.Trim();
    }

    private (int Code, string Stdout, string Stderr) Run(params string[] args) =>
        Scripts.Exec("docker", new Dictionary<string, string> { ["DOCKER_HOST"] = image.Docker.Address }, args);

    /// <summary>dive's --ci text less its "Image Source:" and "Extracting image from" lines, which name where the image was read from.</summary>
    private static string Figures(string ciText) =>
        string.Join('\n', ciText.Split('\n').Where(l => !l.StartsWith("Image Source:", StringComparison.Ordinal) && !l.StartsWith("Extracting image from", StringComparison.Ordinal)));

    /// <summary>
    /// As the README runs it: the engine's socket mounted at DOCKER_HOST's default path, CI=true, an
    /// image of that engine named. The container's verdict and figures are the native executable's on
    /// the archive the image was loaded from.
    /// </summary>
    [Fact]
    public async Task The_container_gates_an_image_of_the_engine_whose_socket_it_is_given()
    {
        SkipUnlessReady();
        var (tag, _) = await image.Built;
        var loaded = image.Docker.Ensure(DiveImage);
        var container = Run("run", "--rm", "--network", "none", "-v", image.Docker.Socket + ":/var/run/docker.sock",
            "--group-add", SocketGroup(), "-e", "CI=true", tag, loaded);
        var native = Scripts.Exec(await image.Native, DiveImage, "--ci");
        Assert.True(native.ExitCode is 0 or 1, native.Stderr);
        Assert.True(container.Code == native.ExitCode, $"container exit {container.Code}, native {native.ExitCode}\n{container.Stdout}{container.Stderr}");
        Assert.Contains("efficiency:", native.Stdout);
        Assert.Equal(Figures(native.Stdout), Figures(container.Stdout));
        // the engine's read adds a note on where the layers came from; nothing else (no warning, no error)
        Assert.Equal("", native.Stderr);
        Assert.All(container.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("layerdive: note: ", l));
    }

    /// <summary>The image runs as nonroot: without the socket's group an engine socket of mode 660 is a one-line error, exit 2.</summary>
    [Fact]
    public async Task Without_the_sockets_group_the_nonroot_container_says_so_in_one_line()
    {
        SkipUnlessReady();
        var (tag, _) = await image.Built;
        var mode = Convert.ToInt32(Stat("%a"), 8);
        if (SocketGroup() == "65532" || (mode & 0b010) != 0) Assert.Skip($"the socket (mode {Stat("%a")}) lets nonroot in anyway");
        var loaded = image.Docker.Ensure(DiveImage);
        var r = Run("run", "--rm", "--network", "none", "-v", image.Docker.Socket + ":/var/run/docker.sock", tag, loaded, "--ci");
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("layerdive: error: ", lines[0]);
        Assert.Equal("", r.Stdout);
    }

    /// <summary>
    /// Eat your own cooking: LayerDive gates its own image, from the OCI archive image.sh saved and from
    /// the engine, at least 99% efficient; the labels carry the version and the commit, read by the engine.
    /// </summary>
    [Fact]
    public async Task The_image_passes_its_own_gate_and_names_its_version_and_commit()
    {
        SkipUnlessReady();
        var (tag, archive) = await image.Built;
        using var dir = new TempDir();
        foreach (var (source, env) in new[]
        {
            (archive, new Dictionary<string, string>()),
            ("docker://" + tag, new Dictionary<string, string> { ["DOCKER_HOST"] = image.Docker.Address }),
        })
        {
            var json = dir.File(Guid.NewGuid().ToString("N") + ".json");
            var r = Scripts.Exec(await image.Native, env, source, "--ci", "--json", json);
            Assert.True(r.ExitCode == 0, $"{source}: exit {r.ExitCode}\n{r.Stdout}{r.Stderr}");
            using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
            var efficiency = doc.RootElement.GetProperty("image").GetProperty("efficiencyScore").GetDouble();
            Assert.True(efficiency >= 0.99, $"{source}: efficiency {efficiency}");
        }

        var (code, labels, stderr) = Run("image", "inspect", "--format", "{{json .Config.Labels}}", tag);
        Assert.True(code == 0, stderr);
        var l = JsonDocument.Parse(labels).RootElement;
        Assert.Equal(tag["layerdive:".Length..], l.GetProperty("org.opencontainers.image.version").GetString());
        Assert.Equal(Scripts.ExecIn(Paths.RepoRoot, "git", null, "rev-parse", "HEAD").Stdout.Trim(), l.GetProperty("org.opencontainers.image.revision").GetString()!.Replace("-dirty", ""));
        Assert.Equal("MIT", l.GetProperty("org.opencontainers.image.licenses").GetString());
        var (_, user, _) = Run("image", "inspect", "--format", "{{.Config.User}}", tag);
        Assert.Equal("65532:65532", user.Trim());
    }

    /// <summary>With no image named the container opens the bundled sample (samples/ beside the executable in the image).</summary>
    [Fact]
    public async Task The_container_opens_the_bundled_sample_when_no_image_is_named()
    {
        SkipUnlessReady();
        var (tag, _) = await image.Built;
        var container = Run("run", "--rm", "--network", "none", tag, "--ci");
        var native = Scripts.Exec(await image.Native, Paths.Sample, "--ci");
        Assert.True(container.Code == native.ExitCode, container.Stdout + container.Stderr);
        Assert.Equal(Figures(native.Stdout), Figures(container.Stdout));
    }

    /// <summary>
    /// What the image adds to its base is the executable, byte for byte the native build, and the
    /// sample, nothing else: read from the saved OCI archive with TarReader alone (index.json, the
    /// manifest, the top layer).
    /// </summary>
    [Fact]
    public async Task The_image_adds_the_native_executable_and_the_sample_and_nothing_else()
    {
        SkipUnlessReady();
        var (_, archive) = await image.Built;
        var blobs = new Dictionary<string, byte[]>();
        using (var r = new TarReader(File.OpenRead(archive)))
            for (var e = r.GetNextEntry(); e is not null; e = r.GetNextEntry())
                if (e.DataStream is not null)
                {
                    var ms = new MemoryStream();
                    e.DataStream.CopyTo(ms);
                    blobs[e.Name.TrimStart('.', '/')] = ms.ToArray();
                }
        byte[] Blob(JsonElement descriptor) => blobs["blobs/sha256/" + descriptor.GetProperty("digest").GetString()!["sha256:".Length..]];
        var index = JsonDocument.Parse(blobs["index.json"]).RootElement;
        var manifest = JsonDocument.Parse(Blob(index.GetProperty("manifests")[0])).RootElement;
        var layers = manifest.GetProperty("layers");
        Assert.Equal(2, layers.GetArrayLength()); // the base's one layer and ours
        var top = layers[layers.GetArrayLength() - 1];
        Stream layer = new MemoryStream(Blob(top));
        if (top.GetProperty("mediaType").GetString()!.EndsWith("gzip", StringComparison.Ordinal)) layer = new GZipStream(layer, CompressionMode.Decompress);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using (var r = new TarReader(layer))
            for (var e = r.GetNextEntry(); e is not null; e = r.GetNextEntry())
                files[e.Name.TrimStart('.', '/').TrimEnd('/')] = e.DataStream is null ? e.EntryType.ToString() : Convert.ToHexString(SHA256.HashData(e.DataStream));
        string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Equal(new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["opt"] = "Directory", ["opt/layerdive"] = "Directory", ["opt/layerdive/samples"] = "Directory",
            ["opt/layerdive/layerdive"] = Sha(await image.Native), ["opt/layerdive/samples/sample.oci.tar"] = Sha(Paths.Sample),
        }, files);
    }
}
