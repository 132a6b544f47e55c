namespace LayerDive.Core;

/// <summary>
/// What kind of fault stopped a read, so that a caller can act on it without reading its text (the
/// kinds of containerd's errdefs). A source that does not have an image, or cannot be reached, is
/// <see cref="NotFound"/> or <see cref="Unreachable"/>: a bare image name then tries the next source.
/// </summary>
public enum FaultKind
{
    /// <summary>What was named is not there: a file, an image, a container, a path in the tree, or a blob the image names.</summary>
    NotFound,

    /// <summary>A service (an engine, a registry, a store, a helper) cannot be reached or stopped serving; trying again may work.</summary>
    Unreachable,

    /// <summary>Credentials are missing, refused, or would be sent where they must not go.</summary>
    Unauthorized,

    /// <summary>Bytes that are not what they should be: a cut stream, a malformed header or document.</summary>
    Damaged,

    /// <summary>Bytes whose digest is not the one the image names for them.</summary>
    DigestMismatch,

    /// <summary>A well-formed input that LayerDive does not read, or a read the source cannot give.</summary>
    Unsupported,

    /// <summary>What the user asked for, or configured, cannot be used as it is.</summary>
    BadArgument,
}
