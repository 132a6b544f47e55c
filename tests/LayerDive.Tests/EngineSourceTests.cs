using System.Text.Json;
using LayerDive.Core.Sources;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

[CollectionDefinition("docker")]
public sealed class DockerCollection : ICollectionFixture<DockerService>;

[CollectionDefinition("podman")]
public sealed class PodmanCollection : ICollectionFixture<PodmanService>;

/// <summary>Environments that name exactly one engine (and nothing of the machine's own).</summary>
internal static class EngineEnv
{
    public static Dictionary<string, string> With(params (string Key, string Value)[] pairs)
    {
        var env = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin", ["HOME"] = "/nonexistent-home" };
        foreach (var (k, v) in pairs) env[k] = v;
        return env;
    }

    public static SourceOptions Options(Dictionary<string, string> env) => new() { Environment = n => env.GetValueOrDefault(n) };

    /// <summary>The engine's export of an image (<c>GET /images/NAME/get</c> on its socket), the bytes a source reads.</summary>
    public static byte[] Export(EngineService engine, string name)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(engine.Socket), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        });
        return http.GetByteArrayAsync($"http://engine/images/{Uri.EscapeDataString(name)}/get", TestContext.Current.CancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>
    /// A proxy in front of the engine that cuts each connection in the middle of layer 0's bytes in the
    /// image's export (worked out from the export itself): the bulk of the export, so the HTTP framing
    /// and the few kB of inspect answers before it on the connection cannot move the cut out of it.
    /// </summary>
    public static CuttingProxy CutInLayerZero(EngineService engine, string image, string socket) =>
        new(engine.Socket, socket, SourceContract.MiddleOfLayer(Export(engine, image), 0));
}

/// <summary>
/// An engine's API (a real service started for the tests): the image loaded with the engine's own
/// command, read through its export; the cut copy is the export cut in the middle of layer 0 by a proxy
/// in front of it.
/// </summary>
public abstract class EngineContract(EngineService engine, string scheme, string variable) : SourceContract, IDisposable
{
    protected readonly TempDir Dir = new();
    private CuttingProxy? _proxy;

    protected override void SkipUnlessReady()
    {
        if (engine.SkipReason is { } why) Assert.Skip(why);
        engine.Ensure(Archive);
    }

    protected Dictionary<string, string> Env => EngineEnv.With((variable, engine.Address));

    protected override (string, SourceOptions) Image(string archive) => ($"{scheme}://" + engine.Ensure(archive), EngineEnv.Options(Env));

    protected override (string, SourceOptions) CutImage()
    {
        _proxy = EngineEnv.CutInLayerZero(engine, Expected().Tag, Dir.File("proxy.sock"));
        return ($"{scheme}://" + Expected().Tag, EngineEnv.Options(EngineEnv.With((variable, _proxy.Address))));
    }

    /// <summary>
    /// Layer 0: a cut export names the layer it broke off in only where what passed says which it is. Docker's
    /// legacy export names a layer member by a v1 id, known only from the chain of &lt;id&gt;/json parents
    /// before it: the bottom layer's json has no parent. Podman's names it by its diff id, which the inspect gave.
    /// </summary>
    protected override int CutLayer => 0;

    /// <summary>Overridden: an engine's classic store holds one platform per image (the name is the image, no index).</summary>
    [Fact]
    public override void The_platform_asked_for_is_chosen() => Another_platform_is_not_found();

    public void Dispose()
    {
        _proxy?.Dispose();
        Dir.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The Docker Engine (a real dockerd).</summary>
[Collection("docker")]
[ContractFor("docker")]
public sealed class DockerSourceTests(DockerService docker) : EngineContract(docker, "docker", "DOCKER_HOST")
{
    [Fact]
    public void A_bare_name_reads_from_docker_and_says_so()
    {
        SkipUnlessReady();
        var fromEngine = Tool.RunWith(Env, null, "ls", Expected().Tag, "--format", "tsv");
        var fromArchive = Tool.Run("ls", Archive, "--format", "tsv");
        Assert.Equal(0, fromEngine.ExitCode);
        Assert.Equal(fromArchive.Stdout, fromEngine.Stdout);
        Assert.Contains($"note: {Expected().Tag}: read from the Docker Engine at {docker.Address} (from DOCKER_HOST)", fromEngine.Stderr);
    }

    [Fact]
    public void CI_figures_history_and_explain_equal_the_archive_ones()
    {
        SkipUnlessReady();
        var name = "docker://" + Expected().Tag;
        var a = Tool.RunWith(Env, Dir.Path, Archive, "--ci", "--json", Dir.File("a.json"));
        var b = Tool.RunWith(Env, Dir.Path, name, "--ci", "--json", Dir.File("b.json"));
        Assert.Equal(a.ExitCode, b.ExitCode);
        using var ja = JsonDocument.Parse(File.ReadAllBytes(Dir.File("a.json")));
        using var jb = JsonDocument.Parse(File.ReadAllBytes(Dir.File("b.json")));
        Assert.Equal(ja.RootElement.GetProperty("image").GetRawText(), jb.RootElement.GetProperty("image").GetRawText());
        Assert.Equal(Tool.Run("history", Archive).Stdout, Tool.RunWith(Env, null, "history", name).Stdout);
        Assert.Equal(Tool.Run("explain", Archive, "/root/saved.txt").Stdout, Tool.RunWith(Env, null, "explain", name, "/root/saved.txt").Stdout);
    }

    [Fact]
    public void Progress_follows_the_export_stream()
    {
        SkipUnlessReady();
        var (model, last) = LoadWithProgress();
        Assert.Equal(model.Layers.Count, last.LayersMerged);
        // the bytes of the export stream (every layer's tar, the configs, manifest.json), not only the merged layers
        Assert.True(last.BytesRead > model.Layers.Sum(l => l.CompressedSize), $"{last.BytesRead} read");
        Assert.True(last.BytesTotal > 0, "the inspect's size is the expected total");
        Assert.Contains("read", LayerDive.Core.Reports.ProgressText.Of(last));
    }

    [Fact]
    public async Task The_explorer_opens_an_engine_name_in_a_terminal()
    {
        SkipUnlessReady();
        if (!Scripts.OnPath("tmux")) Assert.Skip("tmux is not installed (apt-get install tmux); .ci/run installs it");
        var (code, output) = await Scripts.Run("tests/ui/tmux.sh", Scripts.Layerdive, "-", Expected().Tag, "DOCKER_HOST=" + docker.Address);
        Assert.True(code == 0, output);
        Assert.Contains("ok   dive's test image opens", output);
        Assert.Contains("tmux.sh: 0 failed", output);
    }

    [Fact]
    public void Build_builds_with_docker_then_opens_the_image_in_CI_mode()
    {
        SkipUnlessReady();
        // a two-step Containerfile (no Dockerfile: build finds it), built from scratch
        var context = Directory.CreateDirectory(Dir.File("context")).FullName;
        File.WriteAllText(Path.Combine(context, "Containerfile"), "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /data/b.txt\n");
        File.WriteAllText(Path.Combine(context, "a.txt"), "first step\n");
        File.WriteAllText(Path.Combine(context, "b.txt"), "second step, a little longer\n");
        var env = EngineEnv.With(("DOCKER_HOST", docker.Address), ("DOCKER_BUILDKIT", "0"), ("HOME", Dir.Path));
        var r = Tool.RunWith(env, Dir.Path, "build", "-t", "layerdive-built:test", context, "--ci");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("Building image...", r.StdoutLines[0]);
        Assert.Contains("Result:PASS [Total:3] [Passed:2] [Failed:0] [Warn:0] [Skipped:1]", r.StdoutLines);
        Assert.Contains("Successfully tagged layerdive-built:test", r.Stderr); // docker's own output, on stderr
        // the image it built: two layers, each with its file
        var ls = Tool.RunWith(env, null, "ls", "docker://layerdive-built:test", "--format", "tsv");
        Assert.Equal(0, ls.ExitCode);
        Assert.Contains(ls.StdoutLines, l => l.StartsWith("a.txt\tfile\t", StringComparison.Ordinal) && l.Split('\t')[5] == "11");
        Assert.Contains(ls.StdoutLines, l => l.StartsWith("data/b.txt\tfile\t", StringComparison.Ordinal) && l.Split('\t')[5] == "29");
        Assert.Equal("1", Tool.RunWith(env, null, "ls", "docker://layerdive-built:test", "--layer", "0", "--format", "tsv").StdoutLines.Count(l => l.Contains("\tfile\t")).ToString());
    }

    [Fact]
    public void Extraction_reads_the_export_again()
    {
        SkipUnlessReady();
        var r = Tool.RunWith(Env, null, "extract", "docker://" + Expected().Tag, "/root/saved.txt", "--output", Dir.File("out"));
        Assert.Equal(0, r.ExitCode);
        var expected = Tool.Run("extract", Archive, "/root/saved.txt", "--output", Dir.File("ref"));
        Assert.Equal(0, expected.ExitCode);
        Assert.Equal(File.ReadAllBytes(Dir.File("ref/saved.txt")), File.ReadAllBytes(Dir.File("out/saved.txt")));
    }

    [Fact]
    public void Tcp_with_TLS_and_a_client_certificate_as_the_docker_CLI_sets_it()
    {
        SkipUnlessReady();
        var env = EngineEnv.With(("DOCKER_HOST", $"tcp://127.0.0.1:{docker.TlsPort}"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", docker.CertPath));
        var r = Tool.RunWith(env, null, "ls", "docker://" + Expected().Tag, "--format", "tsv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Tool.Run("ls", Archive, "--format", "tsv").Stdout, r.Stdout);
        // without the client certificate the daemon refuses the handshake: one line, exit 2
        var elsewhere = Directory.CreateDirectory(Dir.File("no-client-cert")).FullName;
        File.Copy(Path.Combine(docker.CertPath, "ca.pem"), Path.Combine(elsewhere, "ca.pem"));
        r = Tool.RunWith(EngineEnv.With(("DOCKER_HOST", $"tcp://127.0.0.1:{docker.TlsPort}"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", elsewhere)), null, "ls", "docker://" + Expected().Tag);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"layerdive: error: docker://{Expected().Tag}: the Docker Engine at tcp://127.0.0.1:{docker.TlsPort} cannot be reached (from DOCKER_HOST)", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void A_socket_the_user_may_not_use_is_said_so()
    {
        SkipUnlessReady();
        if (!Scripts.OnPath("setpriv")) Assert.Skip("setpriv (util-linux) is not installed");
        // the daemon's socket is root:docker 0660; nobody may not connect to it
        var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
        var env = new Dictionary<string, string> { ["HOME"] = "/tmp", ["DOCKER_HOST"] = docker.Address, ["DOTNET_CLI_HOME"] = "/tmp" };
        var version = Run("setpriv", env, "--reuid", "65534", "--regid", "65534", "--clear-groups", "dotnet", dll, "--version");
        if (version.Code != 0) Assert.Skip($"the user nobody cannot run the test build here: {version.Output.Trim()}");
        var r = Run("setpriv", env, "--reuid", "65534", "--regid", "65534", "--clear-groups", "dotnet", dll, "ls", "docker://app");
        Assert.Equal(2, r.Code);
        Assert.Equal($"layerdive: error: docker://app: permission denied on {docker.Socket} (from DOCKER_HOST): run as a user who may use the Docker Engine", r.Output.Trim());
    }

    [Fact]
    public void An_image_the_engine_lacks_is_one_line()
    {
        SkipUnlessReady();
        var r = Tool.RunWith(Env, null, "ls", "docker://no-such-image:1");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: docker://no-such-image:1: the Docker Engine at {docker.Address} has no image 'no-such-image:1'", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void Docker_runs_it_as_a_CLI_plugin()
    {
        SkipUnlessReady();
        if (!File.Exists("/usr/bin/docker")) Assert.Skip("Debian's docker CLI (/usr/bin/docker) is not installed");
        var config = Dir.File("docker-config");
        var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
        var env = new Dictionary<string, string> { ["DOCKER_CONFIG"] = config };
        var install = Run("dotnet", env, dll, "install-docker-plugin");
        Assert.True(install.Code == 0, install.Output);
        Assert.Contains("layerdive", Run("/usr/bin/docker", env, "--help").Output);
        // the daemon named by docker's own -H option, the image by a bare name
        var r = Run("/usr/bin/docker", env, "-H", docker.Address, "layerdive", "ls", Expected().Tag, "--format", "tsv");
        Assert.True(r.Code == 0, r.Output);
        Assert.Contains(Tool.Run("ls", Archive, "--format", "tsv").Stdout, r.Output);
    }

    /// <summary>A program run with <paramref name="env"/> and no DOCKER_HOST unless it sets one (docker's -H is the test).</summary>
    private static (int Code, string Output) Run(string program, Dictionary<string, string> env, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.Exec(program, new Dictionary<string, string>(env) { ["DOCKER_HOST"] = env.GetValueOrDefault("DOCKER_HOST", "") }, args);
        return (code, stdout + stderr);
    }

    [Fact]
    public void A_cut_export_is_one_line_and_exit_2()
    {
        SkipUnlessReady();
        var (reference, options) = CutImage();
        var env = EngineEnv.With(("DOCKER_HOST", options.Environment!("DOCKER_HOST")!));
        var r = Tool.RunWith(env, Dir.Path, "ls", reference);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith($"layerdive: error: {reference}: ", line);
        Assert.DoesNotContain("internal error", line);
    }

}

/// <summary>Podman's Docker-compatible API (a real podman system service).</summary>
[Collection("podman")]
[ContractFor("podman")]
public sealed class PodmanSourceTests(PodmanService podman) : EngineContract(podman, "podman", "CONTAINER_HOST")
{
    [Fact]
    public void A_bare_name_docker_lacks_is_read_from_podman()
    {
        SkipUnlessReady();
        var env = EngineEnv.With(("DOCKER_HOST", "unix://" + Dir.File("no-docker.sock")), ("CONTAINER_HOST", podman.Address));
        var r = Tool.RunWith(env, null, "ls", Expected().Tag, "--format", "tsv");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(Tool.Run("ls", Archive, "--format", "tsv").Stdout, r.Stdout);
        Assert.Contains($"read from Podman at {podman.Address}", r.Stderr);
    }
}

/// <summary>Podman without its socket: the podman command's image save, streamed.</summary>
[Collection("podman")]
[ContractFor("podman")]
public sealed class PodmanCommandSourceTests(PodmanService podman) : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();

    protected override void SkipUnlessReady()
    {
        if (podman.SkipReason is { } why) Assert.Skip(why);
        if (File.Exists("/run/podman/podman.sock")) Assert.Skip("this machine runs Podman's system socket, which a bare podman:// name would use first");
        podman.Ensure(Archive);
    }

    private Dictionary<string, string> Env(string? path = null) =>
        EngineEnv.With(("CONTAINERS_STORAGE_CONF", podman.StorageConf), ("PATH", path ?? Environment.GetEnvironmentVariable("PATH")!));

    protected override (string, SourceOptions) Image(string archive) => ("podman://" + podman.Ensure(archive), EngineEnv.Options(Env()));

    /// <summary>
    /// A podman in front of the real one whose image save has layer 3's member cut to its first half, the
    /// archive around it whole (as <see cref="SourceContract.WriteCutArchive"/> cuts the docker-archive; python's
    /// tarfile rewrites the stream). A save cut at a byte count could not name its layer: podman's archive
    /// holds every layer before the config and manifest.json that say which is which.
    /// </summary>
    protected override (string, SourceOptions) CutImage()
    {
        if (!Scripts.OnPath("python3"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "python3 is not installed, though .ci/run installs it");
            Assert.Skip("python3 is not installed");
        }
        var real = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "podman")).First(File.Exists);
        var bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        var filter = _dir.File("cut-layer.py");
        File.WriteAllText(filter, CutFilter);
        File.WriteAllText(Path.Combine(bin, "podman"), $"#!/bin/sh\nif [ \"$2\" = save ]; then {real} \"$@\" | python3 {filter} {Expected().DiffIds[CutLayer]}; else exec {real} \"$@\"; fi\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Path.Combine(bin, "podman"), (UnixFileMode)0b111_101_101);
        return ("podman://" + Expected().Tag, EngineEnv.Options(Env(bin + ":" + Environment.GetEnvironmentVariable("PATH"))));
    }

    /// <summary>Copies a tar stream, keeping the first half of the member whose sha256 is the digest named.</summary>
    private const string CutFilter = """
        import hashlib, io, sys, tarfile
        src = tarfile.open(fileobj=sys.stdin.buffer, mode="r|")
        out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
        for m in src:
            data = src.extractfile(m).read() if m.isreg() else None
            if data is not None and "sha256:" + hashlib.sha256(data).hexdigest() == sys.argv[1]:
                data = data[: len(data) // 2]
                m.size = len(data)
            out.addfile(m, io.BytesIO(data) if data is not None else None)
        out.close()
        """;

    /// <summary>Overridden: podman's image save writes one image of one platform (a docker-archive names none).</summary>
    [Fact]
    public override void The_platform_asked_for_is_chosen() => Another_platform_is_not_found();

    public void Dispose() => _dir.Dispose();
}

/// <summary>What a user sees when no engine can serve a name.</summary>
public sealed class EngineFaultTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void No_engine_running_names_the_sockets_and_the_variables()
    {
        var env = EngineEnv.With(("DOCKER_HOST", "unix://" + _dir.File("docker.sock")), ("CONTAINER_HOST", "unix://" + _dir.File("podman.sock")), ("CONTAINERD_ADDRESS", "unix://" + _dir.File("containerd.sock")));
        // in a network namespace of the test's own: the lookup of Docker Hub and any connection to it stay inside, unanswered
        using var net = NetworkNamespace.Create("trying Docker Hub without reaching it");
        var r = HostileCli.Run(env, TimeSpan.FromSeconds(60), net, "ls", "myapp:dev");
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        // then the registry the name implies (Docker Hub), which cannot be reached from there
        Assert.StartsWith($"layerdive: error: myapp:dev: no such file, and no engine or registry has this image: the Docker Engine is not running: no socket at {_dir.File("docker.sock")} (from DOCKER_HOST); Podman is not running: no socket at {_dir.File("podman.sock")} (from CONTAINER_HOST); containerd is not running: no socket at {_dir.File("containerd.sock")} (set CONTAINERD_ADDRESS or --address); the registry docker.io ", line);
    }

    [Fact]
    public void A_socket_nobody_listens_on_is_said_so()
    {
        var path = _dir.File("dead.sock");
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path)); // bound, never listening: a connection is refused
        var r = Tool.RunWith(EngineEnv.With(("DOCKER_HOST", "unix://" + path)), null, "ls", "docker://myapp:dev");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"layerdive: error: docker://myapp:dev: the Docker Engine is not running: nothing listens at unix://{path} (from DOCKER_HOST)", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void A_missing_file_that_looks_like_a_path_is_no_such_file()
    {
        var r = Tool.RunWith(EngineEnv.With(), null, "ls", _dir.File("image.tar"));
        Assert.Equal(2, r.ExitCode);
        Assert.EndsWith(": no such file or directory", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void Docker_contexts_choose_the_host_as_the_docker_CLI_does()
    {
        var config = Directory.CreateDirectory(_dir.File("docker")).FullName;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("ctx1"u8));
        Directory.CreateDirectory(Path.Combine(config, "contexts", "meta", hash));
        File.WriteAllText(Path.Combine(config, "contexts", "meta", hash, "meta.json"),
            $"{{\"Name\":\"ctx1\",\"Endpoints\":{{\"docker\":{{\"Host\":\"unix://{_dir.File("ctx.sock")}\",\"SkipTLSVerify\":false}}}}}}");
        File.WriteAllText(Path.Combine(config, "config.json"), "{\"currentContext\":\"ctx1\"}");
        // currentContext of config.json, when neither DOCKER_HOST nor DOCKER_CONTEXT is set
        var r = Tool.RunWith(EngineEnv.With(("DOCKER_CONFIG", config)), null, "ls", "docker://app");
        Assert.Contains($"no socket at {_dir.File("ctx.sock")} (context 'ctx1' (currentContext of {Path.Combine(config, "config.json")}))", r.Stderr);
        // DOCKER_CONTEXT wins over config.json, DOCKER_HOST over both
        r = Tool.RunWith(EngineEnv.With(("DOCKER_CONFIG", config), ("DOCKER_CONTEXT", "other")), null, "ls", "docker://app");
        Assert.Contains("the Docker context 'other' (DOCKER_CONTEXT) is not in", r.Stderr);
        r = Tool.RunWith(EngineEnv.With(("DOCKER_CONFIG", config), ("DOCKER_CONTEXT", "ctx1"), ("DOCKER_HOST", "unix://" + _dir.File("h.sock"))), null, "ls", "docker://app");
        Assert.Contains($"no socket at {_dir.File("h.sock")} (from DOCKER_HOST)", r.Stderr);
        r = Tool.RunWith(EngineEnv.With(("HOME", _dir.Path)), null, "ls", "docker://app");
        Assert.Contains("/var/run/docker.sock", r.Stderr);
    }

    public void Dispose() => _dir.Dispose();
}
