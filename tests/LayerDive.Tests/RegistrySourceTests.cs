using System.Diagnostics;
using System.Text.Json;
using LayerDive.Core.Sources;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

[CollectionDefinition("registry")]
public sealed class RegistryCollection : ICollectionFixture<RegistryServices>;

/// <summary>
/// Real registries (docker-registry) on loopback, images pushed with skopeo (which gzips their
/// layers: new digests, the same diff ids). The cut copy is the image behind a proxy that cuts every
/// answer for layer 3's blob.
/// </summary>
[Collection("registry")]
[ContractFor("registry")]
public sealed class RegistrySourceTests(RegistryServices registries) : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<FaultyProxy> _proxies = [];

    protected override void SkipUnlessReady()
    {
        if (registries.SkipReason is { } why) Assert.Skip(why);
    }

    /// <summary>No engine, no credentials: only what a test adds.</summary>
    private static Dictionary<string, string> Env(params (string, string)[] more) =>
        EngineEnv.With([("DOCKER_HOST", "unix:///nonexistent/docker.sock"), ("CONTAINER_HOST", "unix:///nonexistent/podman.sock"), ("LAYERDIVE_REGISTRY_TIMEOUT", "2"), .. more]);

    /// <summary>Pushes a docker-archive under contract/ and the name its manifest.json tags it with (a host left out).</summary>
    private string Pushed(string archive, int? port = null)
    {
        using var tar = new System.Formats.Tar.TarReader(File.OpenRead(archive));
        string? tag = null;
        for (var e = tar.GetNextEntry(); e is not null && tag is null; e = tar.GetNextEntry())
            if (e.Name == "manifest.json" && e.DataStream is not null)
                tag = JsonDocument.Parse(e.DataStream).RootElement[0].GetProperty("RepoTags")[0].GetString();
        var parts = tag!.Split('/');
        var name = parts.Length > 1 && (parts[0].Contains('.') || parts[0].Contains(':') || parts[0] == "localhost") ? string.Join('/', parts[1..]) : tag;
        return registries.Push(port ?? registries.Anonymous, "docker-archive:" + archive, "contract/" + name);
    }

    protected override (string, SourceOptions) Image(string archive) =>
        ($"registry://127.0.0.1:{registries.Anonymous}/{Pushed(archive)}", EngineEnv.Options(Env()));

    protected override (string, SourceOptions) CutImage()
    {
        var repository = Pushed(Archive);
        using var manifest = registries.Manifest(registries.Anonymous, repository.Split(':')[0], "latest");
        var blob = manifest.RootElement.GetProperty("layers")[3].GetProperty("digest").GetString()!;
        var proxy = Proxy(FaultyProxy.Fault.CutOneBlobAlways, blob: blob);
        return ($"registry://127.0.0.1:{proxy.Port}/{repository}", EngineEnv.Options(Env()));
    }

    /// <summary>The layout pushed whole (skopeo --all: the index, its nested index, both images).</summary>
    protected override (string, SourceOptions)? MultiPlatformImage(string layout)
    {
        var repository = registries.Push(registries.Anonymous, $"oci:{layout}:latest", "contract/multi-platform:latest", "--all");
        return ($"registry://127.0.0.1:{registries.Anonymous}/{repository}", EngineEnv.Options(Env()));
    }

    /// <summary>The proxy cuts the blob on every try: a transfer that keeps breaking off, not a damaged image.</summary>
    protected override LayerDive.Core.FaultKind CutKind => LayerDive.Core.FaultKind.Unreachable;

    private FaultyProxy Proxy(FaultyProxy.Fault fault, int? port = null, string? blob = null)
    {
        var proxy = new FaultyProxy(port ?? registries.Anonymous, fault, blob: blob);
        _proxies.Add(proxy);
        return proxy;
    }

    private static string ArchiveListing => Tool.Run("ls", Archive, "--format", "tsv").Stdout;

    [Fact]
    public void A_bare_name_with_a_registry_host_no_engine_has_reads_from_the_registry()
    {
        SkipUnlessReady();
        var name = $"127.0.0.1:{registries.Anonymous}/{Pushed(Archive)}";
        var r = Tool.RunWith(Env(), null, "ls", name, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);
        Assert.Contains($"layerdive: note: {name}: read from the registry 127.0.0.1:{registries.Anonymous}", r.Stderr);
    }

    [Fact]
    public void CI_figures_equal_the_archive_ones()
    {
        SkipUnlessReady();
        var a = Tool.RunWith(Env(), _dir.Path, Archive, "--ci", "--json", _dir.File("a.json"));
        var b = Tool.RunWith(Env(), _dir.Path, $"registry://127.0.0.1:{registries.Anonymous}/{Pushed(Archive)}", "--ci", "--json", _dir.File("b.json"));
        Assert.Equal(a.ExitCode, b.ExitCode);
        using var ja = JsonDocument.Parse(File.ReadAllBytes(_dir.File("a.json")));
        using var jb = JsonDocument.Parse(File.ReadAllBytes(_dir.File("b.json")));
        Assert.Equal(ja.RootElement.GetProperty("image").GetRawText(), jb.RootElement.GetProperty("image").GetRawText());
    }

    /// <summary>The two-platform image as an OCI index and as a Docker manifest list: each platform equals umoci's unpack of it.</summary>
    [Theory]
    [InlineData("oci", new string[0])]
    [InlineData("v2s2", new[] { "--format", "v2s2" })]
    public void Platform_picks_each_image_of_an_index_and_of_a_manifest_list(string tag, string[] format)
    {
        var multi = Path.Combine(Paths.GeneratedCorpus, "multi", "multi.oci-archive.tar");
        if (!File.Exists(multi)) Assert.Skip($"generated corpus not present ({multi}); run: bash ../shared/tools/make-corpus.sh");
        SkipUnlessReady();
        var repository = registries.Push(registries.Anonymous, "oci-archive:" + multi, "multi/index:" + tag, ["--all", .. format]);
        var name = $"registry://127.0.0.1:{registries.Anonymous}/{repository}";
        var platforms = Tool.RunWith(Env(), null, "platforms", name);
        Assert.Contains("linux/amd64", platforms.Stdout);
        Assert.Contains("linux/arm64", platforms.Stdout);
        foreach (var arch in new[] { "amd64", "arm64" })
        {
            var r = Tool.RunWith(Env(), null, "ls", name, "--platform", "linux/" + arch, "--format", "tsv");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(File.ReadAllLines(Path.Combine(Paths.GeneratedCorpus, $"multi-{arch}.rootfs.tsv")), r.StdoutLines);
        }
    }

    [Fact]
    public void Basic_auth_from_Docker_s_config_and_a_credential_helper()
    {
        SkipUnlessReady();
        var repository = Pushed(Archive, registries.Basic);
        var name = $"registry://127.0.0.1:{registries.Basic}/{repository}";
        var host = $"127.0.0.1:{registries.Basic}";
        var config = Directory.CreateDirectory(_dir.File("docker")).FullName;
        File.WriteAllText(Path.Combine(config, "config.json"),
            $"{{\"auths\":{{\"{host}\":{{\"auth\":\"{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryServices.User}:{RegistryServices.Password}"))}\"}}}}}}");
        var r = Tool.RunWith(Env(("DOCKER_CONFIG", config)), null, "ls", name, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);

        // the same through docker-credential-test, a helper on PATH that config.json names
        var bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        var helper = Path.Combine(bin, "docker-credential-test");
        File.WriteAllText(helper, $"#!/bin/sh\nread host\n[ \"$host\" = \"{host}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\n" +
            $"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{RegistryServices.User}\",\"Secret\":\"{RegistryServices.Password}\"}}' \"$host\"\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        foreach (var helperConfig in new[] { $"{{\"credHelpers\":{{\"{host}\":\"test\"}}}}", "{\"credsStore\":\"test\"}" })
        {
            File.WriteAllText(Path.Combine(config, "config.json"), helperConfig);
            r = Tool.RunWith(Env(("DOCKER_CONFIG", config), ("PATH", bin + ":" + Environment.GetEnvironmentVariable("PATH"))), null, "ls", name, "--format", "tsv");
            Assert.True(r.ExitCode == 0, helperConfig + ": " + r.Stderr);
            Assert.Equal(ArchiveListing, r.Stdout);
            Assert.DoesNotContain(RegistryServices.Password, r.Stdout + r.Stderr);
        }
    }

    [Fact]
    public void A_wrong_or_missing_password_is_one_line_without_the_secret()
    {
        SkipUnlessReady();
        var name = $"registry://127.0.0.1:{registries.Basic}/{Pushed(Archive, registries.Basic)}";
        var host = $"127.0.0.1:{registries.Basic}";
        var config = Directory.CreateDirectory(_dir.File("wrong")).FullName;
        const string wrong = "not-the-password-42";
        File.WriteAllText(Path.Combine(config, "config.json"),
            $"{{\"auths\":{{\"{host}\":{{\"auth\":\"{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryServices.User}:{wrong}"))}\"}}}}}}");
        var r = Tool.RunWith(Env(("DOCKER_CONFIG", config)), null, "ls", name);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.Contains($"refused contract/", line);
        Assert.Contains($"with credentials from {Path.Combine(config, "config.json")}", line);
        Assert.DoesNotContain(wrong, r.Stdout + r.Stderr);

        r = Tool.RunWith(Env(), null, "ls", name);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("asks for a user name and password, and none is stored for " + host, Assert.Single(r.StderrLines));
    }

    [Fact]
    public void Bearer_tokens_from_the_realm_the_registry_names_cached_per_scope()
    {
        SkipUnlessReady();
        var repository = Pushed(Archive, registries.Bearer);
        var authFile = _dir.File("auth.json");
        File.WriteAllText(authFile, $"{{\"auths\":{{\"127.0.0.1:{registries.Bearer}\":{{\"auth\":\"{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryServices.User}:{RegistryServices.Password}"))}\"}}}}}}");
        int before = registries.Tokens!.Issued;
        var r = Tool.RunWith(Env(("REGISTRY_AUTH_FILE", authFile)), null, "ls", $"registry://127.0.0.1:{registries.Bearer}/{repository}", "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);
        // one pull scope: one token, used for the manifest, the config and every layer
        Assert.Equal(1, registries.Tokens.Issued - before);
        Assert.DoesNotContain(RegistryServices.Password, r.Stdout + r.Stderr);

        // an identity token (Podman's auth.json under XDG_RUNTIME_DIR here) is exchanged with the refresh-token grant
        var run = Directory.CreateDirectory(_dir.File("run/containers")).FullName;
        File.WriteAllText(Path.Combine(run, "auth.json"), $"{{\"auths\":{{\"127.0.0.1:{registries.Bearer}\":{{\"identitytoken\":\"{TokenService.RefreshToken}\"}}}}}}");
        r = Tool.RunWith(Env(("XDG_RUNTIME_DIR", _dir.File("run"))), null, "ls", $"registry://127.0.0.1:{registries.Bearer}/{repository}", "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);
        Assert.DoesNotContain(TokenService.RefreshToken, r.Stdout + r.Stderr);
    }

    /// <summary>HTTPS with the CAs OpenSSL trusts (here the test's CA, through SSL_CERT_FILE, in the built command).</summary>
    [Fact]
    public void A_registry_over_HTTPS_is_read_with_the_trusted_CAs_and_refused_without_them()
    {
        SkipUnlessReady();
        var name = $"registry://127.0.0.1:{registries.Tls}/{Pushed(Archive, registries.Tls)}";
        var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
        var trusted = Scripts.Exec("dotnet", new Dictionary<string, string> { ["SSL_CERT_FILE"] = registries.CaFile }, dll, "ls", name, "--format", "tsv");
        Assert.True(trusted.ExitCode == 0, trusted.Stderr);
        Assert.Equal(ArchiveListing, trusted.Stdout);
        var untrusted = Scripts.Exec("dotnet", new Dictionary<string, string> { ["SSL_CERT_FILE"] = "/nonexistent/ca.pem", ["SSL_CERT_DIR"] = "/nonexistent" }, dll, "ls", name);
        Assert.Equal(2, untrusted.ExitCode);
        var line = Assert.Single(untrusted.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"layerdive: error: {name}: the registry 127.0.0.1:{registries.Tls} cannot be reached at https://127.0.0.1:{registries.Tls}: ", line);
    }

    [Fact]
    public void Every_blob_cut_once_mid_body_still_gives_the_identical_tree()
    {
        SkipUnlessReady();
        var repository = Pushed(Archive);
        var proxy = Proxy(FaultyProxy.Fault.CutEachBlobOnce);
        // every blob is downloaded (and cut), so with the cache off: another test may have kept these layers
        var r = Tool.RunWith(Env(), null, "ls", "--no-cache", $"registry://127.0.0.1:{proxy.Port}/{repository}", "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);
        Assert.True(proxy.Cuts >= 15, $"{proxy.Cuts} answers were cut"); // the config and 14 layers, each cut once and resumed
    }

    [Fact]
    public void A_registry_answering_503_twice_then_200_works()
    {
        SkipUnlessReady();
        var repository = Pushed(Archive);
        var proxy = Proxy(FaultyProxy.Fault.Unavailable);
        var r = Tool.RunWith(Env(), null, "ls", $"registry://127.0.0.1:{proxy.Port}/{repository}", "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);
        Assert.True(proxy.Refused >= 2);
    }

    [Fact]
    public void Progress_follows_the_download()
    {
        SkipUnlessReady();
        var (model, last) = LoadWithProgress();
        // the blobs' bytes as they came, against the sizes the manifest gives
        long blobs = model.Layers.Sum(l => l.CompressedSize);
        Assert.Equal(blobs, last.BytesRead);
        Assert.Equal(blobs, last.BytesTotal);
        Assert.Equal(model.Layers.Count, last.LayersMerged);
    }

    [Fact]
    public void Blobs_redirected_to_another_host_are_followed()
    {
        SkipUnlessReady();
        var proxy = Proxy(FaultyProxy.Fault.RedirectBlobs);
        var r = Tool.RunWith(Env(), null, "ls", $"registry://127.0.0.1:{proxy.Port}/{Pushed(Archive)}", "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ArchiveListing, r.Stdout);
    }

    [Theory]
    [InlineData(FaultyProxy.Fault.HtmlManifest, "answered a text/html page where the manifest latest should be")]
    [InlineData(FaultyProxy.Fault.WrongDigestHeader, "manifest digest mismatch: the registry says sha256:0000000000000000000000000000000000000000000000000000000000000000, the bytes are sha256:")]
    public void A_bad_manifest_answer_is_an_error_never_a_wrong_tree(FaultyProxy.Fault fault, string expected)
    {
        SkipUnlessReady();
        var proxy = Proxy(fault);
        var r = Tool.RunWith(Env(), null, "ls", $"registry://127.0.0.1:{proxy.Port}/{Pushed(Archive)}");
        Assert.Equal(2, r.ExitCode);
        Assert.Empty(r.Stdout);
        Assert.Contains(expected, Assert.Single(r.StderrLines));
    }

    [Fact]
    public void A_registry_that_never_answers_fails_in_bounded_time_with_one_line()
    {
        SkipUnlessReady();
        var proxy = Proxy(FaultyProxy.Fault.Silent);
        var clock = Stopwatch.StartNew();
        var r = Tool.RunWith(Env(), null, "ls", $"registry://127.0.0.1:{proxy.Port}/contract/x:1");
        Assert.Equal(2, r.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        Assert.Equal($"layerdive: error: registry://127.0.0.1:{proxy.Port}/contract/x:1: the registry 127.0.0.1:{proxy.Port} cannot be reached at https://127.0.0.1:{proxy.Port}: no answer within 2 s", Assert.Single(r.StderrLines));
    }

    public void Dispose()
    {
        foreach (var p in _proxies) p.Dispose();
        _dir.Dispose();
    }
}
