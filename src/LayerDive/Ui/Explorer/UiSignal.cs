using Terminal.Gui.App;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// Runs an action on the UI loop when told to from any thread (a layer merged, the load's progress or
/// its end). What comes while a run is pending makes no other: a burst of 50 layers merged in a few
/// milliseconds is one refresh, not 50. The action shows the state as it is when it runs, so one run
/// shows everything told before it; what comes during a run makes one more.
/// </summary>
public sealed class UiSignal(IApplication app, Action action) : IDisposable
{
    private int _pending;
    private volatile bool _closed;

    public void Raise()
    {
        if (_closed || Interlocked.Exchange(ref _pending, 1) == 1) return;
        try
        {
            // what Invoke does from another thread; from the UI thread too, so that the action never runs
            // inside its caller (a window not yet running would miss its RequestStop)
            app.AddTimeout(TimeSpan.Zero, () =>
            {
                Volatile.Write(ref _pending, 0);
                if (!_closed) action();
                return false;
            });
        }
        catch (Exception) when (_closed)
        {
            // the explorer ended meanwhile: nothing is left to show
        }
    }

    /// <summary>Nothing more is shown (the explorer's window is gone; the load may still tell).</summary>
    public void Dispose() => _closed = true;
}
