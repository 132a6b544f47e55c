using System.CommandLine;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive report IMAGE [-o FILE.html]</c>: the image as one self-contained HTML page.</summary>
internal static class ReportCommand
{
    public static Command Create(SharedOptions shared, CliContext context)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var output = new Option<string?>("--output", "-o") { Description = "Write the page to this file (replaced whole once written); default: standard output" };
        var cmd = new Command("report", "One self-contained HTML page (no network): the summary, a treemap of the final tree by layer, the layers' chart, the wasted and removable files") { image, output };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, context.Error, img =>
        {
            var target = p.GetValue(output);
            // -o takes a file: "-o IMAGE" is an easy slip
            if (target is not null) CiCommand.RefuseToReplaceImage(img, target, context, Strings.Cli_ReportWouldReplaceImage);
            var analysis = CiCommand.Analyse(img, shared, p, context, jsonPath: null);
            var html = HtmlReport.Render(analysis.Model, analysis.Dive, analysis.Overlay, advice: analysis.Advice);
            if (target is null) context.Out.Write(html);
            else CiCommand.WriteFile(target, html, context);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
