using System.CommandLine;
using LayerDive.Core;
using LayerDive.Core.Analysis;
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
            // a report is never worth the image (-o takes a file: "-o IMAGE" is an easy slip)
            var imageFile = Path.GetFullPath(img, context.WorkingDirectory);
            if (target is not null && File.Exists(imageFile) && Path.GetFullPath(target, context.WorkingDirectory) == imageFile)
                throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Cli_ReportWouldReplaceImage, target));
            var analysis = CiCommand.Analyse(img, shared, p, context, jsonPath: null);
            var html = HtmlReport.Render(analysis.Model, analysis.Dive, analysis.Overlay);
            if (target is null) context.Out.Write(html);
            else CiCommand.WriteFile(target, html, context);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
