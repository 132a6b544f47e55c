namespace LayerDive.Ui.Viewer;

/// <summary>Lines held in memory (an explanation, the image's config, the problems, a diff).</summary>
public sealed class ListContent(IReadOnlyList<string> lines, IReadOnlyList<LineKind>? kinds = null) : PagerContent
{
    public override string? Line(int index) => index >= 0 && index < lines.Count ? lines[index] : null;
    public override LineKind Kind(int index) => kinds is not null && index >= 0 && index < kinds.Count ? kinds[index] : LineKind.Normal;
    public override int? KnownCount => lines.Count;
}
