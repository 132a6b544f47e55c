namespace LayerDive.Core.Model;

/// <summary>How a layer changed a path, against the merged view of the layers below it (docs/merge.md); in a comparison of two images, how B differs from A.</summary>
public enum ChangeKind : byte
{
    /// <summary>The path did not exist in the merged view below.</summary>
    Added,
    /// <summary>It existed; type, mode, owner, size, content, link target, device or mtime differ.</summary>
    Modified,
    /// <summary>Re-written with identical content and metadata (a copy-up that changed nothing).</summary>
    Unmodified,
    /// <summary>Hidden by a whiteout, an opaque directory, or a type change that dropped a subtree.</summary>
    Removed,
}

/// <summary>Why a path was removed.</summary>
public enum RemovalCause : byte
{
    None,
    /// <summary>A <c>.wh.NAME</c> marker for this very path.</summary>
    Whiteout,
    /// <summary>An ancestor directory was whited out.</summary>
    AncestorWhiteout,
    /// <summary>Its parent directory was made opaque (<c>.wh..wh..opq</c>), or an ancestor below it was.</summary>
    Opaque,
    /// <summary>An ancestor directory was replaced by a non-directory.</summary>
    AncestorReplaced,
}

/// <summary>
/// One entry of a path's history: at <see cref="Layer"/> it became <see cref="Attributes"/> (or was
/// removed, in which case <see cref="Attributes"/> is what was removed).
/// </summary>
public readonly record struct ChangeRecord(int Layer, ChangeKind Kind, EntryAttributes Attributes, RemovalCause Cause = RemovalCause.None, AttributeChange Changed = AttributeChange.None)
{
    public bool IsPresent => Kind != ChangeKind.Removed;

    /// <summary>Modified, and only the mtime differs.</summary>
    public bool IsMTimeOnly => Kind == ChangeKind.Modified && Changed == AttributeChange.MTime;
}
