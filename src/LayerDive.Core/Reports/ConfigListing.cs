using System.Text.Json;
using LayerDive.Core.Model;

namespace LayerDive.Core.Reports;

/// <summary>
/// The image's config as <c>docker image inspect</c> names it, read from the config's own JSON: platform,
/// created, author, the run settings (user, working dir, entrypoint, cmd, env, ports, volumes, labels,
/// stop signal, healthcheck) and the layers' digests and diff ids. <c>layerdive inspect</c> prints these
/// lines and the explorer's Image Config view shows them.
/// </summary>
internal static class ConfigListing
{
    /// <summary>The run settings of a config's "config" object, in docker image inspect's order.</summary>
    public static readonly IReadOnlyList<string> Settings = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell", "ArgsEscaped"];

    /// <summary>A property by name, case-insensitively (older writers spell "config" as "Config"), or null.</summary>
    public static JsonElement? Property(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in e.EnumerateObject())
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind != JsonValueKind.Null) return p.Value;
        return null;
    }

    /// <summary>The text form's lines.</summary>
    public static List<string> Lines(ImageModel model)
    {
        using var config = JsonDocument.Parse(model.Config.Raw);
        var root = config.RootElement;
        var run = Property(root, "config") ?? Property(root, "container_config");
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
        // every value is the image's own text: escaped, so an Env or a label cannot drive the terminal or add lines
        return output.ConvertAll(Printable.OneLine);
    }

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    private static string Quoted(JsonElement e) => e.ValueKind == JsonValueKind.String && e.GetString() is { } s && !s.Contains(' ') && s.Length > 0 ? s : e.GetRawText();
}
