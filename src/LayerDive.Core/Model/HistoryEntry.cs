namespace LayerDive.Core.Model;

/// <summary>One entry of the config's history (also those that made no layer: ENV, LABEL, CMD...).</summary>
public sealed record HistoryEntry(
    int Index,
    DateTimeOffset? Created,
    string CreatedBy,
    string? Comment,
    string? Author,
    bool EmptyLayer)
{
    /// <summary>The layer this entry made, or null for an entry without a layer.</summary>
    public int? LayerIndex { get; init; }
}
