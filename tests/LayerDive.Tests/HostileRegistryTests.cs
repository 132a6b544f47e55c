using System.Net;
using System.Text;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// A registry and token service that mean harm, on loopback (127.0.0.1 and 127.0.0.2 stand for two
/// hosts; 198.18.0.2 inside a network namespace the test makes, for a host that is not loopback): they stall, trickle,
/// send without end, echo the credentials they received and send them elsewhere. layerdive runs as a
/// child process with LAYERDIVE_REGISTRY_TIMEOUT=1, so each case must end in one line and exit 2 (or
/// what the README says it does) within a few seconds, with no secret in either output and its peak
/// memory under 200 MB.
/// </summary>
public sealed class HostileRegistryTests : IDisposable
{
    private const string User = "alice";
    private const string Password = "Hostile-Pa55word";
    private const string UserPassword = User + ":" + Password;
    private const int PeakMiB = 200;
    /// <summary>Where a hung run is stopped.</summary>
    private static readonly TimeSpan Kill = TimeSpan.FromSeconds(60);
    /// <summary>A generous bound around what must take a few seconds at LAYERDIVE_REGISTRY_TIMEOUT=1.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(25);
    private static readonly IPAddress Host1 = IPAddress.Parse("127.0.0.1");
    private static readonly IPAddress Host2 = IPAddress.Parse("127.0.0.2");

    private readonly TempDir _dir = new();
    private readonly List<IDisposable> _servers = [];
    /// <summary>The test's own network namespace, once it asked for a host that is not loopback.</summary>
    private NetworkNamespace? _net;

    /// <summary>
    /// An address that is not loopback, standing for another host: 198.18.0.2 inside a network namespace
    /// made for this test, never an address of this machine (traffic may go only to loopback and to the
    /// test's own namespaces). From here on the test's servers listen inside it and layerdive runs inside
    /// it. Skips without root or ip, fails instead under CI=true.
    /// </summary>
    private IPAddress OtherHost()
    {
        Assert.True(_servers.Count == 0 && _net is null, "the namespace comes before any server: a server made earlier would be out of layerdive's reach");
        _net = NetworkNamespace.Create("a host that is not loopback");
        return NetworkNamespace.OtherHost;
    }

    private HostileRegistry Registry(IPAddress at, Func<HostileRequest, HostileAnswer, Task<bool>>? fault = null)
    {
        var r = new HostileRegistry(at, fault, _net);
        _servers.Add(r);
        return r;
    }

    private HostileServer Server(IPAddress at, Func<HostileRequest, HostileAnswer, Task> handler)
    {
        var s = HostileServer.Tcp(at, handler, _net);
        _servers.Add(s);
        return s;
    }

    private static Dictionary<string, string> Env(params (string Key, string Value)[] more)
    {
        var env = new Dictionary<string, string> { ["LAYERDIVE_REGISTRY_TIMEOUT"] = "1" };
        foreach (var (k, v) in more) env[k] = v;
        return env;
    }

    /// <summary>An auth file holding alice's password for <paramref name="host"/> (REGISTRY_AUTH_FILE).</summary>
    private (string, string) AuthFile(string host, string? identityToken = null)
    {
        var path = _dir.File($"auth-{Guid.NewGuid():N}.json");
        var entry = identityToken is null ? $"\"auth\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(UserPassword))}\"" : $"\"identitytoken\":\"{identityToken}\"";
        File.WriteAllText(path, $"{{\"auths\":{{\"{host}\":{{{entry}}}}}}}");
        return ("REGISTRY_AUTH_FILE", path);
    }

    /// <summary>
    /// A Docker config naming docker-credential-hostile for <paramref name="host"/>: the helper runs
    /// <paramref name="body"/> after noting in a file that it ran (see <see cref="HelperRan"/>).
    /// </summary>
    private (string, string)[] Helper(string host, string body)
    {
        var bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        var helper = Path.Combine(bin, "docker-credential-hostile");
        File.WriteAllText(helper, $"#!/bin/sh\necho ran >> '{_dir.File("helper-ran")}'\n{body}\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        var config = Directory.CreateDirectory(_dir.File("docker")).FullName;
        File.WriteAllText(Path.Combine(config, "config.json"), $"{{\"credHelpers\":{{\"{host}\":\"hostile\"}}}}");
        return [("DOCKER_CONFIG", config), ("PATH", bin + ":" + Environment.GetEnvironmentVariable("PATH"))];
    }

    private bool HelperRan => File.Exists(_dir.File("helper-ran"));

    /// <summary>A helper that answers alice's password.</summary>
    private const string GoodHelper = "read host\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"" + Password + "\"}' \"$host\"";

    private HostileRun Run(Dictionary<string, string> env, params string[] args) => HostileCli.Run(env, Kill, _net, args);

    /// <summary>Exit 2, nothing on stdout, one line on stderr holding <paramref name="expected"/>, in bounded time and memory.</summary>
    private static string AssertOneLine(HostileRun r, string? expected = null)
    {
        Assert.True(r.ExitCode == 2 && r.StderrLines.Length == 1 && r.Stdout.Length == 0, r.ToString());
        var line = r.StderrLines[0];
        Assert.StartsWith("layerdive: error: ", line);
        if (expected is not null) Assert.True(line.Contains(expected, StringComparison.Ordinal), $"'{expected}' not in: {r}");
        Assert.DoesNotContain("internal error", line);
        AssertBounded(r);
        return line;
    }

    private static void AssertBounded(HostileRun r)
    {
        Assert.True(r.Elapsed < Bound, $"took {r.Elapsed.TotalSeconds:0.0} s: {r}");
        Assert.True(r.PeakRssMiB is > 0 and < PeakMiB, $"peak rss: {r}");
    }

    private static Task<bool> Challenge(HostileAnswer a, string header) =>
        a.Send(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}", "application/json", ("WWW-Authenticate", header)).ContinueWith(_ => true);

    // ---------------- credentials ----------------

    /// <summary>
    /// A realm at plain http:// on another host never receives the credentials, with --insecure or
    /// without: the token is asked for with none, and the registry's refusal says why none were sent.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_realm_at_plain_HTTP_on_another_host_never_receives_the_credentials(bool insecure)
    {
        var other = OtherHost();
        var tokens = Server(other, (r, a) => a.Send(200, r.Authorization is null ? "{\"token\":\"anonymous\"}" : "{\"token\":\"granted\"}"));
        var registry = Registry(Host1);
        registry.Fault = (r, a) => r.Authorization == "Bearer granted" ? Task.FromResult(false)
            : Challenge(a, $"Bearer realm=\"http://{tokens.Name}/token\",service=\"hostile\",scope=\"repository:{HostileRegistry.Repository}:pull\"");
        var run = Run(Env(AuthFile(registry.Authority)), ["ls", registry.Image, .. insecure ? new[] { "--insecure" } : []]);
        var line = AssertOneLine(run, $"no credentials: they are never sent over plain HTTP to {other}");
        Assert.All(tokens.Log, r => Assert.Null(r.Authorization));
        Assert.NotEmpty(tokens.Log); // asked for, anonymously
        SecretForms.AssertAbsent(run, Password, UserPassword);
        Assert.Contains("refused", line);
    }

    /// <summary>A realm that is not HTTP(S) is refused in one line, before any credential is looked up.</summary>
    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("ftp://127.0.0.2/token", "ftp")]
    public void A_realm_that_is_not_HTTP_is_refused_before_credentials_are_looked_up(string realm, string scheme)
    {
        var registry = Registry(Host1);
        registry.Fault = (r, a) => Challenge(a, $"Bearer realm=\"{realm}\",service=\"hostile\"");
        var run = Run(Env(Helper(registry.Authority, GoodHelper)), "ls", registry.Image);
        AssertOneLine(run, $"sends for its token to a {scheme}:// address");
        Assert.False(HelperRan, "the credential helper ran before the realm was checked");
    }

    /// <summary>A registry elsewhere cannot send the credentials to a service on this machine's loopback.</summary>
    [Fact]
    public void A_realm_on_this_machine_s_loopback_named_by_a_registry_elsewhere_is_refused()
    {
        var other = OtherHost();
        var tokens = Server(Host2, (r, a) => a.Send(200, "{\"token\":\"granted\"}"));
        var registry = Registry(other);
        registry.Fault = (r, a) => r.Authorization == "Bearer granted" ? Task.FromResult(false)
            : Challenge(a, $"Bearer realm=\"http://{tokens.Name}/token\",service=\"hostile\"");
        var run = Run(Env(Helper(registry.Authority, GoodHelper)), "ls", registry.Image, "--insecure");
        AssertOneLine(run, $"sends for its token to {Host2}");
        Assert.Empty(tokens.Log);
        Assert.False(HelperRan, "the credential helper ran before the realm was checked");
    }

    /// <summary>A token service that prints back what it received: the password, in every form, is hidden.</summary>
    [Fact]
    public void A_token_service_echoing_the_password_has_it_hidden()
    {
        var tokens = Server(Host2, (r, a) => a.Send(401,
            $"{{\"errors\":[{{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials {r.Authorization} ({UserPassword}) {Uri.EscapeDataString(Password)}\"}}]}}"));
        var registry = Registry(Host1);
        registry.Fault = (r, a) => Challenge(a, $"Bearer realm=\"http://{tokens.Name}/token\",service=\"hostile\"");
        var run = Run(Env(AuthFile(registry.Authority)), "ls", registry.Image);
        AssertOneLine(run, "token service refused");
        Assert.StartsWith("Basic ", tokens.Log[0].Authorization); // it did receive them (over loopback) and echoed them
        SecretForms.AssertAbsent(run, Password, UserPassword);
    }

    /// <summary>An identity token echoed as the form it came in (URL-encoded) is hidden too.</summary>
    [Fact]
    public void A_token_service_echoing_the_identity_token_has_it_hidden()
    {
        const string identity = "id/tok+en=Secret-12345";
        var tokens = Server(Host2, (r, a) => a.Send(401, $"invalid grant: {r.BodyText}", "text/plain"));
        var registry = Registry(Host1);
        registry.Fault = (r, a) => Challenge(a, $"Bearer realm=\"http://{tokens.Name}/token\",service=\"hostile\"");
        var run = Run(Env(AuthFile(registry.Authority, identity)), "ls", registry.Image);
        AssertOneLine(run, "token service refused");
        Assert.Contains(Uri.EscapeDataString(identity), tokens.Log[0].BodyText);
        SecretForms.AssertAbsent(run, identity, Uri.EscapeDataString(identity));
    }

    /// <summary>A registry that prints back the Authorization it received (Basic, or the Bearer token): hidden.</summary>
    [Theory]
    [InlineData("Basic")]
    [InlineData("Bearer")]
    public void A_registry_echoing_the_authorization_has_it_hidden(string scheme)
    {
        const string token = "tok-9f8e7d6c5b4a-SECRET";
        var tokens = Server(Host2, (r, a) => a.Send(200, $"{{\"token\":\"{token}\",\"expires_in\":300}}"));
        var registry = Registry(Host1);
        registry.Fault = (r, a) => r.Authorization is null
            ? Challenge(a, scheme == "Basic" ? "Basic realm=\"hostile\"" : $"Bearer realm=\"http://{tokens.Name}/token\",service=\"hostile\"")
            : a.Send(403, $"{{\"errors\":[{{\"code\":\"DENIED\",\"message\":\"denied: Authorization: {r.Authorization}\"}}]}}").ContinueWith(_ => true);
        var run = Run(Env(AuthFile(registry.Authority)), "ls", registry.Image);
        var line = AssertOneLine(run, "(403: DENIED denied: Authorization: ");
        SecretForms.AssertAbsent(run, Password, UserPassword, token);
        Assert.Contains(scheme == "Basic" ? "Basic " : "Bearer ", registry.Log[^1].Authorization);
        Assert.DoesNotContain(registry.Log[^1].Authorization!.Split(' ')[1], line);
    }

    /// <summary>
    /// A registry that echoes the password with a character written as a JSON escape (Go's encoder writes
    /// \u003c for '&lt;'; any character may be escaped): hidden once the message is decoded too.
    /// </summary>
    [Fact]
    public void A_registry_echoing_the_password_in_json_escapes_has_it_hidden()
    {
        string escaped = Password.Replace("-", "\\u002d");
        var registry = Registry(Host1);
        registry.Fault = (r, a) => r.Authorization is null
            ? Challenge(a, "Basic realm=\"hostile\"")
            : a.Send(403, $"{{\"errors\":[{{\"code\":\"DENIED\",\"message\":\"denied for {escaped}\"}}]}}").ContinueWith(_ => true);
        var run = Run(Env(AuthFile(registry.Authority)), "ls", registry.Image);
        AssertOneLine(run, "(403: DENIED denied for ");
        SecretForms.AssertAbsent(run, Password, UserPassword);
    }

    /// <summary>A config.json that is not JSON: the error gives where, never what (a character of it may be a password's).</summary>
    [Theory]
    [InlineData("registry")]
    [InlineData("docker")]
    public void A_broken_config_json_error_shows_no_character_of_it(string scheme)
    {
        var config = Directory.CreateDirectory(_dir.File("broken")).FullName;
        var file = Path.Combine(config, "config.json");
        // an invalid escape inside the password: a JSON parser names the character after the backslash
        var registry = Registry(Host1);
        registry.Fault = (r, a) => Challenge(a, "Basic realm=\"hostile\"");
        File.WriteAllText(file, $"{{\"auths\":{{\"{registry.Authority}\":{{\"username\":\"alice\",\"password\":\"Hostile\\Pa55word\"}}}}}}");
        var name = scheme == "registry" ? registry.Image : "docker://hostile:1";
        var run = Run(Env(("DOCKER_CONFIG", config), ("DOCKER_HOST", "")), "ls", name);
        var line = AssertOneLine(run, file);
        Assert.Matches($@"^layerdive: error: {System.Text.RegularExpressions.Regex.Escape(name)}: {System.Text.RegularExpressions.Regex.Escape(file)} is not JSON \(line 1, byte \d+\); ", line);
        Assert.DoesNotContain("'P'", line);
        SecretForms.AssertAbsent(run, "Hostile", "Pa55word");
    }

    // ---------------- hangs and waits ----------------

    /// <summary>A manifest whose body stalls after its headers, or comes a byte a second.</summary>
    [Theory]
    [InlineData("stall")]
    [InlineData("trickle")]
    public void A_manifest_that_stalls_or_trickles_ends_in_one_line(string how)
    {
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r)) return false;
            await a.Head(200, ("Content-Type", registry.Manifest.MediaType), ("Content-Length", registry.Manifest.Bytes.Length.ToString()));
            await (how == "stall" ? a.Stall() : a.Trickle(registry.Manifest.Bytes));
            return true;
        };
        var run = Run(Env(), "ls", registry.Image);
        AssertOneLine(run, "did not send the manifest 1 in time: not whole within 1 s");
        Assert.Single(registry.Log, HostileRegistry.IsManifest);
    }

    /// <summary>
    /// Bytes that come just as each read's time limit runs out. The limit cancels the read by tearing its
    /// connection down, and a read whose byte had already come still returns it: the next read then meets a
    /// disposed stream. Every body must end whole or in a stall, never in an ObjectDisposedException (which
    /// the command line prints as an "internal error"). Many connections at once, each racing its limit at
    /// every byte, so the narrow window is met in most runs.
    /// </summary>
    [Fact]
    public void A_body_whose_bytes_come_as_each_read_runs_out_of_time_ends_whole_or_in_a_stall()
    {
        var server = Server(Host1, (_, a) => TrickleAtTheLimit(a));
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        AssertEachEndsWholeOrInAStall(() =>
        {
            var response = http.Send(new HttpRequestMessage(HttpMethod.Get, $"http://{server.Name}/"), HttpCompletionOption.ResponseHeadersRead);
            return (response, new LayerDive.Core.Sources.Registry.TimedReadStream(response.Content.ReadAsStream(), LimitRaced));
        });
    }

    /// <summary>The per-read limit that <see cref="TrickleAtTheLimit"/> races.</summary>
    internal static readonly TimeSpan LimitRaced = TimeSpan.FromMilliseconds(20);
    private const int TrickledBytes = 60;

    /// <summary>An answer whose body comes a byte every <see cref="LimitRaced"/>.</summary>
    internal static async Task TrickleAtTheLimit(HostileAnswer a)
    {
        await a.Head(200, ("Content-Type", "application/octet-stream"), ("Content-Length", TrickledBytes.ToString()));
        await a.Trickle(new byte[TrickledBytes], LimitRaced);
    }

    /// <summary>
    /// Reads many bodies from <paramref name="open"/> at once (threads of their own: a blocked read must not
    /// hold a pool thread its peers' completions need), each read timed at <see cref="LimitRaced"/>; every
    /// one must end whole or in a <see cref="LayerDive.Core.Sources.Registry.NetworkStallException"/>.
    /// </summary>
    internal static void AssertEachEndsWholeOrInAStall(Func<(IDisposable Response, Stream Body)> open)
    {
        const int Readers = 48, Requests = 50;
        var ends = new System.Collections.Concurrent.ConcurrentBag<string>();
        var readers = Enumerable.Range(0, Readers).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < Requests; i++)
            {
                try
                {
                    var (response, body) = open();
                    using (response)
                    using (body)
                    {
                        var buffer = new byte[TrickledBytes];
                        while (body.Read(buffer) > 0) { }
                    }
                    ends.Add("whole");
                }
                catch (LayerDive.Core.Sources.Registry.NetworkStallException) { ends.Add("stall"); }
                catch (Exception ex) { ends.Add($"{ex.GetType().Name}: {ex.Message}"); }
            }
        })).ToList();
        readers.ForEach(t => t.Start());
        Assert.All(readers, t => Assert.True(t.Join(Kill), "a reader hung"));
        Assert.Equal(Readers * Requests, ends.Count);
        var wrong = ends.Where(e => e is not ("whole" or "stall")).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {ends.Count} ended otherwise ({ends.Count(e => e == "stall")} stalls): {string.Join(" | ", wrong.Distinct())}");
    }

    /// <summary>An error answer (404, 401 after the credentials, 403) whose text stalls or trickles.</summary>
    [Theory]
    [InlineData(404, "stall")]
    [InlineData(404, "trickle")]
    [InlineData(401, "stall")]
    [InlineData(401, "trickle")]
    [InlineData(403, "stall")]
    [InlineData(403, "trickle")]
    public void An_error_answer_whose_text_stalls_or_trickles_ends_in_one_line(int status, string how)
    {
        var text = Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"NOPE\",\"message\":\"" + new string('z', 200) + "\"}]}");
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (status == 401 && r.Authorization is null) return await Challenge(a, "Basic realm=\"hostile\"");
            await a.Head(status, ("Content-Type", "application/json"), ("Content-Length", text.Length.ToString()));
            await (how == "stall" ? a.Stall() : a.Trickle(text));
            return true;
        };
        var run = Run(Env(AuthFile(registry.Authority)), "ls", registry.Image);
        AssertOneLine(run, status == 404 ? "has no manifest" : $"({status}");
        SecretForms.AssertAbsent(run, Password, UserPassword);
    }

    /// <summary>A layer blob that stalls or trickles is resumed once, then one line: not six waits, not forever.</summary>
    [Theory]
    [InlineData("stall")]
    [InlineData("trickle")]
    public void A_blob_that_stalls_or_trickles_ends_in_one_line(string how)
    {
        var registry = Registry(Host1);
        var layer = registry.Layers[0];
        registry.Fault = async (r, a) =>
        {
            if (!registry.IsBlob(r, layer)) return false;
            await a.Head(200, ("Content-Type", "application/octet-stream"), ("Content-Length", layer.Bytes.Length.ToString()));
            await (how == "stall" ? a.Stall() : a.Trickle(layer.Bytes));
            return true;
        };
        var run = Run(Env(), "ls", registry.Image);
        AssertOneLine(run, "stalled 2 times");
        Assert.Equal(2, registry.Log.Count(r => registry.IsBlob(r, layer)));
    }

    /// <summary>Headers that come a byte a second: one try, not five.</summary>
    [Fact]
    public void Headers_a_byte_a_second_are_tried_once()
    {
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r)) return false;
            await a.Trickle(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nX-Slow: " + new string('s', 200)));
            return true;
        };
        var run = Run(Env(), "ls", registry.Image);
        AssertOneLine(run, "no answer within 1 s");
        Assert.Single(registry.Log, HostileRegistry.IsManifest);
    }

    /// <summary>Retry-After: 100000 is waited for at most the limit, and the wait is said on stderr.</summary>
    [Fact]
    public void Retry_after_of_a_day_is_cut_to_the_limit_and_said()
    {
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r)) return false;
            await a.Send(503, "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"come back tomorrow\"}]}", "application/json", ("Retry-After", "100000"));
            return true;
        };
        // a limit of 2 s: the first try, however slow on a busy machine, leaves room in the request's 4 s for one wait
        var run = Run(Env(("LAYERDIVE_REGISTRY_TIMEOUT", "2")), "ls", registry.Image);
        Assert.True(run.ExitCode == 2 && run.Errors.Length == 1 && run.StderrLines.Length == run.Notes.Length + 1, run.ToString());
        Assert.Contains("answered 503 for the manifest 1: UNAVAILABLE come back tomorrow", run.Errors[0]);
        Assert.NotEmpty(run.Notes);
        Assert.All(run.Notes, n => Assert.Contains("answered 503 and asks to wait 100000 s; waiting 2 s", n));
        Assert.Equal(run.Notes.Length + 1, registry.Log.Count(HostileRegistry.IsManifest));
        AssertBounded(run);
    }

    /// <summary>429 asking for a day, then the image: it is read after one wait of the limit, and the wait is said.</summary>
    [Fact]
    public void A_429_asking_for_a_day_then_the_image_reads_after_one_capped_wait()
    {
        var registry = Registry(Host1);
        int manifests = 0;
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r) || Interlocked.Increment(ref manifests) > 1) return false;
            await a.Send(429, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}", "application/json", ("Retry-After", "100000"));
            return true;
        };
        // a limit of 3 s: the first try, however slow on a busy machine, leaves room in the request's 6 s for the wait
        var run = Run(Env(("LAYERDIVE_REGISTRY_TIMEOUT", "3")), "ls", registry.Image, "--format", "tsv");
        Assert.True(run.ExitCode == 0 && HostileRegistry.IsTheImageListing(run.Stdout), run.ToString());
        Assert.Contains("answered 429 and asks to wait 100000 s; waiting 3 s", Assert.Single(run.StderrLines));
        Assert.Equal(2, registry.Log.Count(HostileRegistry.IsManifest));
        AssertBounded(run);
    }

    /// <summary>A credential helper that never exits, writes to stderr without end, or leaves a child holding its output.</summary>
    [Theory]
    [InlineData("sleep 1000")]
    [InlineData("while :; do echo 'still thinking about it' >&2; done")]
    [InlineData("sleep 1000 & echo $! > \"$(dirname \"$0\")/orphan.pid\"\nread host\nprintf '{\"Username\":\"alice\",\"Secret\":\"" + Password + "\"}'")]
    public void A_credential_helper_that_does_not_finish_is_stopped(string body)
    {
        var registry = Registry(Host1);
        registry.Fault = (r, a) => Challenge(a, "Basic realm=\"hostile\"");
        try
        {
            var run = Run(Env(Helper(registry.Authority, body)), "ls", registry.Image);
            AssertOneLine(run, "docker-credential-hostile get did not answer within 1 s");
            SecretForms.AssertAbsent(run, Password);
        }
        finally
        {
            // the orphan the third helper leaves is this test's to end
            var pid = _dir.File("bin/orphan.pid");
            if (File.Exists(pid) && int.TryParse(File.ReadAllText(pid).Trim(), out var id))
                try { System.Diagnostics.Process.GetProcessById(id).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
    }

    /// <summary>A loopback registry redirecting to plain HTTP on another host: refused, unless --insecure.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_redirect_to_plain_HTTP_on_another_host_needs_insecure(bool insecure)
    {
        var other = OtherHost();
        var elsewhere = Registry(other);
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!r.Path.Contains("/blobs/", StringComparison.Ordinal)) return false;
            await a.Send(307, "", "text/plain", ("Location", $"http://{elsewhere.Authority}{r.Path}"));
            return true;
        };
        var run = Run(Env(), ["ls", registry.Image, "--format", "tsv", .. insecure ? new[] { "--insecure" } : []]);
        if (insecure)
        {
            Assert.True(run.ExitCode == 0 && HostileRegistry.IsTheImageListing(run.Stdout), run.ToString());
            Assert.NotEmpty(elsewhere.Log);
            Assert.All(elsewhere.Log, r => Assert.Null(r.Authorization));
        }
        else
        {
            AssertOneLine(run, $"to plain HTTP on {other}");
            Assert.Empty(elsewhere.Log);
        }
    }

    /// <summary>Redirects to file:// or ftp://: one line, not an internal error.</summary>
    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("ftp://127.0.0.2/manifest", "ftp")]
    public void A_redirect_that_is_not_HTTP_is_one_line(string location, string scheme)
    {
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r)) return false;
            await a.Send(302, "", "text/plain", ("Location", location));
            return true;
        };
        // not a test of time: a loaded machine may take longer than 1 s to answer the TLS probe (CI saw it once)
        AssertOneLine(Run(Env(("LAYERDIVE_REGISTRY_TIMEOUT", "10")), "ls", registry.Image), $"redirected manifests/1 to a {scheme}:// address");
    }

    // ---------------- memory ----------------

    /// <summary>A token answer of 1.5 GB (declared, or just sent until the connection closes): refused at 64 KiB.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_token_answer_of_one_and_a_half_gigabytes_is_refused(bool declared)
    {
        const long size = 1536L << 20;
        var tokens = Server(Host2, async (r, a) =>
        {
            await a.Head(200, [("Content-Type", "application/json"), .. declared ? new[] { ("Content-Length", size.ToString()) } : []]);
            await a.Endless(Encoding.ASCII.GetBytes("{\"token\":\""), size);
        });
        var registry = Registry(Host1);
        registry.Fault = (r, a) => Challenge(a, $"Bearer realm=\"http://{tokens.Name}/token\",service=\"hostile\"");
        var run = Run(Env(("LAYERDIVE_REGISTRY_TIMEOUT", "10")), "ls", registry.Image);
        AssertOneLine(run, "token service answered more than 65536 bytes");
        Assert.True(tokens.Sent < 64 << 20, $"{tokens.Sent} bytes were sent");
    }

    /// <summary>A manifest without end: refused past 4 MiB.</summary>
    [Fact]
    public void A_manifest_without_end_is_refused_past_4_MiB()
    {
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r)) return false;
            await a.Head(200, ("Content-Type", registry.Manifest.MediaType));
            await a.Endless(Encoding.ASCII.GetBytes("{\"schemaVersion\":2,\"x\":\""));
            return true;
        };
        // a limit long enough for 4 MiB to come on a busy machine: what ends this is the size
        var run = Run(Env(("LAYERDIVE_REGISTRY_TIMEOUT", "10")), "ls", registry.Image);
        AssertOneLine(run, "the manifest 1 is more than 4194304 bytes");
        Assert.True(registry.Sent < 64 << 20, $"{registry.Sent} bytes were sent");
    }

    /// <summary>A config that says it is 100 MiB, or never ends: refused at 64 MiB, in bounded memory.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_config_over_64_MiB_is_refused(bool declared)
    {
        const long size = 100L << 20;
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!registry.IsBlob(r, registry.Config)) return false;
            await a.Head(200, [("Content-Type", "application/octet-stream"), .. declared ? new[] { ("Content-Length", size.ToString()) } : []]);
            await a.Endless(Encoding.ASCII.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"x\":\""), size);
            return true;
        };
        var run = Run(Env(("LAYERDIVE_REGISTRY_TIMEOUT", "10")), "ls", registry.Image);
        AssertOneLine(run, "is more than 67108864 bytes");
    }

    /// <summary>An error answer of 100 MB: a few KiB of it are read, and one cut line shown.</summary>
    [Fact]
    public void An_error_answer_of_100_MB_is_shown_cut()
    {
        const long size = 100L << 20;
        var registry = Registry(Host1);
        registry.Fault = async (r, a) =>
        {
            if (!HostileRegistry.IsManifest(r)) return false;
            await a.Head(403, ("Content-Type", "text/plain"), ("Content-Length", size.ToString()));
            await a.Endless(Encoding.ASCII.GetBytes("denied: "), size);
            return true;
        };
        var run = Run(Env(), "ls", registry.Image);
        var line = AssertOneLine(run, "(403: denied: xxxx");
        Assert.True(line.Length < 600, line);
        Assert.Contains("...", line);
        Assert.True(registry.Sent < 64 << 20, $"{registry.Sent} bytes were sent");
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        _dir.Dispose();
        _net?.Dispose();
    }
}
