using System.CommandLine;
using System.Text;
using System.Text.Json;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive inspect IMAGE [--format text|json]</c>: the image's config as <c>docker image inspect</c>
/// names it (issue 15, item 4, its command): platform, created, author, the run settings (user,
/// working dir, entrypoint, cmd, env, ports, volumes, labels, stop signal, healthcheck) and the layers'
/// digests and diff ids. The settings are read from the config's own JSON, as the image holds them.
/// </summary>
internal static class InspectCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var format = new Option<string>("--format", "-f") { Description = "text or json (docker image inspect's names)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var cmd = new Command("inspect", "The image's config as docker image inspect shows it: platform, created, author, user, working dir, entrypoint, cmd, env, ports, volumes, labels, healthcheck, layers") { image, format };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var model = CommandLine.Load(img, shared, p, stderr);
            if (p.GetValue(format) != "json")
            {
                foreach (var line in ConfigListing.Lines(model)) stdout.WriteLine(line);
                return CommandLine.ExitOk;
            }
            using var config = JsonDocument.Parse(model.Config.Raw);
            var root = config.RootElement;
            WriteJson(model, root, ConfigListing.Property(root, "config") ?? ConfigListing.Property(root, "container_config"), stdout);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }

    private static void WriteJson(ImageModel model, JsonElement root, JsonElement? run, TextWriter output)
    {
        using (var json = new JsonOutput(output))
        {
            var w = json.Writer;
            w.WriteStartObject();
            w.WriteString("Id", model.Config.Digest);
            w.WriteStartArray("RepoTags");
            w.WriteStringValue(model.Name);
            w.WriteEndArray();
            foreach (var (name, key) in new[] { ("Created", "created"), ("Author", "author"), ("Architecture", "architecture"), ("Variant", "variant"), ("Os", "os"), ("OsVersion", "os.version") })
                if (ConfigListing.Property(root, key) is { } v) { w.WritePropertyName(name); v.WriteTo(w); }
            w.WriteStartObject("Config");
            if (run is { } r)
                foreach (var setting in ConfigListing.Settings)
                    if (ConfigListing.Property(r, setting) is { } v) { w.WritePropertyName(setting); v.WriteTo(w); }
            w.WriteEndObject();
            w.WriteStartObject("RootFS");
            w.WriteString("Type", "layers");
            w.WriteStartArray("Layers");
            foreach (var d in model.Config.DiffIds) w.WriteStringValue(d);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("LayerDigests");
            foreach (var l in model.Layers)
            {
                w.WriteStartObject();
                w.WriteNumber("Index", l.Index);
                w.WriteString("Digest", l.Digest);
                w.WriteString("DiffId", l.DiffId);
                w.WriteNumber("Size", l.Size);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }
}
