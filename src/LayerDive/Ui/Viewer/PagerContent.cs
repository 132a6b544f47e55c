namespace LayerDive.Ui.Viewer;

/// <summary>What the pager shows: lines asked for one at a time, so that a large file is read only as far as it is looked at.</summary>
public abstract class PagerContent : IDisposable
{
    /// <summary>The line at <paramref name="index"/>, or null past the end.</summary>
    public abstract string? Line(int index);

    public virtual LineKind Kind(int index) => LineKind.Normal;

    /// <summary>Lines are numbered (a text file's are; a diff's and hex's are not).</summary>
    public virtual bool Numbered => false;

    /// <summary>The number of lines where known without reading to the end; else null.</summary>
    public virtual int? KnownCount => null;

    /// <summary>The index of the last line (reads to the end).</summary>
    public virtual int LastIndex()
    {
        if (KnownCount is int n) return Math.Max(0, n - 1);
        int i = 0;
        for (int step = 1 << 16; step > 0; step >>= 1)
            while (Line(i + step) is not null) i += step;
        return i;
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
