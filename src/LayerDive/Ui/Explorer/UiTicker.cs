using Terminal.Gui.App;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// Runs a function on the UI loop every 100 ms until it returns false or the ticker is disposed. The
/// viewer's copy works on a thread of its own; a timer posts to the loop to show how far it has come
/// (the load tells the explorer itself: <see cref="UiSignal"/>), rather than a timeout on the loop itself (gui-cs/Terminal.Gui#3812 reports that a
/// pending timeout keeps the loop from ever blocking, and the two cores are the decompressors').
/// </summary>
public sealed class UiTicker : IDisposable
{
    private readonly Timer _timer;
    private volatile bool _running = true;

    public UiTicker(IApplication app, Func<bool> tick) =>
        _timer = new Timer(_ =>
        {
            if (_running) app.Invoke(() => { if (_running) _running = tick(); });
        }, null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));

    public void Dispose()
    {
        _running = false;
        _timer.Dispose();
    }
}
