namespace LayerDive.Core.Sources;

/// <summary>One image or artifact a source holds, as <c>layerdive platforms</c> lists it.</summary>
/// <param name="Name">The image's name (its tag or reference, else its short digest).</param>
/// <param name="Platform">os/arch[/variant] from the index, else from the image's config; for an artifact, the platform its index names, if any (a platform whose manifest is absent: a node keeps only its own).</param>
/// <param name="Digest">The manifest's digest, else the config's; null when the source names neither.</param>
/// <param name="ArtifactType">What an artifact is (a signature's, an SBOM's media type); null for an image.</param>
public sealed record ImageListing(string Name, string? Platform, string? Digest, string? ArtifactType)
{
    /// <summary>An artifact (signature, SBOM, attestation): listed, never analysed.</summary>
    public bool IsArtifact => ArtifactType is not null;
}
