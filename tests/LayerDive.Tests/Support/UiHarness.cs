using System.Runtime.CompilerServices;
using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Ui.Explorer;
using LayerDive.Ui.Viewer;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace LayerDive.Tests.Support;

internal static class HeadlessDriver
{
    /// <summary>Keeps Terminal.Gui's ANSI driver from writing escape sequences to the real terminal.</summary>
    [ModuleInitializer]
    internal static void DisableRealDriverIO() => Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
}

/// <summary>
/// The real explorer window, driven headless: keys in, screen text and colours out. After the keys it
/// lets a copy into the viewer end, as the explorer's ticker would show it (<see cref="Send"/> does not wait).
/// </summary>
public sealed class UiHarness : IDisposable
{
    private readonly IApplication _app;
    private readonly SessionToken? _token;

    public UiHarness(string image, int width = 120, int height = 60, bool color = true, bool extract = false, ExplorerSettings? settings = null, string? spoolFolder = null)
        : this(Open(image, color, extract, settings, spoolFolder), width, height)
    {
    }

    /// <summary>Drives a window made by the test (a model still loading, say).</summary>
    public UiHarness(ExplorerWindow window, int width = 120, int height = 60)
    {
        Window = window;
        _app = Application.Create();
        _app.Init(DriverRegistry.Names.ANSI);
        _app.Driver!.SetScreenSize(width, height);
        _token = _app.Begin(Window);
        _app.LayoutAndDraw(true);
    }

    public ExplorerWindow Window { get; }

    /// <summary>The window's state and commands.</summary>
    public ExplorerViewModel ViewModel => Window.ViewModel;

    /// <summary>The viewer's position in what it shows.</summary>
    public Pager Pager => Window.ViewModel.Viewer.Pager;

    private static ExplorerWindow Open(string image, bool color, bool extract, ExplorerSettings? settings, string? spoolFolder)
    {
        var dive = new DiveMetrics();
        var load = ImageLoader.Start(image, new LoadOptions { Observers = [dive] }, TestContext.Current.CancellationToken);
        var model = load.Wait();
        var window = new ExplorerWindow(model, dive.Result(), color, settings: settings);
        var vm = window.ViewModel;
        vm.Viewer.ReadContent = (version, output, ct) => FileContent.Copy(load, version, output, ct);
        if (spoolFolder is not null) vm.Viewer.Folder = spoolFolder;
        if (extract)
            vm.Extract = (path, layer, folder) =>
            {
                var r = Extractor.Extract(load, path, layer, folder);
                return $"extracted /{path}: {r.Files} files, {r.Directories} directories, {r.Symlinks} links to {folder}";
            };
        return window;
    }

    /// <summary>Draws again (after the test changed the window from outside, as the explorer does when the load tells).</summary>
    public UiHarness Redraw()
    {
        _app.LayoutAndDraw(false);
        return this;
    }

    public UiHarness Press(params Key[] keys)
    {
        foreach (var k in keys)
        {
            _app.InjectKey(k);
            if (ViewModel.Viewer.IsCopying) Settle();
        }
        _app.LayoutAndDraw(false);
        return this;
    }

    /// <summary>Presses keys without waiting for a copy into the viewer to end (what a user sees meanwhile).</summary>
    public UiHarness Send(params Key[] keys)
    {
        foreach (var k in keys) _app.InjectKey(k);
        _app.LayoutAndDraw(false);
        return this;
    }

    /// <summary>Ticks the window as the explorer's ticker does, until a copy into the viewer has ended (60 s at most).</summary>
    public UiHarness Settle()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            Window.Tick();
            if (!ViewModel.Viewer.IsCopying) break;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new Xunit.Sdk.XunitException("a copy into the viewer did not end in 60 s");
            Thread.Sleep(5);
        }
        _app.LayoutAndDraw(false);
        return this;
    }

    /// <summary>Ticks the window (as the explorer's ticker does) and draws, without waiting.</summary>
    public UiHarness Tick()
    {
        Window.Tick();
        _app.LayoutAndDraw(false);
        return this;
    }

    /// <summary>The application the window runs in (what the explorer posts its updates to).</summary>
    public IApplication App => _app;

    /// <summary>Runs what was posted to the UI loop (as its next iteration would) and draws.</summary>
    public UiHarness RunPosted()
    {
        _app.TimedEvents!.RunTimers();
        _app.LayoutAndDraw(false);
        return this;
    }

    public UiHarness Type(string text) => Press(text.Select(c => new Key(c)).ToArray());

    public string[] Lines => _app.Driver!.ToString()!.TrimEnd('\n').Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    public string Screen => string.Join('\n', Lines);

    /// <summary>The first line of the screen containing <paramref name="text"/>, and where.</summary>
    public (int Row, int Col) Find(string text)
    {
        var lines = Lines;
        for (int r = 0; r < lines.Length; r++)
        {
            int c = lines[r].IndexOf(text, StringComparison.Ordinal);
            if (c >= 0) return (r, c);
        }
        throw new Xunit.Sdk.XunitException($"'{text}' is not on the screen:\n{Screen}");
    }

    /// <summary>The foreground colour of the cell where <paramref name="text"/> starts.</summary>
    public Color ColorOf(string text) => AttributeOf(text).Foreground;

    /// <summary>The attribute (foreground and background) of the cell where <paramref name="text"/> starts.</summary>
    public Terminal.Gui.Drawing.Attribute AttributeOf(string text)
    {
        var (r, c) = Find(text);
        // Contents is indexed by screen column; a line's text index equals its column for the ASCII and box-drawing cells used here
        return _app.Driver!.Contents![r, c].Attribute!.Value;
    }

    public void Dispose()
    {
        if (_token is not null) _app.End(_token);
        Window.Dispose();
        _app.Dispose();
    }
}
