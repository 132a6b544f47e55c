using LayerDive.Core;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Engines;

/// <summary>The two engines LayerDive reads images from.</summary>
internal enum Engine { Docker, Podman }

/// <summary>TLS material for a tcp:// engine: a CA to trust and a client certificate.</summary>
internal sealed record EngineTls(string? CaFile, string? CertFile, string? KeyFile, bool Verify);

/// <summary>Where an engine listens, and what chose that address (so a message can say what would change it).</summary>
internal sealed record EngineHost(Engine Engine, string Address, string ChosenBy, EngineTls? Tls = null)
{
    /// <summary>How long one wait on the engine may take (LAYERDIVE_ENGINE_TIMEOUT, 60 s by default): a JSON answer whole, or one read of a stream.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public string EngineName => Engine == Engine.Docker ? Strings.Engine_DockerName : "Podman";

    /// <summary>The socket's path for a unix:// address, else null.</summary>
    public string? SocketPath => Address.StartsWith("unix://", StringComparison.Ordinal) ? Address["unix://".Length..] : null;

    public override string ToString() => Text.Fill(Strings.Engine_HostAt, EngineName, Address, ChosenBy);
}

/// <summary>Finds the engines' addresses as their own command-line tools do.</summary>
internal static class EngineHosts
{
    public const string DefaultDockerSocket = "unix:///var/run/docker.sock";

    /// <summary>
    /// Docker's host: <c>DOCKER_HOST</c>, then <c>DOCKER_CONTEXT</c>, then <c>currentContext</c> of
    /// <c>config.json</c> (in <c>DOCKER_CONFIG</c> or <c>~/.docker</c>) and its context store, then the default socket.
    /// </summary>
    public static EngineHost Docker(SourceOptions o) => DockerHost(o) with { Timeout = Timeout(o) };

    private static EngineHost DockerHost(SourceOptions o)
    {
        if (o.Env("DOCKER_HOST") is { Length: > 0 } host)
            return new EngineHost(Engine.Docker, host, Text.Fill(Strings.Engine_FromVariable, "DOCKER_HOST"), EnvTls(o, host));
        string configDir = o.Env("DOCKER_CONFIG") is { Length: > 0 } dc ? dc : Path.Combine(Home(o), ".docker");
        if (o.Env("DOCKER_CONTEXT") is { Length: > 0 } context)
            return FromContext(context, configDir, "DOCKER_CONTEXT");
        var configFile = Path.Combine(configDir, "config.json");
        if (File.Exists(configFile))
        {
            string? current = null;
            try
            {
                using var doc = JsonDocument.Parse(SettingsFile.Read(configFile));
                current = doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.String("currentContext") : null;
            }
            catch (JsonException ex)
            {
                // the file that holds the registry credentials: where it breaks, never what is there
                throw Registry.CredentialStore.NotJson(configFile, ex);
            }
            if (current is { Length: > 0 }) return FromContext(current, configDir, Text.Fill(Strings.Engine_FromCurrentContext, configFile));
        }
        return new EngineHost(Engine.Docker, DefaultDockerSocket, Strings.Engine_DefaultSocket);
    }

    /// <summary>Podman's sockets, in the order tried: <c>CONTAINER_HOST</c>, the user's, the system's.</summary>
    public static IReadOnlyList<EngineHost> Podman(SourceOptions o) => PodmanHosts(o).Select(h => h with { Timeout = Timeout(o) }).ToList();

    /// <summary>LAYERDIVE_ENGINE_TIMEOUT, in seconds; 60 by default (an engine under load may pause between the parts of an export).</summary>
    private static TimeSpan Timeout(SourceOptions o) =>
        o.Env(EngineClient.TimeoutVariable) is { } t && double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : TimeSpan.FromSeconds(60);

    private static IReadOnlyList<EngineHost> PodmanHosts(SourceOptions o)
    {
        if (o.Env("CONTAINER_HOST") is { Length: > 0 } host)
            return [new EngineHost(Engine.Podman, host, Text.Fill(Strings.Engine_FromVariable, "CONTAINER_HOST"))];
        var list = new List<EngineHost>();
        if (o.Env("XDG_RUNTIME_DIR") is { Length: > 0 } run)
            list.Add(new EngineHost(Engine.Podman, "unix://" + Path.Combine(run, "podman", "podman.sock"), Strings.Engine_UserSocket));
            list.Add(new EngineHost(Engine.Podman, "unix:///run/podman/podman.sock", Strings.Engine_SystemSocket));
        return list;
    }

    private static EngineHost FromContext(string name, string configDir, string chosenBy)
    {
        if (name == "default") return new EngineHost(Engine.Docker, DefaultDockerSocket, Text.Fill(Strings.Engine_FromContext, "default", chosenBy));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        var meta = Path.Combine(configDir, "contexts", "meta", hash, "meta.json");
        if (!File.Exists(meta))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Engine_ContextMissing, name, chosenBy, Path.Combine(configDir, "contexts")));
        try
        {
            using var doc = JsonDocument.Parse(SettingsFile.Read(meta));
            var endpoint = doc.RootElement.Get("Endpoints")?.Get("docker");
            var host = endpoint?.String("Host") is { Length: > 0 } h ? h : throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Engine_ContextNoHost, name, meta));
            var tlsDir = Path.Combine(configDir, "contexts", "tls", hash, "docker");
            EngineTls? tls = Directory.Exists(tlsDir)
                ? new EngineTls(Existing(tlsDir, "ca.pem"), Existing(tlsDir, "cert.pem"), Existing(tlsDir, "key.pem"), endpoint?.Bool("SkipTLSVerify") != true)
                : null;
            return new EngineHost(Engine.Docker, host, Text.Fill(Strings.Engine_FromContext, name, chosenBy), tls);
        }
        catch (JsonException ex)
        {
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Json_Invalid, meta, ex.Message.Split('.')[0]));
        }
    }

    /// <summary>DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for a tcp:// DOCKER_HOST.</summary>
    private static EngineTls? EnvTls(SourceOptions o, string host)
    {
        if (!host.StartsWith("tcp://", StringComparison.Ordinal)) return null;
        bool verify = o.Env("DOCKER_TLS_VERIFY") is { Length: > 0 };
        bool tls = verify || o.Env("DOCKER_TLS") is { Length: > 0 };
        if (!tls) return null;
        string dir = o.Env("DOCKER_CERT_PATH") is { Length: > 0 } p ? p : Path.Combine(Home(o), ".docker");
        return new EngineTls(Existing(dir, "ca.pem"), Existing(dir, "cert.pem"), Existing(dir, "key.pem"), verify);
    }

    private static string? Existing(string dir, string file) => File.Exists(Path.Combine(dir, file)) ? Path.Combine(dir, file) : null;

    private static string Home(SourceOptions o) =>
        o.Env("HOME") is { Length: > 0 } home ? home : System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
}
