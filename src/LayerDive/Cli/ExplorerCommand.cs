using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Ui;
using LayerDive.Ui.Explorer;
using LayerDive.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive IMAGE</c> on a terminal: the interactive explorer.</summary>
internal static class ExplorerCommand
{
    /// <param name="compare">Compare mode (<c>layerdive diff A B</c>): image A and its platform, read first, whole; <paramref name="image"/> is B.</param>
    /// <param name="platform">B's platform, where it is not --platform.</param>
    public static int Run(string image, SharedOptions shared, ParseResult p, CliContext context, (string Image, string? Platform)? compare = null, string? platform = null)
    {
        bool color = !p.GetValue(shared.NoColor) && string.IsNullOrEmpty(context.GetEnvironment("NO_COLOR"));
        // dive's configuration and LayerDive's own: a bad value stops here, before the screen is taken
        var settings = ExplorerSettings.Load(p.GetValue(shared.Config), context.GetEnvironment, context.WorkingDirectory, p.GetValue(shared.Theme));
        if (settings.Language is { } language && string.IsNullOrEmpty(p.GetValue(shared.Lang))) LayerDive.Core.Text.Use(language);
        ImageLoad? started = null;
        string Extract(string path, int layer, string folder, Core.Model.ImageModel model)
        {
            var r = Extractor.Extract(started!, path, layer, Path.GetFullPath(folder, context.WorkingDirectory));
            var said = UiText.Fill(UiStrings.Ui_Extracted, "/" + path, r.Files, r.Directories, r.Symlinks, folder);
            return r.Skipped.Count > 0 ? UiText.Fill(UiStrings.Ui_ExtractedSkipped, said, r.Skipped.Count) : said;
        }
        Core.Model.ImageModel? before = null;
        bool beforeFailed = false;
        int code;
        try
        {
            code = ExplorerApp.Run(Extract, (progress, ct) =>
            {
                if (compare is { } c)
                {
                    try
                    {
                        var options = shared.LoadOptions(p);
                        before = ImageLoader.Load(c.Image, c.Platform is null ? options : options with { Source = options.Source with { Platform = c.Platform } }, ct);
                    }
                    catch
                    {
                        beforeFailed = true;
                        throw;
                    }
                }
                var dive = new DiveMetrics();
                var mine = shared.LoadOptions(p) with { Observers = [dive], Progress = progress };
                if (platform is not null) mine = mine with { Source = mine.Source with { Platform = platform } };
                started = ImageLoader.Start(image, mine, ct);
                return (started, dive.Result);
            }, image, color, compare is null ? null : () => before, settings);
        }
        catch (Exception ex) when (beforeFailed && compare is { } c)
        {
            // A could not be read: the error names A (the caller's guard would name B)
            started?.Dispose();
            return CommandLine.Guard(c.Image, context.Error, _ => throw ex);
        }
        // the problems are said once the explorer has given the terminal back
        if (started is { Completion.IsCompletedSuccessfully: true } done && !p.GetValue(shared.Quiet))
            foreach (var problem in done.Model.Problems.Take(20)) ErrorReport.Warning(context.Error, image, problem.ToString());
        started?.Dispose();
        return code;
    }
}
