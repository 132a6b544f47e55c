namespace LayerDive.Core.Model;

/// <summary>What the image config says, as far as the model uses it.</summary>
public sealed record ImageConfig
{
    public string? Digest { get; init; }
    public string? Os { get; init; }
    public string? Architecture { get; init; }
    public string? Variant { get; init; }
    public DateTimeOffset? Created { get; init; }
    public IReadOnlyList<string> DiffIds { get; init; } = [];
    public IReadOnlyList<HistoryEntry> History { get; init; } = [];
    public IReadOnlyList<string> Env { get; init; } = [];
    public IReadOnlyList<string> Cmd { get; init; } = [];
    public IReadOnlyList<string> Entrypoint { get; init; } = [];
    public string? WorkingDir { get; init; }
    public string? User { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>The config document as it was stored.</summary>
    public ReadOnlyMemory<byte> Raw { get; init; }

    public string Platform => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
