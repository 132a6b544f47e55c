namespace LayerDive.Core.Model;

/// <summary>Where a layer came from.</summary>
public enum LayerOrigin
{
    /// <summary>One of the image's layers.</summary>
    Image,

    /// <summary>A container's read-write layer, put on top of its image's layers (<c>container://</c>).</summary>
    Container,
}
