using LayerDive.Core;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LayerDive.Core.Resources;

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

    public override string ToString() => Text.Fill(Strings.Credentials_From, Origin);
}

/// <summary>
/// Finds the credential for a registry host where users already keep them: <c>REGISTRY_AUTH_FILE</c>;
/// Docker's <c>config.json</c> (in <c>DOCKER_CONFIG</c> or <c>~/.docker</c>): <c>credHelpers</c>,
/// <c>credsStore</c> (<c>docker-credential-NAME get</c>), <c>auths</c>; then Podman's
/// <c>$XDG_RUNTIME_DIR/containers/auth.json</c> and <c>$XDG_CONFIG_HOME/containers/auth.json</c>.
/// </summary>
internal static class CredentialStore
{
    /// <summary>The credential for <paramref name="host"/>, or null; a helper that takes longer than <paramref name="helperLimit"/> is stopped.</summary>
    public static Credential? Find(string host, SourceOptions o, TimeSpan helperLimit)
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
                        return FromHelper(helper, key, o, helperLimit);
            if (root.String("credsStore") is { Length: > 0 } store && FromHelper(store, keys[0], o, helperLimit, missingIsNone: true) is { } stored)
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
            return variable is null ? null : throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Credentials_FileMissing, variable, path));
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
                catch (FormatException) { throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Credentials_NotBase64, key, origin)); }
                int colon = decoded.IndexOf(':');
                if (colon < 0) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Credentials_NotUserPassword, key, origin));
                return new Credential(decoded[..colon], decoded[(colon + 1)..], null, origin);
            }
            if (entry.String("username") is { } u && entry.String("password") is { } p) return new Credential(u, p, null, origin);
        }
        return null;
    }

    /// <summary>What a helper may print: its answer is a small JSON object.</summary>
    private const int MaxHelperOutput = 64 << 10;

    /// <summary>
    /// Runs <c>docker-credential-NAME get</c> with the host on its input, as the Docker CLI does. Its
    /// outputs are read on their own (so one it fills cannot block the other, or the wait for its exit),
    /// never more than <see cref="MaxHelperOutput"/> kept; a helper that has not exited and closed its
    /// outputs within <paramref name="limit"/> is killed with its children.
    /// </summary>
    private static Credential? FromHelper(string helper, string key, SourceOptions o, TimeSpan limit, bool missingIsNone = false)
    {
        string program = "docker-credential-" + helper;
        var path = (o.Env("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists)
            ?? throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Credentials_HelperNotOnPath, program));
        var info = new ProcessStartInfo(path, "get") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (o.Environment is not null)
            foreach (var name in new[] { "PATH", "HOME" })
                if (o.Env(name) is { } v) info.Environment[name] = v;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(info) ?? throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Credentials_HelperNotStarted, program));
        var output = Task.Run(() => Bounded(p.StandardOutput.BaseStream));
        var errors = Task.Run(() => Bounded(p.StandardError.BaseStream));
        try
        {
            p.StandardInput.Write(key);
            p.StandardInput.Close();
        }
        catch (IOException) { /* it exited without reading its input: its exit code says the rest */ }
        var left = limit - clock.Elapsed;
        if (!p.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero) || !Task.WaitAll([output, errors], Max(limit - clock.Elapsed)))
        {
            // it never ended, or left a child holding its outputs open: its answer cannot be known whole
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Credentials_HelperTimedOut, program, TimedReadStream.Seconds(limit)));
        }
        var (stdout, stdoutWhole) = output.Result;
        var (stderr, _) = errors.Result;
        if (p.ExitCode != 0)
        {
            // helpers say "credentials not found in native keychain" for a host they do not know
            if (missingIsNone || stderr.Contains("not found", StringComparison.OrdinalIgnoreCase) || stdout.Contains("not found", StringComparison.OrdinalIgnoreCase))
                return null;
            throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Credentials_HelperFailed, program, p.ExitCode));
        }
        if (!stdoutWhole) throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Credentials_HelperAnswerTooLarge, program, MaxHelperOutput));
        try
        {
            using var doc = JsonDocument.Parse(stdout);
            var user = doc.RootElement.String("Username");
            var secret = doc.RootElement.String("Secret");
            return user == "<token>" ? new Credential(null, null, secret, program) : new Credential(user, secret, null, program);
        }
        catch (JsonException)
        {
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Credentials_HelperAnswerNotJson, program));
        }
    }

    private static TimeSpan Max(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.Zero;

    /// <summary>A helper's output to its end, keeping the first <see cref="MaxHelperOutput"/> bytes; whole = nothing was dropped.</summary>
    private static (string Text, bool Whole) Bounded(Stream s)
    {
        var kept = new MemoryStream();
        var buffer = new byte[8192];
        bool whole = true;
        try
        {
            int n;
            while ((n = s.Read(buffer)) > 0)
            {
                int room = (int)Math.Max(0, MaxHelperOutput - kept.Length);
                if (n > room) whole = false;
                kept.Write(buffer, 0, Math.Min(n, room));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException) { whole = false; }
        return (Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length), whole);
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(SettingsFile.Read(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw NotJson(path, ex);
        }
    }

    /// <summary>
    /// A file of credentials that is not JSON, said by where only: the parser's own message quotes the
    /// character it stopped at, which may be one of a password's.
    /// </summary>
    internal static ImageException NotJson(string path, JsonException ex) =>
        new(FaultKind.BadArgument, Text.Fill(Strings.Credentials_FileNotJson, path, (ex.LineNumber ?? 0) + 1, (ex.BytePositionInLine ?? 0) + 1));
}
