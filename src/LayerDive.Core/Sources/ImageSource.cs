using LayerDive.Core.Model;

namespace LayerDive.Core.Sources;

/// <summary>
/// A place images live, opened: the images it holds (names, platforms), each resolved on demand to its
/// config and layer descriptors together with the reader of their bytes (<see cref="ImageCandidate.Resolve"/>).
/// </summary>
internal interface IImageSource : IDisposable
{
    /// <summary>The kind, as <c>--source</c> names it (docker-archive, oci, docker, podman, ...).</summary>
    string Kind { get; }

    /// <summary>Where the image was found, for the model and its reports (a path, an engine's address).</summary>
    string Location { get; }

    /// <summary>Every image and artifact the source holds, in its order.</summary>
    IReadOnlyList<ImageCandidate> Candidates { get; }

    /// <summary>A note for the user on how the image was found (which engine served a bare name), or null.</summary>
    string? Note => null;

    /// <summary>Where an engine keeps the image on disk (its GraphDriver), or null.</summary>
    EngineStorage? Storage => null;
}

/// <summary>One image a source holds (one entry of manifest.json, one manifest of an index, an engine's image).</summary>
internal sealed class ImageCandidate
{
    public required string Name { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? ManifestDigest { get; init; }
    public string? ConfigDigest { get; init; }
    public PlatformInfo? Platform { get; init; }
    /// <summary>An artifact (signature, SBOM, attestation): listed, never analysed.</summary>
    public bool IsArtifact { get; init; }
    public string? ArtifactType { get; init; }

    /// <summary>Reads the image's config and names its layers, with the reader of their bytes; cancellable where it waits or reads ahead.</summary>
    public required Func<CancellationToken, ResolvedImage> Resolve { get; init; }

    public bool IsTagged => Tags.Count > 0;

    /// <summary>The same candidate, resolved another way (a one-pass source reads on until it can resolve).</summary>
    public ImageCandidate WithResolve(Func<CancellationToken, ResolvedImage> resolve) => new()
    {
        Name = Name, Tags = Tags, ManifestDigest = ManifestDigest, ConfigDigest = ConfigDigest, Platform = Platform,
        IsArtifact = IsArtifact, ArtifactType = ArtifactType, Resolve = resolve,
    };
}

/// <summary>The image chosen: its config, its layers (not yet read), and the reader that reads them.</summary>
internal sealed record ResolvedImage(string Name, ImageConfig Config, IReadOnlyList<LayerDescriptor> Layers, string? ManifestDigest, IBlobReader Blobs);

/// <summary>
/// One kind of source: the schemes that name it, a cheap probe for names without a scheme, and how to
/// open it. <see cref="SourceCatalog"/> holds the list, which also writes <c>--source</c>'s help (each
/// description read when the help is written, so in the language chosen by then).
/// </summary>
internal sealed record SourceFactory(
    string Kind,
    IReadOnlyList<string> Schemes,
    Func<string> Description,
    Func<string, bool> Probe,
    Func<string, SourceOptions, CancellationToken, IImageSource> Open);
