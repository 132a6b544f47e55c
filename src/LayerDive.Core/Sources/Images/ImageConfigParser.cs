using System.Security.Cryptography;
using System.Text.Json;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Images;

/// <summary>An image config (OCI, Docker, or a legacy v1 layer's json) read into an <see cref="ImageConfig"/>.</summary>
internal static class ImageConfigParser
{
    /// <summary>Parses a config; <paramref name="digest"/> is the one it was named by, else its sha256 is taken.</summary>
    public static ImageConfig Parse(byte[] bytes, string? digest, string what)
    {
        using var doc = Json.Parse(bytes, what);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_ConfigNotObject, what, Json.Describe(root)));
        var rootfs = root.Get("rootfs");
        var diffIds = rootfs?.Strings("diff_ids") ?? [];
        var history = new List<HistoryEntry>();
        int layer = 0, index = 0;
        foreach (var h in root.Array("history"))
        {
            bool empty = h.Bool("empty_layer");
            history.Add(new HistoryEntry(index++, h.Time("created"), h.String("created_by") ?? "", h.String("comment"), h.String("author"), empty)
            {
                LayerIndex = empty ? null : layer++,
            });
        }
        var cfg = root.Get("config") is { ValueKind: JsonValueKind.Object } c ? c : default;
        bool has = cfg.ValueKind == JsonValueKind.Object;
        return new ImageConfig
        {
            Digest = digest ?? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Os = root.String("os"),
            Architecture = root.String("architecture"),
            Variant = root.String("variant"),
            Created = root.Time("created"),
            DiffIds = diffIds,
            History = history,
            Env = has ? cfg.Strings("Env") : [],
            Cmd = has ? cfg.Strings("Cmd") : [],
            Entrypoint = has ? cfg.Strings("Entrypoint") : [],
            WorkingDir = has ? cfg.String("WorkingDir") : null,
            User = has ? cfg.String("User") : null,
            Labels = has ? cfg.StringMap("Labels") : new Dictionary<string, string>(),
            Raw = bytes,
        };
    }

    /// <summary>The diff id the config gives layer <paramref name="index"/>, if it lists one.</summary>
    public static string? DiffId(ImageConfig config, int index) => index < config.DiffIds.Count ? config.DiffIds[index] : null;

    /// <summary>A manifest's layers and a config's diff ids must be as many (a config may list none).</summary>
    public static void CheckLayerCount(int layers, ImageConfig config)
    {
        if (config.DiffIds.Count > 0 && config.DiffIds.Count != layers)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_LayerCountMismatch, layers, config.DiffIds.Count));
    }
}
