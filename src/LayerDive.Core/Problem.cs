using LayerDive.Core.Resources;

namespace LayerDive.Core;

/// <summary>What kind of oddity an image has that did not stop the analysis.</summary>
public enum ProblemKind
{
    /// <summary>A hardlink entry whose target does not exist at that point.</summary>
    HardlinkTargetMissing,
    /// <summary>A whiteout (<c>.wh.NAME</c>) for a path that does not exist in the layers below.</summary>
    OrphanWhiteout,
    /// <summary>An overlay-native whiteout (char device 0/0) or opaque xattr left in a layer tar; not applied.</summary>
    OverlayNativeMarker,
    /// <summary>The layer's bytes are of another compression than its media type says.</summary>
    MediaTypeMismatch,
    /// <summary>An entry name starting with '/', normalised to a relative path.</summary>
    AbsoluteName,
    /// <summary>An entry placed under a path that was not a directory; a directory was put in its place.</summary>
    ParentNotDirectory,
    /// <summary>A tar entry type that has no meaning in a root filesystem (tape volume, multi-volume).</summary>
    UnsupportedEntryType,
    /// <summary>Anything else worth telling.</summary>
    Other,
}

/// <summary>A per-path oddity: the image is still shown, the report says what was odd.</summary>
public sealed record Problem(ProblemKind Kind, int LayerIndex, string? Path, string Message)
{
    public override string ToString() =>
        Path is null ? $"{Text.Fill(Strings.Fault_InLayer, LayerIndex)}: {Message}" : $"{Text.Fill(Strings.Fault_InLayer, LayerIndex)}: {PathText.Escape(Path)}: {Message}";
}
