using LayerDive.Core.Model;

namespace LayerDive.Tests.Support;

/// <summary>Reading the model as a user would: what is visible, with what, and how each layer changed it.</summary>
public static class ModelAssertions
{
    public static bool Visible(this ImageModel m, string path, int? layer = null) =>
        m.Find(path)?.IsVisibleAt(layer ?? m.TopLayer) ?? false;

    public static EntryAttributes Attrs(this ImageModel m, string path, int? layer = null)
    {
        var node = m.Find(path) ?? throw new Xunit.Sdk.XunitException($"{path} was never in the image");
        var state = node.StateAt(layer ?? m.TopLayer);
        Assert.True(state is { IsPresent: true }, $"{path} is not visible after layer {layer ?? m.TopLayer}");
        return state!.Value.Attributes;
    }

    /// <summary>The status layer <paramref name="layer"/> gave the path, or null when it did not touch it.</summary>
    public static ChangeKind? Status(this ImageModel m, string path, int layer) => m.Find(path)?.RecordIn(layer)?.Kind;

    public static ChangeRecord Record(this ImageModel m, string path, int layer) =>
        m.Find(path)?.RecordIn(layer) ?? throw new Xunit.Sdk.XunitException($"layer {layer} did not touch {path}");

    /// <summary>Every visible path after the layer, sorted (the root left out).</summary>
    public static List<string> VisiblePaths(this ImageModel m, int? layer = null) =>
        m.Walk(layer ?? m.TopLayer).Where(n => !n.IsRoot).Select(n => n.Path).Order(StringComparer.Ordinal).ToList();
}
