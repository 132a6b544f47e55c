using System.CommandLine;
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
        int code = Explorer.Run(progress =>
        {
            var dive = new DiveMetrics();
            var model = ImageLoader.Load(image, shared.LoadOptions(p) with { Observers = [dive], Progress = progress });
            problems.AddRange(model.Problems.Take(20).Select(x => $"layerdive: warning: {image}: {x}"));
            return (model, Explorer.ImageLines(model, dive.Result(), OverlayMetrics.Compute(model)));
        }, image, color);
        if (!p.GetValue(shared.Quiet))
            foreach (var line in problems) context.Error.WriteLine(line);
        return code;
    }
}
