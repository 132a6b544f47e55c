using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using LayerDive.Samples;

namespace LayerDive.Tests.Support;

/// <summary>
/// A registry that serves one small image (<c>hostile/app:1</c>: one uncompressed layer with
/// <c>etc/motd</c>) through the distribution API, and lets a test take over any request first
/// (<see cref="Fault"/>: return true when it answered). Every request is logged.
/// </summary>
public sealed class HostileRegistry : IDisposable
{
    public const string Repository = "hostile/app";
    public const string Tag = "1";

    private readonly HostileServer _server;

    public HostileRegistry(IPAddress address, Func<HostileRequest, HostileAnswer, Task<bool>>? fault = null, NetworkNamespace? inside = null)
    {
        Fault = fault;
        var image = new ImageBuilder().Layer("ADD motd /etc/motd", l => l.Dir("etc").File("etc/motd", Motd));
        (Layers, _, Config, Manifest) = image.Build(LayerCompression.None);
        _server = HostileServer.Tcp(address, Serve, inside);
    }

    public Func<HostileRequest, HostileAnswer, Task<bool>>? Fault { get; set; }
    public ImageBuilder.Blob Manifest { get; }
    public ImageBuilder.Blob Config { get; }
    public List<ImageBuilder.Blob> Layers { get; }

    /// <summary>host:port.</summary>
    public string Authority => _server.Name;
    public string Image => $"registry://{Authority}/{Repository}:{Tag}";
    public IReadOnlyList<HostileRequest> Log => _server.Log;
    public long Sent => _server.Sent;

    /// <summary>The content of the image's one file.</summary>
    public const string Motd = "hello from a hostile registry\n";

    /// <summary>Whether <c>ls --format tsv</c> printed the image's file: its size and sha256 worked out from <see cref="Motd"/>.</summary>
    public static bool IsTheImageListing(string stdout)
    {
        var bytes = Encoding.UTF8.GetBytes(Motd);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Any(l => l.StartsWith("etc\tdir\t", StringComparison.Ordinal))
            && lines.Any(l => l.StartsWith($"etc/motd\tfile\t0644\t0\t0\t{bytes.Length}\t{sha}\t", StringComparison.Ordinal));
    }

    private async Task Serve(HostileRequest request, HostileAnswer answer)
    {
        if (Fault is { } fault && await fault(request, answer)) return;
        await ServeWell(request, answer);
    }

    /// <summary>The answer a well-behaved registry gives (for a fault that lets some requests through).</summary>
    public async Task ServeWell(HostileRequest request, HostileAnswer answer)
    {
        var path = request.Path;
        if (path == "/v2/")
        {
            await answer.Send(200, "{}");
            return;
        }
        if (path == $"/v2/{Repository}/manifests/{Tag}" || path == $"/v2/{Repository}/manifests/{Manifest.Digest}")
        {
            await answer.Send(200, Manifest.Bytes, Manifest.MediaType, ("Docker-Content-Digest", Manifest.Digest));
            return;
        }
        if (path.StartsWith($"/v2/{Repository}/blobs/", StringComparison.Ordinal) && Blob(path.Split('/')[^1]) is { } blob)
        {
            var range = request.Headers.GetValueOrDefault("Range");
            if (range is not null && Regex.Match(range, @"^bytes=(\d+)-$") is { Success: true } m && long.Parse(m.Groups[1].Value) is var from && from < blob.Bytes.Length)
            {
                await answer.Send(206, blob.Bytes[(int)from..], "application/octet-stream", ("Content-Range", $"bytes {from}-{blob.Bytes.Length - 1}/{blob.Bytes.Length}"));
                return;
            }
            await answer.Send(200, blob.Bytes, "application/octet-stream", ("Docker-Content-Digest", blob.Digest));
            return;
        }
        await answer.Send(404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}");
    }

    public ImageBuilder.Blob? Blob(string digest) =>
        Config.Digest == digest ? Config : Layers.FirstOrDefault(l => l.Digest == digest);

    public bool IsBlob(HostileRequest r, ImageBuilder.Blob blob) => r.Path == $"/v2/{Repository}/blobs/{blob.Digest}";
    public static bool IsManifest(HostileRequest r) => r.Path.StartsWith($"/v2/{Repository}/manifests/", StringComparison.Ordinal);

    public void Dispose() => _server.Dispose();
}

/// <summary>A run of the built layerdive in a child process: what it printed, how long it took, its peak memory.</summary>
public sealed record HostileRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, long PeakRssMiB, bool Killed)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public string[] Errors => StderrLines.Where(l => l.StartsWith("layerdive: error:", StringComparison.Ordinal)).ToArray();
    public string[] Notes => StderrLines.Where(l => l.StartsWith("layerdive: note:", StringComparison.Ordinal)).ToArray();

    /// <summary>For assertion messages: what happened, in one line.</summary>
    public override string ToString() =>
        $"exit {(Killed ? "(killed)" : ExitCode.ToString())} after {Elapsed.TotalSeconds:0.0} s, peak rss {PeakRssMiB} MiB, stderr: {Cut(Stderr)}, stdout: {Cut(Stdout)}";

    private static string Cut(string s) => s.Length > 600 ? s[..600] + $"... ({s.Length} chars)" : s;
}

public static class HostileCli
{
    /// <summary>
    /// Runs <c>dotnet layerdive.dll ARGS</c> with only the variables given (and PATH, a HOME with nothing
    /// in it, engines that are not there), killing it after <paramref name="kill"/>. The peak RSS is read
    /// from the stats line LAYERDIVE_STATS=1 prints (the line itself is left out of Stderr); each output
    /// is kept to its first 4 MB.
    /// </summary>
    public static HostileRun Run(IReadOnlyDictionary<string, string> environment, TimeSpan kill, params string[] args) =>
        Run(environment, kill, null, args);

    /// <summary>The same, inside <paramref name="inside"/> when given (where it reaches only the servers there).</summary>
    public static HostileRun Run(IReadOnlyDictionary<string, string> environment, TimeSpan kill, NetworkNamespace? inside, params string[] args)
    {
        string[] command = inside?.Command("dotnet") ?? ["dotnet"];
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in command[1..]) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "layerdive.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var name in new[] { "PATH", "DOTNET_ROOT", "TMPDIR" })
            if (Environment.GetEnvironmentVariable(name) is { } v) psi.Environment[name] = v;
        psi.Environment["HOME"] = "/nonexistent-home";
        psi.Environment["DOCKER_HOST"] = "unix:///nonexistent/docker.sock";
        psi.Environment["CONTAINER_HOST"] = "unix:///nonexistent/podman.sock";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["LAYERDIVE_STATS"] = "1";
        psi.Environment["LAYERDIVE_CACHE"] = TestCache.Setting; // a hostile peer's layers are read, not remembered
        foreach (var (k, v) in environment)
            if (v.Length == 0) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = Capped(p.StandardOutput.BaseStream);
        var stderr = Capped(p.StandardError.BaseStream);
        bool killed = !p.WaitForExit(kill);
        if (killed)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        var elapsed = clock.Elapsed;
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        var err = stderr.IsCompleted ? stderr.Result : "";
        long rss = -1;
        var lines = err.Split('\n').ToList();
        var stats = lines.FindIndex(l => l.StartsWith("layerdive: stats:", StringComparison.Ordinal));
        if (stats >= 0)
        {
            rss = long.Parse(Regex.Match(lines[stats], @"peak rss (\d+) MiB").Groups[1].Value);
            lines.RemoveAt(stats);
        }
        var run = new HostileRun(killed ? -1 : p.ExitCode, stdout.IsCompleted ? stdout.Result : "", string.Join('\n', lines), elapsed, rss, killed);
        // LAYERDIVE_HOSTILE_LOG=FILE keeps what every case did (for a table of cases, before and after a change)
        if (Environment.GetEnvironmentVariable("LAYERDIVE_HOSTILE_LOG") is { Length: > 0 } log)
            lock (LogGate) File.AppendAllText(log, $"{TestContext.Current.Test?.TestDisplayName}\n  {run}\n");
        return run;
    }

    private static readonly object LogGate = new();

    private static async Task<string> Capped(Stream s)
    {
        var kept = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while ((n = await s.ReadAsync(buffer)) > 0)
            if (kept.Length < 4 << 20) kept.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(kept.ToArray());
    }
}

/// <summary>The forms a secret may be printed in: as it is, and base64 (standard and URL-safe, padded or not).</summary>
public static class SecretForms
{
    public static IEnumerable<string> Of(string secret)
    {
        yield return secret;
        var b64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(secret));
        yield return b64.TrimEnd('=');
        yield return b64.TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Fails when any form of any secret is in either output.</summary>
    public static void AssertAbsent(HostileRun run, params string[] secrets)
    {
        foreach (var secret in secrets)
            foreach (var form in Of(secret))
            {
                Assert.False(run.Stdout.Contains(form, StringComparison.Ordinal), $"stdout shows '{form}' (a form of a secret): {run}");
                Assert.False(run.Stderr.Contains(form, StringComparison.Ordinal), $"stderr shows '{form}' (a form of a secret): {run}");
            }
    }
}
