using System.CommandLine;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive history IMAGE</c>: what <c>docker history --no-trunc</c> prints, newest first.</summary>
internal static class HistoryCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var cmd = new Command("history", "The image's history: every build step, with the size of the layer it made (as docker history --no-trunc)") { image };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var model = CommandLine.Load(img, shared, p, stderr);
            Write(model, DateTimeOffset.UtcNow, stdout);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }

    /// <summary>docker's table: IMAGE CREATED CREATED BY SIZE COMMENT, columns padded by 3 (tabwriter 10,1,3).</summary>
    internal static void Write(ImageModel model, DateTimeOffset now, TextWriter output)
    {
        // docker's columns, and the kind of each step (LayerKinds: base, RUN, COPY, container, other; metadata for a step without a layer)
        var rows = new List<string[]> { new[] { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT", "KIND" } };
        var kinds = Core.Analysis.LayerKinds.Of(model);
        var entries = model.Config.History.Count > 0
            ? model.Config.History
            : model.Layers.Select(l => new HistoryEntry(l.Index, null, "", null, null, false) { LayerIndex = l.Index }).ToList();
        for (int i = entries.Count - 1; i >= 0; i--)
        {
            var h = entries[i];
            long size = h.LayerIndex is int li && li < model.Layers.Count ? model.Layers[li].Size : 0;
            // the step's command and comment are the image's text: escaped, so they cannot drive the terminal
            rows.Add(
            [
                i == entries.Count - 1 ? Printable.OneLine(model.Config.Digest ?? "<missing>") : "<missing>",
                h.Created is { } c && c.Year > 1 ? Units.DockerDuration(now - c) + " ago" : "N/A",
                Printable.OneLine(h.CreatedBy),
                Units.DockerSize(size),
                Printable.OneLine(h.Comment ?? ""),
                h.LayerIndex is int k && k < kinds.Count ? Core.Analysis.LayerKinds.Label(kinds[k]) : Strings.Kind_Metadata,
            ]);
        }
        WriteTable(rows, output);
    }

    /// <summary>Go's tabwriter with minwidth 10, padding 3: each column as wide as its widest cell plus 3, at least 10.</summary>
    internal static void WriteTable(List<string[]> rows, TextWriter output)
    {
        int cols = rows[0].Length;
        var widths = new int[cols];
        foreach (var r in rows)
            for (int c = 0; c < cols - 1; c++)
                widths[c] = Math.Max(widths[c], Math.Max(10, r[c].Length + 3));
        foreach (var r in rows)
        {
            var line = new System.Text.StringBuilder();
            for (int c = 0; c < cols - 1; c++) line.Append(r[c].PadRight(widths[c]));
            line.Append(r[cols - 1]);
            output.WriteLine(line.ToString().TrimEnd());
        }
    }
}
