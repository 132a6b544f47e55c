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
        var progress = new Progress(p => Volatile.Write(ref latest, p));
        using var cancel = new CancellationTokenSource();
        Task<(ImageLoad Load, Func<DiveMetricsResult> Dive)>? opening = null;

        using var app = Application.Create();
        app.Init();
        var loading = new Window { Title = $"LayerDive: {image}" };
        var label = new Label { X = 2, Y = 1, Text = UiStrings.Ui_Reading };
        loading.Add(label);
        void Open() => opening ??= Task.Run(() => start(progress, cancel.Token));
        void Start(object? sender, EventArgs e) => Open();
        app.Iteration += Start; // the first iteration comes right after the first frame
        using (new UiTicker(app, () =>
        {
            Open();
            // only a change is drawn: a redraw costs the loop, and the two cores are the decompressors'
            if (Volatile.Read(ref latest) is { } p && ProgressText.Of(p) is var text && text != label.Text)
                label.Text = text;
            bool browsable = opening is { IsCompletedSuccessfully: true } o && (o.Result.Load.Model.LayersMerged > 0 || o.Result.Load.Completion.IsCompleted);
            if (!browsable && opening?.IsFaulted != true) return true;
            app.RequestStop(loading);
            return false;
        }))
            app.Run(loading);
        app.Iteration -= Start;
        loading.Dispose();
        if (opening is not { IsCompleted: true })
        {
            cancel.Cancel(); // the user quit while the image was being opened
            return 0;
        }
        var (load, dive) = opening.GetAwaiter().GetResult(); // an image that does not open: its error
        if (load.Completion.IsFaulted) load.Wait(); // nor one whose bottom layer is bad
        var model = load.Model;
        using var window = new ExplorerWindow(model, load.Completion.IsCompleted ? dive() : null, color, compareWith?.Invoke(), settings);
        window.ViewModel.Extract = (path, layer, folder) => extract(path, layer, folder, model);
        window.ViewModel.Viewer.ReadContent = (version, output, ct) => FileContent.Copy(load, version, output, ct);
        bool failed = false;
        using (new UiTicker(app, () =>
        {
            if (!window.IsComplete && !failed)
            {
                if (load.Completion.IsFaulted)
                {
                    failed = true;
                    app.RequestStop(window); // a bad layer further up: the explorer ends with its error
                    return false;
                }
                if (load.Completion.IsCompleted) window.Completed(dive());
                else window.Refresh(Volatile.Read(ref latest));
            }
            window.Tick(); // a copy into the viewer: its progress, its end
            return true;
        }))
            app.Run(window);
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
