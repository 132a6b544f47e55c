using System.Diagnostics;
using System.Net.Sockets;

namespace LayerDive.Tests.Support;

/// <summary>
/// A real engine started for the tests under a temporary root (never the machine's own): dockerd with
/// the vfs driver and no networking, or Podman's API service. Images are loaded with the engine's own
/// command. When the engine cannot start here, <see cref="SkipReason"/> says why and tests skip.
/// </summary>
public abstract class EngineService : IDisposable
{
    private Process? _process;

    protected EngineService(string name)
    {
        Root = Path.Combine(Path.GetTempPath(), $"layerdive-{name}-" + Guid.NewGuid().ToString("N")[..8]);
        Socket = Path.Combine(Root, "sock");
    }

    public string Root { get; }
    public string Socket { get; }
    public string Address => "unix://" + Socket;
    public string? SkipReason { get; protected set; }

    /// <summary>The images loaded: archive -> the name the engine gave it.</summary>
    private readonly Dictionary<string, string> _loaded = [];

    /// <summary>Loads an archive once (with the engine's own command); the name it was loaded as.</summary>
    public string Ensure(string archive)
    {
        lock (_loaded)
        {
            if (!_loaded.TryGetValue(archive, out var name)) _loaded[archive] = name = Load(archive);
            return name;
        }
    }

    protected void Start(string program, IEnumerable<string> args)
    {
        if (Environment.UserName != "root") { SkipReason = $"{program} needs root here"; return; }
        if (!Scripts.OnPath(program)) { SkipReason = $"{program} is not installed (apt-get install {PackageOf(program)})"; return; }
        Directory.CreateDirectory(Root);
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var log = File.CreateText(Path.Combine(Root, "service.log"));
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until && !_process.HasExited)
        {
            if (Answers()) return;
            Thread.Sleep(200);
        }
        SkipReason = $"{program} did not start: " + (_process.HasExited ? $"exit {_process.ExitCode}" : "no answer in 60 s") + $" (log: {Path.Combine(Root, "service.log")})";
    }

    private static string PackageOf(string program) => program == "dockerd" ? "docker.io" : program;

    /// <summary>True when the socket takes a connection.</summary>
    public bool Answers()
    {
        if (!File.Exists(Socket)) return false;
        try
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(new UnixDomainSocketEndPoint(Socket));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Loads an archive with the engine's command; returns the name it loaded.</summary>
    protected abstract string Load(string archive);

    protected static (int Code, string Output) Command(string program, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.Exec(program, env, args);
        return (code, stdout + stderr);
    }

    /// <summary>Stops the service by its PID and waits for it, then removes its root.</summary>
    public virtual void Dispose()
    {
        if (_process is { HasExited: false })
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
            if (!_process.WaitForExit(30_000)) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process?.Dispose();
        Cleanup();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }

    protected virtual void Cleanup() { }
}

/// <summary>
/// dockerd (Debian's docker.io) under a temporary root, as ../shared/notes/image-services.md starts it:
/// on a unix socket, and on tcp://127.0.0.1 with TLS and client certificates (a CA, a server and a
/// client certificate made here, in <see cref="CertPath"/> as the docker CLI names them).
/// </summary>
public class DockerService : EngineService
{
    public DockerService() : this("vfs")
    {
    }

    /// <summary>dockerd with the storage driver named (vfs; overlay2 where the kernel allows it, as it does on these machines).</summary>
    protected DockerService(string driver) : base("dockerd-" + driver)
    {
        Driver = driver;
        CertPath = Path.Combine(Root, "certs");
        TlsPort = FreePort();
        var server = Directory.CreateDirectory(Path.Combine(Root, "server-certs")).FullName;
        Certificates.Write(CertPath, server);
        Start("dockerd", ["--data-root", Path.Combine(Root, "data"), "--exec-root", Path.Combine(Root, "exec"), "--pidfile", Path.Combine(Root, "pid"),
            "--host", "unix://" + Path.Combine(Root, "sock"), "--host", $"tcp://127.0.0.1:{TlsPort}",
            "--tlsverify", "--tlscacert", Path.Combine(server, "ca.pem"), "--tlscert", Path.Combine(server, "cert.pem"), "--tlskey", Path.Combine(server, "key.pem"),
            "--storage-driver", driver, "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none"]);
        if (SkipReason is null && !Scripts.OnPath("docker")) SkipReason = "the docker command is not installed (apt-get install docker.io)";
    }

    public string Driver { get; }

    /// <summary>Runs the docker command against this daemon; its exit code and output.</summary>
    public (int Code, string Output) Docker(params string[] args) => Command("docker", new Dictionary<string, string> { ["DOCKER_HOST"] = Address }, args);

    /// <summary>ca.pem, cert.pem and key.pem of a client the daemon trusts (DOCKER_CERT_PATH).</summary>
    public string CertPath { get; }

    public int TlsPort { get; }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    protected override string Load(string archive)
    {
        var (code, output) = Command("docker", new Dictionary<string, string> { ["DOCKER_HOST"] = Address }, "load", "-i", archive);
        Assert.True(code == 0, $"docker load {archive}: {output}");
        return output.Split('\n').Select(l => l.Trim()).Last(l => l.StartsWith("Loaded image", StringComparison.Ordinal)).Split(": ", 2)[1];
    }
}

/// <summary>dockerd with the overlay2 driver: containers have a real upper directory.</summary>
public sealed class Overlay2DockerService() : DockerService("overlay2");

/// <summary>Podman's Docker-compatible API service (podman system service) under a temporary root, vfs driver.</summary>
public sealed class PodmanService : EngineService
{
    public PodmanService() : base("podman")
    {
        StorageConf = Path.Combine(Root, "storage.conf");
        Directory.CreateDirectory(Root);
        File.WriteAllText(StorageConf, $"[storage]\ndriver = \"vfs\"\nrunroot = \"{Path.Combine(Root, "run")}\"\ngraphroot = \"{Path.Combine(Root, "root")}\"\n");
        Start("podman", [.. StoreArgs, "system", "service", "--time=0", "unix://" + Path.Combine(Root, "sock")]);
    }

    /// <summary>A storage.conf naming this root: the podman command (not the service) reads it through CONTAINERS_STORAGE_CONF.</summary>
    public string StorageConf { get; }

    private string[] StoreArgs => ["--root", Path.Combine(Root, "root"), "--runroot", Path.Combine(Root, "run"), "--storage-driver", "vfs"];

    protected override string Load(string archive)
    {
        var (code, output) = Command("podman", new Dictionary<string, string>(), [.. StoreArgs, "load", "-i", archive]);
        Assert.True(code == 0, $"podman load {archive}: {output}");
        return output.Split('\n').Select(l => l.Trim()).Last(l => l.StartsWith("Loaded image", StringComparison.Ordinal)).Split(": ", 2)[1];
    }
}

/// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, written as PEM files.</summary>
public static class Certificates
{
    public static void Write(string clientDir, string serverDir)
    {
        using System.Security.Cryptography.RSA caKey = System.Security.Cryptography.RSA.Create(2048);
        var caRequest = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=layerdive test CA", caKey,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(
            System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign | System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        Issue(ca, "CN=127.0.0.1", server: true, serverDir);
        Issue(ca, "CN=client", server: false, clientDir);
    }

    private static void Issue(System.Security.Cryptography.X509Certificates.X509Certificate2 ca, string subject, bool server, string dir)
    {
        Directory.CreateDirectory(dir);
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(subject, key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension(
            [new System.Security.Cryptography.Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = System.Security.Cryptography.RandomNumberGenerator.GetBytes(12);
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "cert.pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }
}
