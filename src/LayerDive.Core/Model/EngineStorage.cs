namespace LayerDive.Core.Model;

/// <summary>
/// An engine's storage of an image or container, as its inspect tells (<c>GraphDriver</c>): the driver
/// (overlay2, vfs, ...) and its data: for overlay2 <c>LowerDir</c> (top first, colon-separated),
/// <c>UpperDir</c>, <c>WorkDir</c>, <c>MergedDir</c>.
/// </summary>
internal sealed record EngineStorage(string Driver, IReadOnlyDictionary<string, string> Data)
{
    /// <summary>The folders of the image's layers, bottom first (the last is the container's upper directory when there is one).</summary>
    public IReadOnlyList<string> LayerFolders()
    {
        var folders = new List<string>();
        if (Data.TryGetValue("LowerDir", out var lower) && lower.Length > 0)
            folders.AddRange(lower.Split(':', StringSplitOptions.RemoveEmptyEntries).Reverse());
        if (Data.TryGetValue("UpperDir", out var upper) && upper.Length > 0) folders.Add(upper);
        return folders;
    }
}
