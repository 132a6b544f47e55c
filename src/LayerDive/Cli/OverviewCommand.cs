using System.CommandLine;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive IMAGE</c> without a verb: a summary of the image and of what each layer did.
/// (The interactive explorer takes this place on a terminal once it exists.)
/// </summary>
internal static class OverviewCommand
{
    public static int Run(string image, SharedOptions shared, ParseResult p, TextWriter stdout, TextWriter stderr)
    {
        var model = CommandLine.Load(image, shared, p, stderr);
        return Print(model, stdout);
    }

    public static int Print(ImageModel model, TextWriter stdout)
    {
        // the name, platform, digest and commands are the image's own text: escaped
        stdout.WriteLine($"Image:    {Printable.OneLine(model.Name)} ({model.SourceKind}, {Printable.OneLine(model.Config.Platform)})");
        stdout.WriteLine($"Config:   {Printable.OneLine(model.Config.Digest ?? "")}");
        stdout.WriteLine($"Size:     {Units.HumanBytes(model.SizeBytes)} in {model.Layers.Count} layers, {model.Layers.Sum(l => l.CompressedSize)} bytes stored");
        stdout.WriteLine();
        var rows = new List<string[]> { new[] { "LAYER", "SIZE", "STORED", "ADDED", "MODIFIED", "REMOVED", "UNMODIFIED", "VERIFIED", "CREATED BY" } };
        foreach (var l in model.Layers)
            rows.Add(
            [
                l.Index.ToString(), Units.HumanBytes(l.Size), $"{Units.HumanBytes(l.CompressedSize)} {Decompression.Name(l.Compression)}{(l.EStargz ? " (estargz)" : "")}",
                l.Added.ToString(), l.Modified.ToString(), l.Removed.ToString(), l.Unmodified.ToString(),
                l.Verified ? "yes" : "no", OneLine(l.CreatedBy),
            ]);
        HistoryCommand.WriteTable(rows, stdout);
        return CommandLine.ExitOk;
    }

    private static string OneLine(string s)
    {
        s = Printable.OneLine(s.ReplaceLineEndings(" "));
        return s.Length > 80 ? s[..79] + "…" : s;
    }
}
