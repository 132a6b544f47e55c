namespace LayerDive.Ui.Viewer;

/// <summary>
/// Another content with a note after its last line (a file longer than the viewer copies: what is not
/// shown). The note is found without counting the lines: it is the line after the last one there is.
/// </summary>
public sealed class NotedContent(PagerContent inner, string note) : PagerContent
{
    public override string? Line(int index)
    {
        if (index < 0) return null;
        if (inner.Line(index) is { } line) return line;
        return index == 0 || inner.Line(index - 1) is not null ? note : null;
    }

    public override LineKind Kind(int index) => inner.Line(index) is null ? LineKind.Note : inner.Kind(index);

    public override bool Numbered => inner.Numbered;

    public override int? KnownCount => inner.KnownCount is int n ? n + 1 : null;

    public override int LastIndex() => inner.Line(0) is null ? 0 : inner.LastIndex() + 1;

    public override void Dispose()
    {
        inner.Dispose();
        base.Dispose();
    }
}
