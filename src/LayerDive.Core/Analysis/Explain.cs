using System.Globalization;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Analysis;

/// <summary>What one layer did to the path.</summary>
public enum StepKind
{
    Added,
    ReAdded,
    Modified,
    CopiedUp,
    WhitedOut,
    AncestorWhitedOut,
    CutOffByOpaque,
    AncestorReplaced,
}

/// <summary>One layer's effect on the path: what, the attributes after, what changed, and the marker or ancestor responsible.</summary>
public sealed record ExplainStep(int Layer, StepKind Kind, EntryAttributes Attributes, EntryAttributes? Before, AttributeChange Changed, string? Marker, string CreatedBy);

/// <summary>Why a path is visible, hidden or replaced (docs/explorer.md).</summary>
public sealed record Explanation(string Path, IReadOnlyList<ExplainStep> Steps, bool Visible, int SinceLayer, long StoredBytes, long VisibleBytes)
{
    /// <summary>The container's read-write layer, when the image is a container's (<c>container://</c>).</summary>
    public int? ContainerLayer { get; init; }

    public long RemovableBytes => StoredBytes - VisibleBytes;
}

public static class Explainer
{
    /// <summary>The path's story across the layers, or null when no layer ever touched it.</summary>
    public static Explanation? Explain(ImageModel model, string path)
    {
        if (model.Find(path) is not { IsRoot: false } node) return null;
        var steps = new List<ExplainStep>();
        ChangeRecord? previous = null;
        bool everRemoved = false;
        long stored = 0;
        foreach (var r in node.History)
        {
            string createdBy = r.Layer >= 0 && r.Layer < model.Layers.Count ? model.Layers[r.Layer].CreatedBy : "";
            EntryAttributes? before = previous is { IsPresent: true } p ? p.Attributes : null;
            switch (r.Kind)
            {
                case ChangeKind.Added:
                    steps.Add(new ExplainStep(r.Layer, everRemoved ? StepKind.ReAdded : StepKind.Added, r.Attributes, null, AttributeChange.None, null, createdBy));
                    break;
                case ChangeKind.Modified:
                    steps.Add(new ExplainStep(r.Layer, StepKind.Modified, r.Attributes, before, r.Changed, null, createdBy));
                    break;
                case ChangeKind.Unmodified:
                    steps.Add(new ExplainStep(r.Layer, StepKind.CopiedUp, r.Attributes, before, AttributeChange.None, null, createdBy));
                    break;
                case ChangeKind.Removed:
                    everRemoved = true;
                    var (kind, marker) = Removal(model, node, r);
                    steps.Add(new ExplainStep(r.Layer, kind, r.Attributes, null, AttributeChange.None, marker, createdBy));
                    break;
            }
            if (r.IsPresent && r.Attributes.Type == FileType.File && r.Attributes.HardlinkTarget is null) stored += r.Attributes.Size;
            previous = r;
        }
        var last = node.History[^1];
        int since = last.Layer;
        if (last.IsPresent)
            for (int i = node.History.Length - 1; i >= 0 && node.History[i].IsPresent; i--) since = node.History[i].Layer;
        // stored content stays visible while any name of it does (a hardlink elsewhere keeps it), as the overlay metrics count it
        var visibleInodes = OverlayMetrics.VisibleInodes(model);
        long visible = 0;
        foreach (var r in node.History)
            if (r.IsPresent && r.Attributes.Type == FileType.File && r.Attributes.HardlinkTarget is null && visibleInodes.Contains(node, r.Attributes))
                visible += r.Attributes.Size;
        return new Explanation(node.Path, steps, last.IsPresent, since, stored, visible) { ContainerLayer = LayerKinds.ContainerLayer(model) };
    }

    /// <summary>Which marker or ancestor removed the path in that record's layer.</summary>
    private static (StepKind, string?) Removal(ImageModel model, TreeNode node, ChangeRecord r)
    {
        var layer = r.Layer >= 0 && r.Layer < model.Layers.Count ? model.Layers[r.Layer] : null;
        switch (r.Cause)
        {
            case RemovalCause.Whiteout:
                return (StepKind.WhitedOut, layer?.Whiteouts.FirstOrDefault(w => w.HiddenPath == node.Path)?.MarkerPath);
            case RemovalCause.AncestorWhiteout:
                for (var up = node.Parent; up is { IsRoot: false } a; up = a.Parent)
                    if (layer?.Whiteouts.FirstOrDefault(w => w.HiddenPath == a.Path && !w.Orphan) is { } w)
                        return (StepKind.AncestorWhitedOut, w.MarkerPath);
                return (StepKind.AncestorWhitedOut, null);
            case RemovalCause.Opaque:
                for (var up = node.Parent; up is { } a; up = a.Parent)
                    if (layer?.OpaqueDirectories.Contains(a.Path) == true)
                        return (StepKind.CutOffByOpaque, Layers.OverlayMarkers.OpaqueFor(a.Path));
                return (StepKind.CutOffByOpaque, null);
            default:
                for (var up = node.Parent; up is { IsRoot: false } a; up = a.Parent)
                    if (a.RecordIn(r.Layer) is { IsPresent: true } ar && !ar.Attributes.IsDirectory)
                        return (StepKind.AncestorReplaced, a.Path);
                return (StepKind.AncestorReplaced, null);
        }
    }

    /// <summary>The explanation as lines of English text.</summary>
    public static List<string> Describe(Explanation e)
    {
        var lines = new List<string> { "/" + PathText.Escape(e.Path), "" };
        int width = e.Steps.Max(s => Verb(s.Kind).Length);
        foreach (var s in e.Steps)
            lines.Add($"  {Strings.Explain_LayerLabel} {s.Layer,-3} {Verb(s.Kind).PadRight(width)} {Detail(s)}");
        lines.Add("");
        var verdictLayer = e.Steps.LastOrDefault();
        var now = e.Steps.LastOrDefault(s => s.Kind != StepKind.CopiedUp) ?? e.Steps[^1];
        lines.Add(e.Visible
            ? now.Layer > e.SinceLayer
                ? Text.Fill(Strings.Explain_VisibleSinceAsNow, e.SinceLayer, now.Layer, Attributes(e.Steps[^1].Attributes))
                : Text.Fill(Strings.Explain_VisibleSince, e.SinceLayer, Attributes(e.Steps[^1].Attributes))
            : Text.Fill(Strings.Explain_HiddenSince, e.SinceLayer, Verb(verdictLayer!.Kind), verdictLayer.Marker is null ? "" : " (/" + PathText.Escape(verdictLayer.Marker) + ")"));
        if (e.ContainerLayer is int c && verdictLayer?.Layer == c)
            lines.Add(e.Visible ? Strings.Explain_WrittenInContainer : Strings.Explain_DeletedInContainer);
        string visible = !e.Visible && e.VisibleBytes > 0 ? Strings.Explain_VisibleAsHardlink : Strings.Explain_Visible;
        lines.Add(Text.Fill(Strings.Explain_HistoryCost, Reports.Units.HumanBytes(e.StoredBytes), Reports.Units.HumanBytes(e.VisibleBytes), visible, Reports.Units.HumanBytes(e.RemovableBytes)));
        return lines;
    }

    public static string Verb(StepKind k) => Text.Lookup(Strings.ResourceManager, "Step_" + k);

    private static string Detail(ExplainStep s) => s.Kind switch
    {
        StepKind.Added or StepKind.ReAdded or StepKind.CopiedUp => Attributes(s.Attributes),
        StepKind.Modified => Changes(s.Before, s.Attributes, s.Changed),
        _ => s.Marker is null ? "" : "/" + PathText.Escape(s.Marker),
    };

    private static string Attributes(EntryAttributes a)
    {
        string what = a.Type switch
        {
            FileType.File => $"{Reports.Units.HumanBytes(a.Size)}, xxh128 {a.ContentHash.ToString("x32", CultureInfo.InvariantCulture)[..12]}",
            FileType.Symlink => $"→ {a.LinkTarget}",
            FileType.CharDevice or FileType.BlockDevice => $"device {a.DevMajor},{a.DevMinor}",
            _ => "",
        };
        string link = a.HardlinkTarget is null ? "" : ", " + Text.Fill(Strings.Explain_HardlinkTo, "/" + a.HardlinkTarget);
        return $"{a.ModeString()} {a.Uid}:{a.Gid}{(what.Length > 0 ? ", " + what : "")}{link}";
    }

    private static string Changes(EntryAttributes? was, EntryAttributes after, AttributeChange c)
    {
        if (was is not { } before) return Attributes(after);
        var parts = new List<string>();
        if (c.HasFlag(AttributeChange.Type))
        {
            // a new type: its size, content and times say nothing more
            parts.Add($"type {Reports.RootfsListing.TypeName(before.Type)} -> {Reports.RootfsListing.TypeName(after.Type)}");
            c &= AttributeChange.Mode | AttributeChange.Uid | AttributeChange.Gid;
        }
        if (c.HasFlag(AttributeChange.Mode)) parts.Add($"mode {Convert.ToString(before.Mode, 8).PadLeft(4, '0')} -> {Convert.ToString(after.Mode, 8).PadLeft(4, '0')}");
        if (c.HasFlag(AttributeChange.Uid)) parts.Add($"uid {before.Uid} -> {after.Uid}");
        if (c.HasFlag(AttributeChange.Gid)) parts.Add($"gid {before.Gid} -> {after.Gid}");
        if (c.HasFlag(AttributeChange.Size)) parts.Add($"size {before.Size} -> {after.Size}");
        if (c.HasFlag(AttributeChange.Content)) parts.Add(Strings.Explain_ContentChanged);
        if (c.HasFlag(AttributeChange.LinkTarget)) parts.Add($"target {before.LinkTarget} -> {after.LinkTarget}");
        if (c.HasFlag(AttributeChange.Device)) parts.Add($"device {before.DevMajor},{before.DevMinor} -> {after.DevMajor},{after.DevMinor}");
        if (c.HasFlag(AttributeChange.MTime))
            parts.Add(c == AttributeChange.MTime ? Strings.Explain_MtimeOnly : "mtime");
        return string.Join(", ", parts);
    }
}
