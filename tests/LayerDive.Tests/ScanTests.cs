using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// <c>layerdive scan</c> against a real docker-registry holding 42 images pushed with skopeo, built from
/// 3 bases: every image's figures are those <c>--ci --json</c> gives for it alone, each distinct layer
/// blob is downloaded once (a counting proxy in front of the registry), a warm cache downloads none,
/// and 4 shards merged are the single run's report byte for byte.
/// </summary>
[Collection("registry")]
public sealed class ScanTests(RegistryServices registries) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const int Bases = 3, PerBase = 14;

    /// <summary>Base b's layers (a few hundred KB, different per base), and image v's own layer on top; some images waste bytes.</summary>
    private static ImageBuilder Image(int b, int v)
    {
        var builder = new ImageBuilder();
        builder.Layer($"base {b}", l =>
        {
            l.Dir("etc").File("etc/os-release", $"ID=base{b}\n").Dir("usr").Dir("usr/lib");
            for (int i = 0; i < 20; i++) l.File($"usr/lib/lib{i}.so", Enumerable.Range(0, 4000 + i * 100 + b * 7).Select(x => (byte)(x * (b + 3) + i)).ToArray());
        });
        builder.Layer($"base {b} tools", l => l.Dir("opt").File("opt/tool", new byte[30_000 + b]).File("etc/os-release", $"ID=base{b}\nVERSION=2\n"));
        builder.Layer($"app {v}", l =>
        {
            l.Dir("app").File("app/version", $"{b}.{v}\n");
            if (v % 3 == 0) l.File("opt/tool", new byte[30_000 + b + v]); // a copy that wastes the base's
            if (v % 4 == 1) l.Whiteout("usr/lib/lib3.so");
        });
        return builder;
    }

    private static string Repository(string prefix, int b, int v) => $"{prefix}/base{b}-r{v % 5}";

    /// <summary>Pushes the 42 images once per test (a prefix of its own); returns the prefix and every image's NAME:TAG.</summary>
    private (string Prefix, List<string> Names) Push(int port)
    {
        var prefix = "scan" + Guid.NewGuid().ToString("N")[..8];
        var names = new List<string>();
        for (int b = 0; b < Bases; b++)
            for (int v = 0; v < PerBase; v++)
            {
                var layout = Path.Combine(_dir.Path, $"img-{b}-{v}");
                Image(b, v).WriteOciLayout(layout);
                var repo = Repository(prefix, b, v);
                registries.Push(port, $"oci:{layout}:latest", $"{repo}:v{v}");
                names.Add($"127.0.0.1:{port}/{repo}:v{v}");
            }
        return (prefix, names);
    }

    /// <summary>Pushes <paramref name="count"/> images of base 0 as PREFIX/app:v0.. (a prefix of the test's own); returns the prefix.</summary>
    private string PushApp(string name, int count)
    {
        var prefix = name + Guid.NewGuid().ToString("N")[..8];
        for (int v = 0; v < count; v++)
        {
            var layout = Path.Combine(_dir.Path, $"{prefix}-{v}");
            Image(0, v).WriteOciLayout(layout);
            registries.Push(registries.Anonymous, $"oci:{layout}:latest", $"{prefix}/app:v{v}");
        }
        return prefix;
    }

    private CliResult Run(string cache, params string[] args) =>
        Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = cache, ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock", ["CONTAINER_HOST"] = "unix:///nonexistent/podman.sock" }, null, args);

    [Fact]
    public async Task A_registry_scan_gives_each_image_its_CI_figures_and_downloads_each_layer_once()
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var (prefix, names) = Push(registries.Anonymous);
        using var proxy = new CountingProxy(registries.Anonymous);
        var cache = Path.Combine(_dir.Path, "cache");
        var json = Path.Combine(_dir.Path, "scan.json");
        var match = $"^127\\.0\\.0\\.1:{proxy.Port}/{prefix}/";
        var scan = Run(cache, "scan", $"registry://127.0.0.1:{proxy.Port}", "--match", match, "--format", "json", "-o", json);
        Assert.True(scan.ExitCode == 0, scan.Stderr);
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var images = report.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(names.Select(n => n.Replace($":{registries.Anonymous}/", $":{proxy.Port}/")).Order(StringComparer.Ordinal), images.Select(i => i.GetProperty("name").GetString()));

        // each distinct blob (layers and configs) downloaded once: 2 layers a base, and each image's own
        var blobs = proxy.BlobGets();
        Assert.All(blobs.GroupBy(b => b), g => Assert.True(g.Count() == 1, $"{g.Key} downloaded {g.Count()} times"));
        var distinct = images.SelectMany(i => i.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("id").GetString())).Distinct().Count();
        var layerIds = images.SelectMany(i => i.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("id").GetString()!)).ToHashSet();
        Assert.Equal(distinct, blobs.Count(layerIds.Contains));

        // every image's figures as --ci --json gives them for it alone (no cache: read from the registry itself)
        foreach (var image in images)
        {
            var name = image.GetProperty("name").GetString()!.Replace($":{proxy.Port}/", $":{registries.Anonymous}/");
            var single = Path.Combine(_dir.Path, "single.json");
            var ci = Run("off", "--ci", name, "--json", single);
            Assert.True(ci.ExitCode is 0 or 1, ci.Stderr);
            var d = ScanFigures.SameAsCi(image, single);
            Assert.Equal(d.GetProperty("layerdive").GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()),
                image.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("id").GetString()));
        }

        // the shares: a base layer is held by the 14 images of its base, an image's own layer by it alone
        var layers = images.SelectMany(i => i.GetProperty("layers").EnumerateArray()).ToList();
        Assert.Equal(Bases * 2, layers.Where(l => l.GetProperty("images").GetInt32() == PerBase).Select(l => l.GetProperty("id").GetString()).Distinct().Count());
        foreach (var image in images)
        {
            var own = image.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("images").GetInt32() == 1).Sum(l => l.GetProperty("storedBytes").GetInt64());
            Assert.Equal(own, image.GetProperty("uniqueBytes").GetInt64());
            Assert.Equal(image.GetProperty("storedBytes").GetInt64() - own, image.GetProperty("sharedBytes").GetInt64());
        }

        // warm: no layer blob downloaded, and the same report
        proxy.Reset();
        var warmJson = Path.Combine(_dir.Path, "warm.json");
        var warm = Run(cache, "scan", $"registry://127.0.0.1:{proxy.Port}", "--match", match, "--format", "json", "-o", warmJson);
        Assert.True(warm.ExitCode == 0, warm.Stderr);
        Assert.DoesNotContain(proxy.BlobGets(), layerIds.Contains);
        Assert.Equal(File.ReadAllText(json), File.ReadAllText(warmJson));

        // four shards at once, merged: the single run's report, byte for byte; and again through a Job's variables
        var shards = Enumerable.Range(1, 4).Select(k => Task.Run(() =>
        {
            var part = Path.Combine(_dir.Path, $"shard{k}.json");
            var r = Scripts.Exec("dotnet", new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = cache }, Path.Combine(AppContext.BaseDirectory, "layerdive.dll"),
                "scan", $"registry://127.0.0.1:{proxy.Port}", "--match", match, "--format", "json", "-o", part, "--shard", $"{k}/4");
            Assert.True(r.ExitCode == 0, r.Stderr);
            return part;
        })).ToArray();
        var parts = await Task.WhenAll(shards);
        var counts = parts.Select(p => JsonDocument.Parse(File.ReadAllText(p)).RootElement.GetProperty("images").GetArrayLength()).ToArray();
        Assert.Equal(images.Count, counts.Sum());
        Assert.True(counts.Count(c => c > 0) >= 2, "the images should spread over the shards: " + string.Join(",", counts));
        var merged = Path.Combine(_dir.Path, "merged.json");
        Assert.Equal(0, Run(cache, ["scan", "--merge", .. parts, "--format", "json", "-o", merged]).ExitCode);
        Assert.Equal(File.ReadAllText(json), File.ReadAllText(merged));

        var jobParts = new List<string>();
        for (int index = 0; index < 4; index++)
        {
            var part = Path.Combine(_dir.Path, $"job{index}.json");
            var r = Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = cache, ["JOB_COMPLETION_INDEX"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture), ["SHARDS"] = "4" }, null,
                "scan", $"registry://127.0.0.1:{proxy.Port}", "--match", match, "--format", "json", "-o", part, "--shard-count-var", "SHARDS");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(File.ReadAllText(parts[index]), File.ReadAllText(part));
            jobParts.Add(part);
        }
        var gitlab = Path.Combine(_dir.Path, "gitlab.json");
        Assert.Equal(0, Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = cache, ["CI_NODE_INDEX"] = "2", ["CI_NODE_TOTAL"] = "4" }, null,
            "scan", $"registry://127.0.0.1:{proxy.Port}", "--match", match, "--format", "json", "-o", gitlab).ExitCode);
        Assert.Equal(File.ReadAllText(parts[1]), File.ReadAllText(gitlab));
    }

    /// <summary>
    /// A registry's images are read from the registry, as <c>registry://</c> says, not as bare names (which
    /// go to Docker, then Podman, first): an engine holding another image of that name must not be read,
    /// and asking podman costs a process an image. Watched through DOCKER_HOST, a socket the test listens
    /// on and counts connections to, and the podman CLI kept out of reach (CONTAINER_HOST unset, PATH without it).
    /// </summary>
    [Fact]
    public async Task A_registry_scan_reads_the_registry_and_asks_no_engine()
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var prefix = PushApp("scan", 2);
        var socket = Path.Combine(_dir.Path, "docker.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socket));
        listener.Listen(16);
        int asked = 0;
        var watching = Task.Run(() =>
        {
            try
            {
                while (true)
                {
                    using var c = listener.Accept();
                    Interlocked.Increment(ref asked);
                }
            }
            catch (SocketException) { /* the listener closed */ }
            catch (ObjectDisposedException) { }
        }, TestContext.Current.CancellationToken);
        var json = Path.Combine(_dir.Path, "engines.json");
        var r = Tool.RunWith(new Dictionary<string, string>
        {
            ["LAYERDIVE_CACHE"] = "off", ["DOCKER_HOST"] = "unix://" + socket, ["CONTAINER_HOST"] = "",
            ["PATH"] = "/nonexistent", ["CONTAINERD_ADDRESS"] = "/nonexistent/containerd.sock",
        }, null, "scan", $"registry://127.0.0.1:{registries.Anonymous}", "--match", $"/{prefix}/", "--format", "json", "-o", json, "--quiet");
        listener.Close();
        await watching;
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(0, asked);
        var images = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("name").GetString()).ToList();
        Assert.Equal([$"127.0.0.1:{registries.Anonymous}/{prefix}/app:v0", $"127.0.0.1:{registries.Anonymous}/{prefix}/app:v1"], images);
    }

    [Fact]
    public async Task One_image_failing_is_reported_and_the_scan_goes_on_and_rules_set_the_exit_code()
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
        var prefix = PushApp("scanfail", 4);
        var repos = Path.Combine(_dir.Path, "repos.txt");
        File.WriteAllText(repos, $"# the repositories\n{prefix}/app\n{prefix}/missing\n");
        var cache = Path.Combine(_dir.Path, "cache");
        var text = Run(cache, "scan", $"registry://127.0.0.1:{registries.Anonymous}", "--repos", repos, "--last", "2");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains($"/{prefix}/app:v2", text.Stdout);
        Assert.Contains($"/{prefix}/app:v3", text.Stdout);
        Assert.DoesNotContain($"/{prefix}/app:v0", text.Stdout); // --last 2 of v0 to v3
        Assert.DoesNotContain($"/{prefix}/app:v1", text.Stdout);
        Assert.Contains("layerdive: note: scan: 2/2 images", text.Stderr);

        // a blob gone from the registry: that image fails with its error line, the others are reported
        var victim = Image(0, 2).Build().Layers[2].Digest;
        using (var http = new HttpClient())
            Assert.True((await http.DeleteAsync($"http://127.0.0.1:{registries.Anonymous}/v2/{prefix}/app/blobs/{victim}", TestContext.Current.CancellationToken)).IsSuccessStatusCode);
        var failing = Run("off", "scan", $"registry://127.0.0.1:{registries.Anonymous}", "--repos", repos, "--format", "tsv");
        Assert.Equal(2, failing.ExitCode);
        Assert.Contains($"layerdive: error: 127.0.0.1:{registries.Anonymous}/{prefix}/app:v2: layer 2", failing.Stderr);
        Assert.Equal(5, failing.StdoutLines.Length); // the header, v0, v1 and v3, then v2 with no figures
        Assert.Equal($"127.0.0.1:{registries.Anonymous}/{prefix}/app:v2" + new string('\t', 9) + "error", failing.StdoutLines[^1]);
        Assert.Contains("layerdive: note: scan: 4/4 images (1 failed)", failing.Stderr);

        // a rule that every image fails: exit 1
        File.WriteAllText(repos, $"{prefix}/app\n");
        var strict = Run(cache, "scan", $"registry://127.0.0.1:{registries.Anonymous}", "--repos", repos, "--match", ":v[03]$", "--ci", "--highestWastedBytes", "1", "--format", "tsv");
        Assert.Equal(1, strict.ExitCode);
        Assert.Equal(3, strict.StdoutLines.Length);
        Assert.All(strict.StdoutLines.Skip(1), l => Assert.EndsWith("\tFAIL", l));
        var lenient = Run(cache, "scan", $"registry://127.0.0.1:{registries.Anonymous}", "--repos", repos, "--match", ":v[03]$", "--ci", "--highestWastedBytes", "1MB", "--lowestEfficiency", "disabled", "--highestUserWastedPercent", "disabled", "--format", "tsv");
        Assert.Equal(0, lenient.ExitCode);
        Assert.All(lenient.StdoutLines.Skip(1), l => Assert.EndsWith("\tpass", l));
    }

    [Fact]
    public void An_OCI_layouts_artifacts_are_not_scanned_as_images()
    {
        // regclient's test repository: images, and signatures and SBOMs under ref names of their own
        // (a1, a-example, sha256-....sig); each artifact had failed as "no image matches"
        var layout = Path.Combine(Paths.PublicCorpus, "regclient__testdata_testrepo");
        var platforms = Tool.Run("platforms", layout);
        Assert.Equal(0, platforms.ExitCode);
        var artifacts = platforms.StdoutLines.Where(l => l.StartsWith("(artifact:", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).ToHashSet();
        var images = platforms.StdoutLines.Skip(1).Where(l => !l.StartsWith("(artifact:", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).ToHashSet();
        Assert.Contains("a1", artifacts);
        var scan = Run("off", "scan", layout, "--format", "tsv", "-q");
        var scanned = scan.StdoutLines.Skip(1).Select(l => l.Split('\t')[0][(layout.Length + 1)..]).ToHashSet();
        Assert.Equal(images.Except(artifacts).Order(StringComparer.Ordinal), scanned.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("no image matches", scan.Stderr);
    }

    [Fact]
    public void An_OCI_layout_scan_lists_its_tags_and_the_shard_variables_are_checked()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        for (int v = 0; v < 3; v++)
        {
            var one = Path.Combine(_dir.Path, $"one{v}");
            Image(1, v).WriteOciLayout(one);
            Assert.Equal(0, Scripts.Exec("skopeo", "copy", "--quiet", $"oci:{one}:latest", $"oci:{layout}:t{v}").ExitCode);
        }
        var cache = Path.Combine(_dir.Path, "cache");
        var md = Run(cache, "scan", layout, "--format", "markdown");
        Assert.True(md.ExitCode == 0, md.Stderr);
        for (int v = 0; v < 3; v++) Assert.Contains($"| {layout}:t{v} |", md.Stdout);
        Assert.Contains("## Layers shared by more than one image", md.Stdout);
        var html = Run(cache, "scan", layout, "--format", "html");
        Assert.Equal(0, html.ExitCode);
        Assert.StartsWith("<!DOCTYPE html>", html.Stdout);
        for (int v = 0; v < 3; v++) Assert.Contains($"<td>{System.Net.WebUtility.HtmlEncode(layout)}:t{v}</td>", html.Stdout);
        Assert.DoesNotContain("<script", html.Stdout);

        // a second tag of t2's manifest is the same image: t2's own layer stays its own, held by one image
        Assert.Equal(0, Scripts.Exec("skopeo", "copy", "--quiet", $"oci:{layout}:t2", $"oci:{layout}:t2-alias").ExitCode);
        var json = Run(cache, "scan", layout, "--format", "json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using (var doc = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var images = doc.RootElement.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("name").GetString()!);
            var (t2, alias, t1) = (images[$"{layout}:t2"], images[$"{layout}:t2-alias"], images[$"{layout}:t1"]);
            foreach (var i in new[] { t2, alias })
                Assert.Equal(t2.GetProperty("uniqueBytes").GetInt64(), i.GetProperty("uniqueBytes").GetInt64());
            // t1 and t2 differ only in their app layer, and the alias adds no sharing
            Assert.True(t2.GetProperty("uniqueBytes").GetInt64() > 0);
            Assert.Equal(t1.GetProperty("uniqueBytes").GetInt64() + t1.GetProperty("sharedBytes").GetInt64(), t1.GetProperty("storedBytes").GetInt64());
        }

        Assert.Equal(2, Tool.RunWith(new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = "off", ["JOB_COMPLETION_INDEX"] = "1" }, null, "scan", layout).ExitCode);
        Assert.Equal(2, Run("off", "scan", layout, "--shard", "5/4").ExitCode);
        Assert.Equal(2, Run("off", "scan", layout, "--shard", "0/4").ExitCode);
        Assert.Equal(2, Run("off", "scan", "nowhere-at-all").ExitCode);
        var bad = Path.Combine(_dir.Path, "bad.json");
        File.WriteAllText(bad, "{\"images\": 3}");
        var merge = Run("off", "scan", "--merge", bad);
        Assert.Equal(2, merge.ExitCode);
        Assert.Contains("is not a JSON report of layerdive scan", merge.Stderr);
    }

    /// <summary>
    /// <c>scan --ci</c> judges every rule <c>--ci</c> judges, with the same file and flags: dive's, and the
    /// advice's (a secret fails by default; avoidable bytes when a bound is set); each image's verdict is
    /// the exit code of <c>--ci</c> on it alone.
    /// </summary>
    [Fact]
    public void A_scan_with_ci_judges_the_advice_rules_as_ci_does()
    {
        var layout = Path.Combine(_dir.Path, "oci");
        var images = new (string Tag, Action<LayerBuilder> Top)[]
        {
            ("clean", l => l.Dir("app").File("app/version", "1\n")),
            // a private key, deleted by the next step: still in the image's layers
            ("secret", l => l.Dir("root").Dir("root/.ssh").File("root/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")),
            // an apt cache left in the image: 300 KB a rebuild would save, and nothing dive counts as waste
            ("apt", l => l.Dir("var").Dir("var/cache").Dir("var/cache/apt").Dir("var/cache/apt/archives").File("var/cache/apt/archives/tool.deb", Enumerable.Range(0, 300_000).Select(x => (byte)(x * 7 + x / 251)).ToArray())),
        };
        foreach (var (tag, top) in images)
        {
            var one = Path.Combine(_dir.Path, "one-" + tag);
            var b = Image(2, 2); // an image dive's rules pass (no copy, no whiteout)
            b.Layer(tag, top);
            if (tag == "secret") b.Layer("rm", l => l.Whiteout("root/.ssh/id_rsa"));
            b.WriteOciLayout(one);
            Assert.Equal(0, Scripts.Exec("skopeo", "copy", "--quiet", $"oci:{one}:latest", $"oci:{layout}:{tag}").ExitCode);
        }
        var rules = Path.Combine(_dir.Path, "rules.yaml");
        File.WriteAllText(rules, "rules:\n  highestAvoidableBytes: 100KB\n");
        string[][] settings =
        [
            [],
            ["--secrets", "disabled"],
            ["--highest-avoidable-bytes", "100KB"],
            ["--ci-config", rules],
            ["--ci-config", rules, "--secrets", "disabled", "--highestAvoidableBytes", "disabled"],
        ];
        var failing = new List<string>();
        foreach (var flags in settings)
        {
            var scan = Run("off", ["scan", layout, "--ci", "--format", "tsv", "-q", .. flags]);
            Assert.True(scan.ExitCode is 0 or 1, scan.Stderr);
            var verdicts = scan.StdoutLines.Skip(1).ToDictionary(l => l.Split('\t')[0][(layout.Length + 1)..], l => l.Split('\t')[^1]);
            Assert.Equal(images.Length, verdicts.Count);
            foreach (var (tag, _) in images)
            {
                var single = Run("off", ["--ci", layout, "--image", tag, .. flags]);
                Assert.True(single.ExitCode is 0 or 1, single.Stderr);
                Assert.Equal(single.ExitCode == 0 ? "pass" : "FAIL", verdicts[tag]);
            }
            Assert.Equal(verdicts.Values.Any(v => v == "FAIL") ? 1 : 0, scan.ExitCode);
            failing.Add(string.Join(",", verdicts.Where(v => v.Value == "FAIL").Select(v => v.Key).Order(StringComparer.Ordinal)));
        }
        // what each setting fails, worked out from the images: the key by default, the apt cache past 100 KB
        Assert.Equal(["secret", "", "apt,secret", "apt,secret", ""], failing);
    }
}

/// <summary>A plain pass-through proxy in front of a registry that notes every blob GET it passes.</summary>
public sealed class CountingProxy(int upstreamPort) : LoopbackProxy(upstreamPort)
{
    private ConcurrentQueue<string> _blobs = new();

    /// <summary>The digests of the blobs fetched, one per GET.</summary>
    public List<string> BlobGets() => [.. _blobs.Select(p => p[(p.LastIndexOf('/') + 1)..])];

    public void Reset() => _blobs = new();

    protected override async Task Serve(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = await ReadHead(stream);
            if (head is null) return;
            var parts = head.Split(' ', 3);
            if (parts[0] == "GET" && parts[1].Contains("/blobs/", StringComparison.Ordinal)) _blobs.Enqueue(parts[1]);
            using var up = await Forward(head);
            var upstream = up.GetStream();
            await upstream.CopyToAsync(stream);
        }
    }
}

/// <summary><c>scan containers-storage:[DRIVER@ROOT+RUNROOT]</c>: every image of a store, each with the figures <c>--ci --json</c> gives it alone.</summary>
[Collection("stores")]
public sealed class StoreScanTests(StoreFixture stores) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(ContainersStorageTests.Drivers), MemberType = typeof(ContainersStorageTests))]
    public void A_store_scan_gives_each_image_its_CI_figures(string driver)
    {
        if (stores.SkipReason is { } why) Assert.Skip(why);
        var spec = stores.Reference(driver, "");
        var json = Path.Combine(_dir.Path, "scan.json");
        var env = new Dictionary<string, string> { ["LAYERDIVE_CACHE"] = Path.Combine(_dir.Path, "cache") };
        var scan = Tool.RunWith(env, null, "scan", spec, "--format", "json", "-o", json);
        Assert.True(scan.ExitCode == 0, scan.Stderr);
        var images = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("images").EnumerateArray().ToList();
        // every name the store's own record gives its images (an image may have several)
        using var record = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(stores.StoreRoot(driver), driver + "-images", "images.json")));
        var names = record.RootElement.EnumerateArray().SelectMany(i => i.TryGetProperty("names", out var n) ? n.EnumerateArray().Select(x => x.GetString()!) : []).Order(StringComparer.Ordinal);
        Assert.Equal(names, images.Select(i => i.GetProperty("name").GetString()));
        Assert.True(images.Count >= stores.Images.Count);
        foreach (var image in images)
        {
            var name = image.GetProperty("name").GetString()!;
            var single = Path.Combine(_dir.Path, "single.json");
            var ci = Tool.Run("--ci", stores.Reference(driver, name), "--json", single);
            Assert.True(ci.ExitCode is 0 or 1, ci.Stderr);
            ScanFigures.SameAsCi(image, single);
        }
    }
}

/// <summary><c>scan docker://</c>: every tagged image of a dockerd the tests start, each with the figures <c>--ci --json docker://NAME</c> gives it.</summary>
[Collection("docker")]
public sealed class EngineScanTests(DockerService docker) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_engine_scan_gives_each_image_its_CI_figures()
    {
        if (docker.SkipReason is { } why) Assert.Skip(why);
        for (int v = 0; v < 2; v++)
        {
            var archive = Path.Combine(_dir.Path, $"engine{v}.tar");
            var b = new ImageBuilder();
            b.Layer("base", l => l.Dir("etc").File("etc/os-release", "ID=scan\n").File("etc/big", new byte[20_000]));
            b.Layer($"app {v}", l => l.File("etc/big", new byte[20_000 + v]).File("app", $"{v}\n"));
            b.WriteDockerArchive(archive, $"scan-engine-{Guid.NewGuid().ToString("N")[..6]}:v{v}");
            docker.Ensure(archive);
        }
        var env = EngineEnv.With(("DOCKER_HOST", docker.Address), ("CONTAINER_HOST", "unix:///nonexistent/podman.sock"), ("LAYERDIVE_CACHE", Path.Combine(_dir.Path, "cache")));
        var json = Path.Combine(_dir.Path, "scan.json");
        var scan = Tool.RunWith(env, null, "scan", "docker://", "--format", "json", "-o", json);
        Assert.True(scan.ExitCode == 0, scan.Stderr);
        var images = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("images").EnumerateArray().ToList();
        var (code, listed) = docker.Docker("images", "--format", "{{.Repository}}:{{.Tag}}");
        Assert.Equal(0, code);
        var expected = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(n => !n.Contains("<none>")).Select(n => "docker://" + n).Order(StringComparer.Ordinal);
        Assert.Equal(expected, images.Select(i => i.GetProperty("name").GetString()));
        foreach (var image in images)
        {
            var single = Path.Combine(_dir.Path, "single.json");
            var ci = Tool.RunWith(EngineEnv.With(("DOCKER_HOST", docker.Address), ("LAYERDIVE_CACHE", "off")), null, "--ci", image.GetProperty("name").GetString()!, "--json", single);
            Assert.True(ci.ExitCode is 0 or 1, ci.Stderr);
            ScanFigures.SameAsCi(image, single);
        }
    }
}

/// <summary>What every scan test checks of an image: its figures are the ones <c>--ci --json</c> gave for it alone.</summary>
internal static class ScanFigures
{
    /// <summary>Asserts the scanned image's figures equal the export at <paramref name="ciJson"/>; the export's root.</summary>
    public static JsonElement SameAsCi(JsonElement image, string ciJson)
    {
        var d = JsonDocument.Parse(File.ReadAllText(ciJson)).RootElement;
        Assert.Equal(d.GetProperty("image").GetProperty("sizeBytes").GetInt64(), image.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(d.GetProperty("image").GetProperty("inefficientBytes").GetInt64(), image.GetProperty("wastedBytes").GetInt64());
        Assert.Equal(d.GetProperty("image").GetProperty("efficiencyScore").GetDouble(), image.GetProperty("efficiency").GetDouble());
        Assert.Equal(d.GetProperty("layerdive").GetProperty("overlay").GetProperty("removableBytes").GetInt64(), image.GetProperty("removableBytes").GetInt64());
        return d;
    }
}
