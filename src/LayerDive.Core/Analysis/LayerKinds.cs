using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Analysis;

/// <summary>What made a layer, as the course notes teach it.</summary>
public enum LayerKind
{
    /// <summary>Brought by the base image (the bottom layers up to the base image's last).</summary>
    Base,
    /// <summary>Made by a RUN step.</summary>
    Run,
    /// <summary>Added by COPY or ADD.</summary>
    Copy,
    /// <summary>A container's read-write layer (<c>container://</c>).</summary>
    Container,
    /// <summary>Made otherwise (a commit, a tool without history).</summary>
    Other,
}

/// <summary>
/// The kind of each layer, from the config's history. The rule (also in the README and the explorer's
/// help): a container's layer is the one LayerDive put on top of a container's image; the base image's
/// layers are those below the last metadata-only CMD or ENTRYPOINT step that has layers after it (where
/// a base image ends, its CMD is written), else layer 0 when it is a root filesystem added whole
/// (<c>ADD file:... in /</c>, or no history); a layer whose step is <c>RUN</c> (or a legacy
/// <c>/bin/sh -c</c> without <c>#(nop)</c>) is RUN; <c>COPY</c> or <c>ADD</c> is COPY; anything else is other.
/// Steps that made no layer (ENV, LABEL, CMD, ...) are metadata-only and have no layer to label.
/// </summary>
public static class LayerKinds
{
    /// <summary>The container's read-write layer (<c>container://</c>), if the image is a container's.</summary>
    public static int? ContainerLayer(ImageModel model) =>
        model.Layers.LastOrDefault(l => l.Origin == LayerOrigin.Container)?.Index;

    public static IReadOnlyList<LayerKind> Of(ImageModel model)
    {
        int baseEnd = BaseLayers(model);
        return model.Layers.Select(l =>
            l.Origin == LayerOrigin.Container ? LayerKind.Container
            : l.Index < baseEnd ? LayerKind.Base
            : Step(l.CreatedBy)).ToList();
    }

    /// <summary>How many bottom layers the base image brought (0 when it cannot be told).</summary>
    public static int BaseLayers(ImageModel model)
    {
        var history = model.Config.History;
        int end = 0;
        for (int i = 0; i < history.Count; i++)
        {
            var h = history[i];
            if (h.LayerIndex is not null || !IsCmd(h.CreatedBy)) continue;
            // the layers made before this step, if layers of the image's own come after it
            int before = history.Take(i).Count(x => x.LayerIndex is not null);
            bool after = history.Skip(i + 1).Any(x => x.LayerIndex is int layer && (layer >= model.Layers.Count || model.Layers[layer].Origin == LayerOrigin.Image));
            if (before > 0 && after) end = before;
        }
        if (end > 0) return end;
        if (model.Layers.Count > 1 && model.Layers[0].CreatedBy is var first
            && (first.Length == 0 || first.Contains("ADD file:", StringComparison.Ordinal) && first.Contains(" in / ", StringComparison.Ordinal) | first.EndsWith(" in /", StringComparison.Ordinal)))
            return 1;
        return 0;
    }

    private static bool IsCmd(string createdBy)
    {
        var s = Strip(createdBy);
        return s.StartsWith("CMD", StringComparison.Ordinal) || s.StartsWith("ENTRYPOINT", StringComparison.Ordinal);
    }

    /// <summary>The step's instruction without the legacy builder's shell prefix.</summary>
    private static string Strip(string createdBy)
    {
        var s = createdBy.Trim();
        if (s.StartsWith("/bin/sh -c #(nop) ", StringComparison.Ordinal)) return s["/bin/sh -c #(nop) ".Length..].TrimStart();
        if (s.StartsWith("/bin/sh -c ", StringComparison.Ordinal)) return "RUN " + s["/bin/sh -c ".Length..];
        if (s.StartsWith("|", StringComparison.Ordinal)) return "RUN " + s; // BuildKit's RUN with build arguments: "|1 ARG=x /bin/sh -c ..."
        return s;
    }

    public static LayerKind Step(string createdBy)
    {
        var s = Strip(createdBy);
        if (s.StartsWith("RUN", StringComparison.Ordinal)) return LayerKind.Run;
        if (s.StartsWith("COPY", StringComparison.Ordinal) || s.StartsWith("ADD", StringComparison.Ordinal)) return LayerKind.Copy;
        return LayerKind.Other;
    }

    /// <summary>The kind as the panes and reports write it (base, RUN, COPY, container, other).</summary>
    public static string Label(LayerKind k) => Text.Lookup(Strings.ResourceManager, "Kind_" + k);
}
