using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Reports;
using LayerDive.Core.Sources;

namespace LayerDive.Cli;

/// <summary><c>layerdive platforms IMAGE</c>: the images and platforms an archive or index holds.</summary>
internal static class PlatformsCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var cmd = new Command("platforms", "List the platforms (and images) of a multi-platform index or archive") { image };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var options = shared.LoadOptions(p).Source;
            var rows = new List<string[]> { new[] { "PLATFORM", "DIGEST", "NAME" } };
            foreach (var c in SourceCatalog.List(img, options))
            {
                // a platform the index names whose manifest is absent says so beside it
                string platform = c.IsArtifact ? c.Platform is { } named ? $"{named} ({c.ArtifactType})" : $"(artifact: {c.ArtifactType})" : c.Platform!;
                // every cell is the image's own text: escaped
                rows.Add([Printable.OneLine(platform), Printable.OneLine(c.Digest ?? "-"), Printable.OneLine(c.Name)]);
            }
            HistoryCommand.WriteTable(rows, stdout);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
