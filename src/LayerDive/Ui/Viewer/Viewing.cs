using LayerDive.Core.Loading;

namespace LayerDive.Ui.Viewer;

/// <summary>
/// What the viewer shows: a file's version (content, hex or diff) with its bytes, copied once from the
/// layer and kept while the file is shown (hex, text and diff are views of the same copy), or lines with
/// no file behind them.
/// </summary>
public sealed record Viewing(string Title, FileVersion? Version, int Layer, Stream? Bytes = null)
{
    public bool Diff { get; init; }
    public bool Hex { get; init; }
    public bool Binary { get; init; }
    /// <summary>The copy holds the file's first part only: the file is longer than the viewer copies.</summary>
    public bool Limited { get; init; }
}
