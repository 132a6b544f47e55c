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
    /// Reads the image (<paramref name="load"/>) while a progress screen shows, then opens the explorer.
    /// The read starts once the progress screen is up: started earlier, it slows the first frame (on
    /// two cores the UI's start-up and the decompressors compete) more than it speeds the rest.
    /// </summary>
    public static int Run(Func<string, int, string, ImageModel, string> extract, Func<IProgress<LoadProgress>, (ImageModel Model, DiveMetricsResult Dive)> load, string image, bool color)
    {
        LoadProgress? latest = null;
        var progress = new Progress(p => Volatile.Write(ref latest, p));
        Task<(ImageModel Model, DiveMetricsResult Dive)>? work = null;

        using var app = Application.Create();
        app.Init();
        var loading = new Window { Title = $"LayerDive: {image}" };
        var label = new Label { X = 2, Y = 1, Text = LayerDive.Core.Text.Get("Ui.Reading") };
        loading.Add(label);
        // the loader reports from its own threads; a timer on the UI loop shows the latest report and notices the end
        void Start(object? sender, EventArgs e) => work ??= Task.Run(() => load(progress));
        app.Iteration += Start; // the first iteration comes right after the first frame
        app.AddTimeout(TimeSpan.FromMilliseconds(100), () =>
        {
            work ??= Task.Run(() => load(progress));
            if (Volatile.Read(ref latest) is { } p)
                label.Text = LayerDive.Core.Text.Format("Ui.Progress", p.LayersMerged, p.LayerCount, Units.HumanBytes(p.BytesRead), Units.HumanBytes(p.BytesTotal));
            if (!work.IsCompleted) return true;
            app.RequestStop(loading);
            return false;
        });
        app.Run(loading);
        app.Iteration -= Start;
        loading.Dispose();
        if (work is not { IsCompleted: true }) return 0; // the user quit while the image was being read
        var (model, dive) = work.GetAwaiter().GetResult(); // a bad image: its error, as the other commands give it
        using var window = new ExplorerWindow(model, dive, color) { Extract = (path, layer, folder) => extract(path, layer, folder, model) };
        app.Run(window);
        return 0;
    }

    private sealed class Progress(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
