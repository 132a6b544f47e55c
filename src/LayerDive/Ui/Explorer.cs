using LayerDive.Core.Loading;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using Terminal.Gui.App;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace LayerDive.Ui;

/// <summary>Runs the explorer in the terminal: a progress screen at once, the panes when the image is read.</summary>
public static class Explorer
{
    /// <summary>The lines of the Image Details pane.</summary>
    public static List<string> ImageLines(ImageModel model, DiveMetricsResult dive, OverlayMetricsResult overlay)
    {
        var lines = new List<string>
        {
            Text.Format("Ui.Image", model.Name, model.Config.Platform),
            Text.Format("Ui.TotalSize", Units.HumanBytes(dive.SizeBytes), model.Layers.Count),
            Text.Format("Ui.Efficiency", (dive.Efficiency * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), Units.HumanBytes(dive.WastedBytes)),
            Text.Format("Ui.Removable", Units.HumanBytes(overlay.RemovableBytes), (overlay.RemovablePercent * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)),
            "",
            Text.Get("Ui.InefficientHeader"),
        };
        lines.AddRange(dive.Inefficiencies.Select(i => $"{i.Count,-5}  {Units.HumanBytes(i.CumulativeSize),-12}  {i.Path}"));
        if (dive.Inefficiencies.Count == 0) lines.Add(Text.Get("Ui.None"));
        return lines;
    }

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
        Func<ImageModel?>? compareWith = null, Cli.ExplorerSettings? settings = null)
    {
        LoadProgress? latest = null;
        var progress = new Progress(p => Volatile.Write(ref latest, p));
        using var cancel = new CancellationTokenSource();
        Task<(ImageLoad Load, Func<DiveMetricsResult> Dive)>? opening = null;

        using var app = Application.Create();
        app.Init();
        var loading = new Window { Title = $"LayerDive: {image}" };
        var label = new Label { X = 2, Y = 1, Text = LayerDive.Core.Text.Get("Ui.Reading") };
        loading.Add(label);
        void Open() => opening ??= Task.Run(() => start(progress, cancel.Token));
        void Start(object? sender, EventArgs e) => Open();
        app.Iteration += Start; // the first iteration comes right after the first frame
        // The loader reports from its own threads; a ticker posts to the UI loop to show the latest report
        // and notice the changes, rather than a timeout on the loop itself (gui-cs/Terminal.Gui#3812
        // reports that a pending timeout keeps the loop from ever blocking, and the two cores are the
        // decompressors').
        using (Tick(app, () =>
        {
            Open();
            // only a change is drawn: a redraw costs the loop, and the two cores are the decompressors'
            if (Volatile.Read(ref latest) is { } p && ProgressText(p) is var text && text != label.Text)
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
        using var window = new ExplorerWindow(model, load.Completion.IsCompleted ? dive() : null, color, compareWith?.Invoke(), settings)
        {
            Extract = (path, layer, folder) => extract(path, layer, folder, model),
            ReadContent = (version, output) => FileContent.Copy(load, version, output),
        };
        using (Tick(app, () =>
        {
            if (window.IsComplete) return false;
            if (load.Completion.IsFaulted)
            {
                app.RequestStop(window); // a bad layer further up: the explorer ends with its error
                return false;
            }
            if (load.Completion.IsCompleted)
            {
                window.Completed(dive());
                return false;
            }
            window.Refresh(Volatile.Read(ref latest));
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

    /// <summary>
    /// "Reading layers: 3 of 9 merged, 310 MB of 514 MB read at 150 MB/s, about 2 s left"; while a stream
    /// is read up to the image's config, "Reading the image: 120 MB read at 30 MB/s"; with no known size, no total.
    /// </summary>
    public static string ProgressText(LoadProgress p)
    {
        var rate = p.Elapsed >= TimeSpan.FromSeconds(0.5) && p.BytesRead > 0
            ? LayerDive.Core.Text.Format("Ui.Rate", Units.HumanBytes((long)(p.BytesRead / p.Elapsed.TotalSeconds))) : "";
        return p.LayerCount == 0 ? LayerDive.Core.Text.Format("Ui.ProgressStream", Units.HumanBytes(p.BytesRead), rate)
            : p.BytesTotal <= 0 ? LayerDive.Core.Text.Format("Ui.ProgressNoTotal", p.LayersMerged, p.LayerCount, Units.HumanBytes(p.BytesRead), rate)
            : LayerDive.Core.Text.Format("Ui.Progress", p.LayersMerged, p.LayerCount, Units.HumanBytes(p.BytesRead), Units.HumanBytes(Math.Max(p.BytesTotal, p.BytesRead)),
                p.Remaining is { } left ? LayerDive.Core.Text.Format("Ui.Left", Math.Max(1, (int)Math.Ceiling(left.TotalSeconds))) : "", rate);
    }

    /// <summary>Runs <paramref name="tick"/> on the UI loop every 100 ms until it returns false or the ticker is disposed.</summary>
    private static Ticker Tick(IApplication app, Func<bool> tick) => new(app, tick);

    private sealed class Ticker : IDisposable
    {
        private readonly Timer _timer;
        private volatile bool _running = true;

        public Ticker(IApplication app, Func<bool> tick) =>
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

    private sealed class Progress(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
