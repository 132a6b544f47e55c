using System.Text.Json;

namespace LayerDive.Core.Sources;

/// <summary>Tolerant reads of manifest and config documents (docker, OCI and jib spell keys differently).</summary>
internal static class Json
{
    /// <summary>
    /// The most values (tokens) a document may hold. A parsed document costs 12 bytes of index per value
    /// beside its text, so a 64 MiB config of "0," would take a gigabyte; the largest real documents (a
    /// store's layers.json of tens of thousands of layers, a config with thousands of history entries)
    /// hold a few hundred thousand.
    /// </summary>
    public const int MaxValues = 2 << 20;

    public static JsonDocument Parse(byte[] bytes, string what)
    {
        try
        {
            // counted first, with nothing held: the document's index is built only when it is bounded
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = true, MaxDepth = 256 });
            for (int values = 0; reader.Read();)
                if (++values > MaxValues) throw new ImageException(FaultKind.Damaged, Text.Fill(global::LayerDive.Core.Resources.Strings.Document_TooManyValues, what, MaxValues));
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw new ImageException(FaultKind.Damaged, bytes.Length == 0 ? Text.Fill(global::LayerDive.Core.Resources.Strings.Json_Empty, what) : Text.Fill(global::LayerDive.Core.Resources.Strings.Json_Invalid, what, ex.Message.Split('.')[0]));
        }
    }

    /// <summary>What a JSON value is, for a message that says what was found instead of what was expected.</summary>
    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => "null", // JSON's own word, in every language
        JsonValueKind.Object => global::LayerDive.Core.Resources.Strings.Json_KindObject,
        JsonValueKind.String => global::LayerDive.Core.Resources.Strings.Json_KindString,
        JsonValueKind.Number => global::LayerDive.Core.Resources.Strings.Json_KindNumber,
        JsonValueKind.True or JsonValueKind.False => global::LayerDive.Core.Resources.Strings.Json_KindBoolean,
        JsonValueKind.Array => global::LayerDive.Core.Resources.Strings.Json_KindArray,
        _ => e.ValueKind.ToString().ToLowerInvariant(), // Undefined: never in a parsed document
    };

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
