using System.CommandLine;
using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive explain IMAGE PATH</c>: why PATH is visible, hidden or replaced, layer by layer.</summary>
internal static class ExplainCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var path = new Argument<string>("PATH") { Description = "A path in the image, as /etc/passwd or etc/passwd (it may no longer exist)" };
        var format = new Option<string>("--format", "-f") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var cmd = new Command("explain", "Why a path is visible, hidden or replaced: every layer that touched it, and how") { image, path, format };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var model = CommandLine.Load(img, shared, p, stderr);
            var wanted = Core.PathText.Unescape(p.GetValue(path)!); // as ls shows it: \xHH for a byte that is not UTF-8
            var e = Explainer.Explain(model, wanted);
            if (e is null)
            {
                ErrorReport.Note(stderr, img, Core.Text.Fill(Strings.Explain_NeverWritten, model.Name, Core.PathText.Escape(wanted)));
                return CommandLine.ExitRuleFailed;
            }
            if (p.GetValue(format) == "json") WriteJson(e, stdout);
            else
            {
                foreach (var line in Explainer.Describe(e)) stdout.WriteLine(line);
                // an engine's image or container: the real folder the visible version lives in (the last layer that
                // wrote it; a copy-up writes the whole file into that layer's diff/ too)
                if (e.Visible && HostFolder.Of(model).FirstOrDefault(f => f.Layer == e.Steps[^1].Layer) is { } folder)
                    stdout.WriteLine(Core.Text.Fill(Strings.Explain_HostFolder, Core.PathText.Escape(Path.Combine(folder.Diff, e.Path))));
            }
            return CommandLine.ExitOk;
        }));
        return cmd;
    }

    private static void WriteJson(Explanation e, TextWriter output)
    {
        using (var json = new JsonOutput(output))
        {
            var w = json.Writer;
            w.WriteStartObject();
            w.WriteString("pathEncoding", Core.PathText.JsonPathEncoding);
            Core.PathText.WriteJson(w, "path", "/" + e.Path);
            w.WriteBoolean("visible", e.Visible);
            w.WriteNumber("sinceLayer", e.SinceLayer);
            w.WriteNumber("storedBytes", e.StoredBytes);
            w.WriteNumber("visibleBytes", e.VisibleBytes);
            w.WriteNumber("removableBytes", e.RemovableBytes);
            w.WriteStartArray("steps");
            foreach (var s in e.Steps)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", s.Layer);
                w.WriteString("kind", s.Kind.ToString());
                w.WriteString("what", Explainer.Verb(s.Kind));
                if (s.Marker is not null) Core.PathText.WriteJson(w, "marker", "/" + s.Marker);
                if (s.Kind == StepKind.Modified) w.WriteString("changed", LsCommand.Describe(s.Changed));
                w.WriteStartObject("attributes");
                w.WriteString("type", RootfsListing.TypeName(s.Attributes.Type));
                w.WriteString("mode", Convert.ToString(s.Attributes.Mode, 8).PadLeft(4, '0'));
                w.WriteNumber("uid", s.Attributes.Uid);
                w.WriteNumber("gid", s.Attributes.Gid);
                w.WriteNumber("size", s.Attributes.Size);
                if (s.Attributes.LinkTarget is not null) Core.PathText.WriteJson(w, "linkTarget", s.Attributes.LinkTarget);
                if (s.Attributes.HardlinkTarget is not null) Core.PathText.WriteJson(w, "hardlinkTarget", "/" + s.Attributes.HardlinkTarget);
                w.WriteEndObject();
                w.WriteString("createdBy", s.CreatedBy);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }
}
