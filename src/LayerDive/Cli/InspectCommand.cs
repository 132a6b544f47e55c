using System.CommandLine;
using System.Text;
using System.Text.Json;
using LayerDive.Core.Model;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive inspect IMAGE [--format text|json]</c>: the image's config as <c>docker image inspect</c>
/// names it (issue 15, item 4, its command): platform, created, author, the run settings (user,
/// working dir, entrypoint, cmd, env, ports, volumes, labels, stop signal, healthcheck) and the layers'
/// digests and diff ids. The settings are read from the config's own JSON, as the image holds them.
/// </summary>
internal static class InspectCommand
{
    // the run settings of a config's "config" object, in docker image inspect's order
    private static readonly string[] Settings = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell", "ArgsEscaped"];

    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var format = new Option<string>("--format", "-f") { Description = "text or json (docker image inspect's names)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var cmd = new Command("inspect", "The image's config as docker image inspect shows it: platform, created, author, user, working dir, entrypoint, cmd, env, ports, volumes, labels, healthcheck, layers") { image, format };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var model = CommandLine.Load(img, shared, p, stderr);
            using var config = JsonDocument.Parse(model.Config.Raw);
            var root = config.RootElement;
            var run = Property(root, "config") ?? Property(root, "container_config");
            if (p.GetValue(format) == "json") WriteJson(model, root, run, stdout);
            else foreach (var line in Lines(model, root, run)) stdout.WriteLine(line);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }

    /// <summary>A property by name, case-insensitively (older writers spell "config" as "Config"), or null.</summary>
    private static JsonElement? Property(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in e.EnumerateObject())
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind != JsonValueKind.Null) return p.Value;
        return null;
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
                if (Property(root, key) is { } v) { w.WritePropertyName(name); v.WriteTo(w); }
            w.WriteStartObject("Config");
            if (run is { } r)
                foreach (var setting in Settings)
                    if (Property(r, setting) is { } v) { w.WritePropertyName(setting); v.WriteTo(w); }
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

    /// <summary>The text form's lines (the explorer's Image Config view shows the same).</summary>
    public static List<string> Lines(ImageModel model)
    {
        using var config = JsonDocument.Parse(model.Config.Raw);
        var root = config.RootElement;
        return Lines(model, root, Property(root, "config") ?? Property(root, "container_config"));
    }

    private static List<string> Lines(ImageModel model, JsonElement root, JsonElement? run)
    {
        var output = new List<string>();
        var c = model.Config;
        output.Add($"Image:         {model.Name}");
        output.Add($"Id:            {c.Digest}");
        output.Add($"Platform:      {c.Platform}");
        if (Property(root, "created") is { ValueKind: JsonValueKind.String } created) output.Add($"Created:       {created.GetString()}");
        if (Property(root, "author") is { ValueKind: JsonValueKind.String } author) output.Add($"Author:        {author.GetString()}");
        if (run is { } r)
            foreach (var setting in Settings)
            {
                if (Property(r, setting) is not { } v) continue;
                switch (v.ValueKind)
                {
                    case JsonValueKind.Array when setting == "Env":
                        output.Add($"{setting}:");
                        foreach (var e in v.EnumerateArray()) output.Add($"  {Text(e)}");
                        break;
                    case JsonValueKind.Array:
                        output.Add($"{setting + ":",-15}{string.Join(' ', v.EnumerateArray().Select(Quoted))}");
                        break;
                    case JsonValueKind.Object when setting is "ExposedPorts" or "Volumes":
                        output.Add($"{setting + ":",-15}{string.Join(' ', v.EnumerateObject().Select(o => o.Name))}");
                        break;
                    case JsonValueKind.Object when setting == "Labels":
                        output.Add($"{setting}:");
                        foreach (var o in v.EnumerateObject()) output.Add($"  {o.Name}={Text(o.Value)}");
                        break;
                    case JsonValueKind.Object:
                        output.Add($"{setting + ":",-15}{v.GetRawText()}");
                        break;
                    default:
                        output.Add($"{setting + ":",-15}{Text(v)}");
                        break;
                }
            }
        output.Add("Layers:");
        foreach (var l in model.Layers)
            output.Add($"  {l.Index,3}  {l.Digest ?? "-"}  {l.DiffId}");
        return output;
    }

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    private static string Quoted(JsonElement e) => e.ValueKind == JsonValueKind.String && e.GetString() is { } s && !s.Contains(' ') && s.Length > 0 ? s : e.GetRawText();
}
