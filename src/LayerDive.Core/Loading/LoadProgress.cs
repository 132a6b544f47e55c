namespace LayerDive.Core.Loading;

/// <summary>
/// How far loading has come, and how long it took so far. <see cref="LayerCount"/> is 0 while a
/// one-pass source is still reading up to the image's config; <see cref="BytesTotal"/> is 0 when the
/// size is not known (standard input).
/// </summary>
public sealed record LoadProgress(int LayersMerged, int LayerCount, long BytesRead, long BytesTotal, TimeSpan Elapsed = default)
{
    /// <summary>The time left if the rest reads at the pace so far (null before anything is read, or with no known total).</summary>
    public TimeSpan? Remaining => BytesRead <= 0 || BytesTotal <= BytesRead ? null : Elapsed * ((double)(BytesTotal - BytesRead) / BytesRead);
}
