using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LayerDive.Tests.Support;

/// <summary>
/// A page open in headless chromium, driven through the DevTools protocol (on a loopback port the
/// browser chooses): scripts evaluated in the page, mouse events dispatched as a user's. The browser
/// is the process this started, killed with its children when disposed.
/// </summary>
public sealed class DevTools : IDisposable
{
    private Process _browser = null!;
    private readonly TempDir _profile = new();
    private readonly ClientWebSocket _socket = new();
    private int _next;

    public static async Task<DevTools> Open(string file, int width, int height)
    {
        var path = Chromium.Require();
        var psi = new ProcessStartInfo(path) { RedirectStandardError = true, RedirectStandardOutput = true };
        var devtools = new DevTools();
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--force-device-scale-factor=1",
                     $"--user-data-dir={devtools._profile.Path}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--window-size={width},{height}", new Uri(file).AbsoluteUri })
            psi.ArgumentList.Add(a);
        var browser = devtools._browser = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // the browser says where it listens: "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        string? line;
        int port = 0;
        while ((line = await browser.StandardError.ReadLineAsync(timeout.Token)) is not null)
        {
            var m = Regex.Match(line, @"DevTools listening on ws://127\.0\.0\.1:([0-9]+)/");
            if (m.Success) { port = int.Parse(m.Groups[1].Value); break; }
        }
        if (port == 0)
        {
            devtools.Dispose();
            Assert.Fail("chromium did not open its DevTools port");
        }
        _ = browser.StandardError.ReadToEndAsync(); // keep draining
        _ = browser.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient();
        var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list", timeout.Token))!.AsArray();
        var page = targets.First(x => (string?)x!["type"] == "page")!;
        await devtools._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), timeout.Token);
        return devtools;
    }

    /// <summary>Opens <paramref name="file"/> in the page with its scripts off (as a user who turned JavaScript off sees it).</summary>
    public async Task OpenWithoutScripts(string file)
    {
        await Send("Emulation.setScriptExecutionDisabled", new JsonObject { ["value"] = true });
        await Send("Page.navigate", new JsonObject { ["url"] = new Uri(file).AbsoluteUri });
    }

    /// <summary>Sends a command and returns its result (events in between are skipped).</summary>
    public async Task<JsonNode> Send(string method, JsonObject? parameters = null)
    {
        int id = ++_next;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            var received = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await _socket.ReceiveAsync(buffer, timeout.Token);
                received.Write(buffer, 0, r.Count);
            } while (!r.EndOfMessage);
            var reply = JsonNode.Parse(received.ToArray())!;
            if ((int?)reply["id"] != id) continue;
            if (reply["error"] is { } error) Assert.Fail($"{method}: {error.ToJsonString()}");
            return reply["result"]!;
        }
    }

    /// <summary>The value of a script's expression in the page.</summary>
    public async Task<JsonElement> Evaluate(string expression)
    {
        var result = await Send("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (result["exceptionDetails"] is { } ex) Assert.Fail($"{expression}: {ex.ToJsonString()}");
        return JsonDocument.Parse(result["result"]!["value"]?.ToJsonString() ?? "null").RootElement.Clone();
    }

    /// <summary>Waits (at most 30 s) until the expression is true in the page.</summary>
    public async Task Until(string expression)
    {
        var end = DateTime.UtcNow.AddSeconds(30);
        while (!(await Evaluate($"!!({expression})")).GetBoolean())
        {
            if (DateTime.UtcNow > end) Assert.Fail($"never true: {expression}");
            await Task.Delay(100);
        }
    }

    /// <summary>A left click at a point of the viewport, as the mouse makes it: pressed, then released.</summary>
    public async Task Click(double x, double y)
    {
        foreach (var type in new[] { "mouseMoved", "mousePressed", "mouseReleased" })
            await Send("Input.dispatchMouseEvent", new JsonObject { ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = type == "mouseMoved" ? "none" : "left", ["clickCount"] = 1 });
    }

    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            if (!_browser.HasExited) _browser.Kill(entireProcessTree: true);
            _browser.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        _browser.Dispose();
        _profile.Dispose();
    }
}
