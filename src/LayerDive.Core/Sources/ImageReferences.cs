using LayerDive.Core;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>A platform as an index names it: os/architecture[/variant].</summary>
public sealed record PlatformInfo(string Os, string Architecture, string? Variant)
{
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    public static PlatformInfo Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Image_PlatformMalformed, text));
        return new PlatformInfo(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    public bool Matches(PlatformInfo wanted) =>
        Os == wanted.Os && Architecture == wanted.Architecture && (wanted.Variant is null || wanted.Variant == Variant);
}

/// <summary>One layer as the manifest names it: where its blob is in the source (a member path, or a label where only its digests identify it), and its digests.</summary>
public sealed record LayerRef(int Index, string BlobPath, string? MediaType, string? Digest, long? Size, string? DiffId, bool EStargzAnnotation = false);

/// <summary>One image an archive or layout holds (one entry of manifest.json, or one manifest of an index).</summary>
public sealed class ImageCandidate
{
    public required string Name { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? ManifestDigest { get; init; }
    public string? ConfigDigest { get; init; }
    public PlatformInfo? Platform { get; init; }
    /// <summary>An artifact (signature, SBOM, attestation): listed, never analysed.</summary>
    public bool IsArtifact { get; init; }
    public string? ArtifactType { get; init; }
    public required Func<ResolvedImage> Resolve { get; init; }

    public bool IsTagged => Tags.Count > 0;

    /// <summary>The same candidate, resolved another way (a one-pass source reads on until it can resolve).</summary>
    internal ImageCandidate WithResolve(Func<ResolvedImage> resolve) => new()
    {
        Name = Name, Tags = Tags, ManifestDigest = ManifestDigest, ConfigDigest = ConfigDigest, Platform = Platform,
        IsArtifact = IsArtifact, ArtifactType = ArtifactType, Resolve = resolve,
    };
}

/// <summary>The selected image: its config and its layers, not yet read.</summary>
public sealed record ResolvedImage(string Name, ImageConfig Config, IReadOnlyList<LayerRef> Layers, string? ManifestDigest);
