using System.Text;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// A Docker Engine API that means harm, on a unix socket: it answers /_ping well, then stalls after the
/// headers of an answer, trickles it, sends JSON without end or an error text of 100 MB. layerdive runs
/// as a child process with LAYERDIVE_ENGINE_TIMEOUT=1: one line and exit 2 within a few seconds, its
/// peak memory under 200 MB.
/// </summary>
public sealed class HostileEngineTests : IDisposable
{
    private const string Inspect = "/v1.47/images/hostile:1/json";
    private const string Export = "/v1.47/images/hostile:1/get";
    private static readonly TimeSpan Kill = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(25);

    private readonly TempDir _dir = new();
    private HostileServer? _engine;

    /// <summary>An inspect answer as the engine gives it (an image with no layers, so only the config is awaited from the export).</summary>
    private static readonly string InspectJson =
        $"{{\"Id\":\"sha256:{new string('a', 64)}\",\"RepoTags\":[\"hostile:1\"],\"Os\":\"linux\",\"Architecture\":\"amd64\",\"Size\":0,\"RootFS\":{{\"Type\":\"layers\",\"Layers\":[]}}}}";

    private HostileRun Run(Func<HostileRequest, HostileAnswer, Task> answer, int timeout = 1)
    {
        var socket = _dir.File("engine.sock");
        _engine = HostileServer.Unix(socket, async (r, a) =>
        {
            if (r.Path == "/_ping") await a.Send(200, "OK", "text/plain", ("API-Version", "1.47"));
            else await answer(r, a);
        });
        return HostileCli.Run(new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + socket, ["LAYERDIVE_ENGINE_TIMEOUT"] = timeout.ToString() }, Kill, "ls", "docker://hostile:1");
    }

    private static string AssertOneLine(HostileRun r, string expected)
    {
        Assert.True(r.ExitCode == 2 && r.StderrLines.Length == 1 && r.Stdout.Length == 0, r.ToString());
        var line = r.StderrLines[0];
        Assert.True(line.StartsWith("layerdive: error: docker://hostile:1: ", StringComparison.Ordinal) && line.Contains(expected, StringComparison.Ordinal), $"'{expected}' not in: {r}");
        Assert.True(r.Elapsed < Bound, $"took {r.Elapsed.TotalSeconds:0.0} s: {r}");
        Assert.True(r.PeakRssMiB is > 0 and < 200, $"peak rss: {r}");
        return line;
    }

    [Theory]
    [InlineData("stall")]
    [InlineData("trickle")]
    public void An_inspect_that_stalls_or_trickles_after_its_headers_ends_in_one_line(string how)
    {
        var body = Encoding.UTF8.GetBytes(InspectJson);
        var run = Run(async (r, a) =>
        {
            await a.Head(200, ("Content-Type", "application/json"), ("Content-Length", body.Length.ToString()));
            await (how == "stall" ? a.Stall() : a.Trickle(body));
        });
        AssertOneLine(run, "did not send its answer to images/hostile:1/json in time: not whole within 1 s");
    }

    [Fact]
    public void An_export_that_stalls_after_its_headers_ends_in_one_line()
    {
        var run = Run(async (r, a) =>
        {
            if (r.Path == Inspect) await a.Send(200, InspectJson);
            else if (r.Path == Export)
            {
                await a.Head(200, ("Content-Type", "application/x-tar"));
                await a.Stall();
            }
            else await a.Send(404, "{\"message\":\"no such thing\"}");
        });
        AssertOneLine(run, "no data for 1 s (LAYERDIVE_ENGINE_TIMEOUT)");
    }

    /// <summary>
    /// An export whose bytes come just as each read's time limit runs out, read through the engine client
    /// over its unix socket: the limit tears the connection down under a read that may still win, and the
    /// next read must end in a stall, never in an ObjectDisposedException (see the registry's twin).
    /// </summary>
    [Fact]
    public void An_export_whose_bytes_come_as_each_read_runs_out_of_time_ends_whole_or_in_a_stall()
    {
        var socket = _dir.File("engine.sock");
        _engine = HostileServer.Unix(socket, async (r, a) =>
        {
            if (r.Path == "/_ping") await a.Send(200, "OK", "text/plain", ("API-Version", "1.47"));
            else await HostileRegistryTests.TrickleAtTheLimit(a);
        });
        var host = new LayerDive.Core.Sources.Engines.EngineHost(LayerDive.Core.Sources.Engines.Engine.Docker, "unix://" + socket, "the test")
            { Timeout = HostileRegistryTests.LimitRaced };
        using var client = LayerDive.Core.Sources.Engines.EngineClient.Connect(host, TestContext.Current.CancellationToken);
        HostileRegistryTests.AssertEachEndsWholeOrInAStall(() =>
        {
            var response = client.GetStream("images/hostile:1/get", TestContext.Current.CancellationToken)!;
            return (response, client.Body(response));
        });
    }

    [Fact]
    public void JSON_without_end_is_refused_at_64_MiB()
    {
        var run = Run(async (r, a) =>
        {
            await a.Head(200, ("Content-Type", "application/json"));
            await a.Endless(Encoding.ASCII.GetBytes("{\"Id\":\"sha256:" + new string('a', 64) + "\",\"RepoTags\":[\""));
        }, timeout: 20); // long enough for 64 MiB to come on a busy machine: what ends this is the size
        AssertOneLine(run, "with more than 67108864 bytes");
        Assert.True(_engine!.Sent < 256L << 20, $"{_engine.Sent} bytes were sent");
    }

    [Fact]
    public void An_error_text_of_100_MB_is_shown_cut()
    {
        const long size = 100L << 20;
        var run = Run(async (r, a) =>
        {
            await a.Head(500, ("Content-Type", "application/json"), ("Content-Length", size.ToString()));
            await a.Endless(Encoding.ASCII.GetBytes("{\"message\":\"the engine broke: "), size);
        });
        var line = AssertOneLine(run, "answered 500 Internal Server Error: ");
        Assert.True(line.Length < 600, line);
        Assert.Contains("the engine broke: xxx", line);
        Assert.True(_engine!.Sent < 64L << 20, $"{_engine.Sent} bytes were sent");
    }

    public void Dispose()
    {
        _engine?.Dispose();
        _dir.Dispose();
    }
}
