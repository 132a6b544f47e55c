using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive extract IMAGE PATH --output DIR [--layer N]</c>: a path of the merged tree, written under DIR only.</summary>
internal static class ExtractCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var path = new Argument<string>("PATH") { Description = "A file or directory of the merged tree; \\xHH for a byte that is not UTF-8, as ls shows it" };
        var output = new Option<string>("--output", "-o") { Description = "The folder to write into (created if missing); nothing is written outside it", Required = true };
        var layer = new Option<int?>("--layer", "-l") { Description = "The tree after this layer (default: the top layer)" };
        var cmd = new Command("extract", "Write a file or directory of the merged tree into a folder") { image, path, output, layer };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            using var load = CommandLine.Start(img, shared, p, stderr);
            int n = CommandLine.LayerIndex(load.Model, p.GetValue(layer));
            var result = Extractor.Extract(load, Core.PathText.Unescape(p.GetValue(path)!), n, p.GetValue(output)!); // as ls shows it
            stdout.WriteLine(Core.Text.Fill(Strings.Extract_Summary, result.Files, Units.HumanBytes(result.Bytes), result.Directories, result.Symlinks, p.GetValue(output)));
            foreach (var s in result.Skipped) ErrorReport.Note(stderr, null, Core.Text.Fill(Strings.Extract_Skipped, s));
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
