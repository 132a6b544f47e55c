using LayerDive.Core;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// A registry credential: a user name and password, or an identity (refresh) token. Its
/// <see cref="ToString"/> names only where it came from: a secret never reaches a message.
/// </summary>
internal sealed class Credential(string? user, string? secret, string? identityToken, string origin)
{
    public string? User { get; } = user;
    public string? Secret { get; } = secret;
    public string? IdentityToken { get; } = identityToken;
    /// <summary>Where it was found (a file, a helper), for messages.</summary>
    public string Origin { get; } = origin;

    public string? BasicHeader => User is null || Secret is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Secret}"));

    public override string ToString() => $"credentials from {Origin}";
}

/// <summary>
/// Finds the credential for a registry host where users already keep them: <c>REGISTRY_AUTH_FILE</c>;
/// Docker's <c>config.json</c> (in <c>DOCKER_CONFIG</c> or <c>~/.docker</c>): <c>credHelpers</c>,
/// <c>credsStore</c> (<c>docker-credential-NAME get</c>), <c>auths</c>; then Podman's
/// <c>$XDG_RUNTIME_DIR/containers/auth.json</c> and <c>$XDG_CONFIG_HOME/containers/auth.json</c>.
/// </summary>
internal static class CredentialStore
{
    public static Credential? Find(string host, SourceOptions o)
    {
        var keys = Keys(host);
        if (o.Env("REGISTRY_AUTH_FILE") is { Length: > 0 } authFile && FromAuthsFile(authFile, keys, "REGISTRY_AUTH_FILE") is { } fromEnv)
            return fromEnv;
        string home = o.Env("HOME") is { Length: > 0 } h ? h : System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        string dockerConfig = Path.Combine(o.Env("DOCKER_CONFIG") is { Length: > 0 } dc ? dc : Path.Combine(home, ".docker"), "config.json");
        if (File.Exists(dockerConfig))
        {
            using var doc = Parse(dockerConfig);
            var root = doc.RootElement;
            if (root.Get("credHelpers") is { ValueKind: JsonValueKind.Object } helpers)
                foreach (var key in keys)
                    if (helpers.String(key) is { Length: > 0 } helper)
                        return FromHelper(helper, key, o);
            if (root.String("credsStore") is { Length: > 0 } store && FromHelper(store, keys[0], o, missingIsNone: true) is { } stored)
                return stored;
            if (FromAuths(root, keys, dockerConfig) is { } fromAuths) return fromAuths;
        }
        if (o.Env("XDG_RUNTIME_DIR") is { Length: > 0 } run && FromAuthsFile(Path.Combine(run, "containers", "auth.json"), keys, null) is { } fromRun)
            return fromRun;
        string configHome = o.Env("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config");
        return FromAuthsFile(Path.Combine(configHome, "containers", "auth.json"), keys, null);
    }

    /// <summary>The keys a host may be stored under (Docker Hub's historical one first for docker.io).</summary>
    private static string[] Keys(string host) => host == RegistryReference.DockerHub
        ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        : [host, "https://" + host, "http://" + host, $"https://{host}/v2/", $"http://{host}/v2/"];

    private static Credential? FromAuthsFile(string path, string[] keys, string? variable)
    {
        if (!File.Exists(path))
            return variable is null ? null : throw new ImageException(Text.Format("Error.NamesWhichDoesNotExist", variable, path));
        using var doc = Parse(path);
        return FromAuths(doc.RootElement, keys, path);
    }

    private static Credential? FromAuths(JsonElement root, string[] keys, string origin)
    {
        if (root.Get("auths") is not { ValueKind: JsonValueKind.Object } auths) return null;
        foreach (var key in keys)
        {
            if (auths.Get(key) is not { ValueKind: JsonValueKind.Object } entry) continue;
            if (entry.String("identitytoken") is { Length: > 0 } identity) return new Credential(null, null, identity, origin);
            if (entry.String("auth") is { Length: > 0 } auth)
            {
                string decoded;
                try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
                catch (FormatException) { throw new ImageException(Text.Format("Error.TheCredentialForInIsNot", key, origin)); }
                int colon = decoded.IndexOf(':');
                if (colon < 0) throw new ImageException(Text.Format("Error.TheCredentialForInIsNot2", key, origin));
                return new Credential(decoded[..colon], decoded[(colon + 1)..], null, origin);
            }
            if (entry.String("username") is { } u && entry.String("password") is { } p) return new Credential(u, p, null, origin);
        }
        return null;
    }

    /// <summary>Runs <c>docker-credential-NAME get</c> with the host on its input, as the Docker CLI does.</summary>
    private static Credential? FromHelper(string helper, string key, SourceOptions o, bool missingIsNone = false)
    {
        string program = "docker-credential-" + helper;
        var path = (o.Env("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists)
            ?? throw new ImageException(Text.Format("Error.TheCredentialHelperNamedInDocker", program));
        var info = new ProcessStartInfo(path, "get") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (o.Environment is not null)
            foreach (var name in new[] { "PATH", "HOME" })
                if (o.Env(name) is { } v) info.Environment[name] = v;
        using var p = Process.Start(info) ?? throw new ImageException(Text.Format("Error.CouldNotBeStarted", program));
        p.StandardInput.Write(key);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true);
            throw new ImageException(Text.Format("Error.GetDidNotAnswerWithinS", program));
        }
        if (p.ExitCode != 0)
        {
            // helpers say "credentials not found in native keychain" for a host they do not know
            if (missingIsNone || errors.Contains("not found", StringComparison.OrdinalIgnoreCase) || output.Result.Contains("not found", StringComparison.OrdinalIgnoreCase))
                return null;
            throw new ImageException(Text.Format("Error.GetFailedExit", program, p.ExitCode));
        }
        try
        {
            using var doc = JsonDocument.Parse(output.Result);
            var user = doc.RootElement.String("Username");
            var secret = doc.RootElement.String("Secret");
            return user == "<token>" ? new Credential(null, null, secret, program) : new Credential(user, secret, null, program);
        }
        catch (JsonException)
        {
            throw new ImageException(Text.Format("Error.GetAnsweredSomethingThatIsNot", program));
        }
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ImageException(Text.Format("Error.IsNotJSON", path, ex.Message.Split('.')[0]));
        }
    }
}
