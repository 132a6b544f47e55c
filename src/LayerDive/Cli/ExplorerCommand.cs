using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Ui;

namespace LayerDive.Cli;

/// <summary><c>layerdive IMAGE</c> on a terminal: the interactive explorer.</summary>
internal static class ExplorerCommand
{
    public static int Run(string image, SharedOptions shared, ParseResult p, CliContext context)
    {
        bool color = !p.GetValue(shared.NoColor) && string.IsNullOrEmpty(context.GetEnvironment("NO_COLOR"));
        var problems = new List<string>();
        ImageLoad? started = null;
        string Extract(string path, int layer, string folder, Core.Model.ImageModel model)
        {
            var r = Extractor.Extract(started!, path, layer, Path.GetFullPath(folder, context.WorkingDirectory));
            return LayerDive.Core.Text.Format("Ui.Extracted", "/" + path, r.Files, r.Directories, r.Symlinks, folder) + (r.Skipped.Count > 0 ? $" ({r.Skipped.Count} skipped)" : "");
        }
        int code = Explorer.Run(Extract, (progress, ct) =>
        {
            var dive = new DiveMetrics();
            started = ImageLoader.Start(image, shared.LoadOptions(p) with { Observers = [dive], Progress = progress }, ct);
            return (started, dive.Result);
        }, image, color);
        if (started is { Completion.IsCompletedSuccessfully: true } done)
            problems.AddRange(done.Model.Problems.Take(20).Select(x => $"layerdive: warning: {image}: {x}"));
        started?.Dispose();
        if (!p.GetValue(shared.Quiet))
            foreach (var line in problems) context.Error.WriteLine(line);
        return code;
    }
}
