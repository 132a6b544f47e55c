using LayerDive.Core.Analysis;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.App;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using LayerDive.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>Runs the explorer in the terminal: a progress screen at once, the panes when the image is read.</summary>
public static class ExplorerApp
{
    /// <summary>
    /// Opens the explorer while the image is read: a progress screen at once, then the panes as soon as
    /// the bottom layer is merged; each layer above becomes browsable as it is merged, and the image's
    /// figures come in at the end. <paramref name="start"/> starts the load (on the UI loop's first
    /// iteration, right after the first frame: started earlier, the read slows the first frame, as on two
    /// cores the UI's start-up and the decompressors compete) and gives the dive metrics at its end.
    /// A bad image ends the explorer with its error, as the other commands give it.
    /// </summary>
    public static int Run(Func<string, int, string, ImageModel, string> extract,
        Func<IProgress<LoadProgress>, CancellationToken, (ImageLoad Load, Func<DiveMetricsResult> Dive)> start, string image, bool color,
        Func<ImageModel?>? compareWith = null, ExplorerSettings? settings = null)
    {
        LoadProgress? latest = null;
        using var cancel = new CancellationTokenSource();
        Task<(ImageLoad Load, Func<DiveMetricsResult> Dive)>? opening = null;

        using var app = Application.Create();
        app.Init();
        // The load tells (progress, a layer merged, its end) and the UI loop shows what is there then:
        // the progress screen's update first, the window's after. Progress comes as layers are merged,
        // and four times a second while a source streams (the loader's own timer, for the bytes read).
        Action? update = null;
        using var signal = new UiSignal(app, () => update?.Invoke());
        var progress = new Progress(p =>
        {
            Volatile.Write(ref latest, p);
            signal.Raise();
        });
        void Merged(object? sender, int layer) => signal.Raise();
        var loading = new Window { Title = $"LayerDive: {image}" };
        var label = new Label { X = 2, Y = 1, Text = UiStrings.Ui_Reading };
        loading.Add(label);
        void Start(object? sender, EventArgs e)
        {
            if (opening is not null) return;
            opening = Task.Run(() =>
            {
                var started = start(progress, cancel.Token);
                // added before the model is shown, then its state is read: no layer merged meanwhile is missed
                started.Load.Model.LayerMerged += Merged;
                started.Load.Completion.ContinueWith(_ => signal.Raise(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                return started;
            });
            opening.ContinueWith(_ => signal.Raise(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
        update = () =>
        {
            // only a change is drawn: a redraw costs the loop, and the two cores are the decompressors'
            if (Volatile.Read(ref latest) is { } p && ProgressText.Of(p) is var text && text != label.Text)
                label.Text = text;
            bool browsable = opening is { IsCompletedSuccessfully: true } o && (o.Result.Load.Model.LayersMerged > 0 || o.Result.Load.Completion.IsCompleted);
            if (browsable || opening?.IsFaulted == true) app.RequestStop(loading);
        };
        app.Iteration += Start; // the first iteration comes right after the first frame
        app.Run(loading);
        app.Iteration -= Start;
        update = null;
        loading.Dispose();
        if (opening is not { IsCompleted: true })
        {
            signal.Dispose();
            cancel.Cancel(); // the user quit while the image was being opened
            return 0;
        }
        var (load, dive) = opening.GetAwaiter().GetResult(); // an image that does not open: its error
        var model = load.Model;
        try
        {
            if (load.Completion.IsFaulted) load.Wait(); // nor one whose bottom layer is bad
            using var window = new ExplorerWindow(model, load.Completion.IsCompleted ? dive() : null, color, compareWith?.Invoke(), settings);
            window.ViewModel.Extract = (path, layer, folder) => extract(path, layer, folder, model);
            window.ViewModel.Viewer.ReadContent = (version, output, ct) => FileContent.Copy(load, version, output, ct);
            window.ViewModel.AdviceSource = () => Core.Analysis.Advice.Advisor.Analyze(model, load);
            bool failed = false;
            update = () =>
            {
                if (failed || window.Follow(load.Completion, dive, Volatile.Read(ref latest))) return;
                failed = true;
                app.RequestStop(window); // a bad layer further up: the explorer ends with its error
            };
            signal.Raise(); // what came while the window was made
            // a copy into the viewer (a thread of its own) is followed on a timer: its progress, its end
            using (new UiTicker(app, () =>
            {
                window.Tick();
                return true;
            }))
                app.Run(window);
        }
        finally
        {
            model.LayerMerged -= Merged;
            signal.Dispose();
        }
        if (!load.Completion.IsCompleted)
        {
            cancel.Cancel(); // the user quit while layers were still being read
            load.Completion.ContinueWith(_ => { }, TaskScheduler.Default).Wait();
            return 0;
        }
        load.Wait(); // throws the error of a bad layer
        return 0;
    }

    private sealed class Progress(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
