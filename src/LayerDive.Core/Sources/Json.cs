using System.Text.Json;

namespace LayerDive.Core.Sources;

/// <summary>Tolerant reads of manifest and config documents (docker, OCI and jib spell keys differently).</summary>
internal static class Json
{
    public static JsonDocument Parse(byte[] bytes, string what)
    {
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw new ImageException(bytes.Length == 0 ? Text.Format("Error.DocumentIsEmpty", what) : Text.Format("Error.IsNotJSON", what, ex.Message.Split('.')[0]));
        }
    }

    /// <summary>A property by name, case-insensitively (jib writes "config"/"repoTags"/"layers").</summary>
    public static JsonElement? Get(this JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        if (e.TryGetProperty(name, out var exact)) return exact;
        foreach (var p in e.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    public static string? String(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static long? Long(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var l) ? l : null;

    public static bool Bool(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.True };

    public static IEnumerable<JsonElement> Array(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.Array } v ? v.EnumerateArray() : [];

    public static List<string> Strings(this JsonElement e, string name) =>
        e.Array(name).Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList();

    public static Dictionary<string, string> StringMap(this JsonElement e, string name)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.Get(name) is { ValueKind: JsonValueKind.Object } o)
            foreach (var p in o.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) d[p.Name] = p.Value.GetString()!;
        return d;
    }

    public static DateTimeOffset? Time(this JsonElement e, string name) =>
        e.String(name) is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
