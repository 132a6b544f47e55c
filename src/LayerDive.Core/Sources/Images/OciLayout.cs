using System.Text.Json;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Images;

/// <summary>
/// An OCI image layout, a folder or the same in a tar: <c>index.json</c> names the images, and
/// <c>blobs/ALG/HEX</c> holds every manifest, config and layer by its digest.
/// </summary>
internal sealed class OciLayout(BlobStore store) : IDescriptorStore
{
    public const string IndexFile = "index.json";

    /// <summary>The images the layout's index names.</summary>
    public static List<ImageCandidate> Candidates(BlobStore store, IBlobReader blobs, bool verify)
    {
        if (!store.Exists(IndexFile)) throw new ImageException(FaultKind.Unsupported, Strings.Archive_OciLayoutNoIndex);
        using var doc = Json.Parse(store.ReadDocument(IndexFile, DocumentKind.Manifest), IndexFile);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_IndexJsonNotIndex, Json.Describe(doc.RootElement)));
        return ImageIndexWalker.FromIndex(new OciLayout(store), doc.RootElement, blobs, verify);
    }

    public bool Has(string digest) => store.Exists(BlobPath(digest));

    public byte[] ReadDocument(string digest, DocumentKind kind) => store.ReadDocument(BlobPath(digest), kind);

    public LayerLocator Locate(string digest) => new LayerLocator.Member(BlobPath(digest));

    /// <summary>Where the layout keeps the content with this digest; a digest that could climb out of <c>blobs/</c> is refused.</summary>
    public static string BlobPath(string digest)
    {
        int colon = DigestCheck.WellFormed(digest).IndexOf(':');
        return $"blobs/{digest[..colon]}/{digest[(colon + 1)..]}";
    }

    /// <summary>"sha256:HEX" when a member's path is a content address (<c>blobs/sha256/HEX</c>), else null.</summary>
    public static string? DigestOfPath(string path)
    {
        var parts = path.Split('/');
        return parts.Length == 3 && parts[0] == "blobs" && parts[1] is "sha256" or "sha512" && parts[2].All(Uri.IsHexDigit) ? $"{parts[1]}:{parts[2]}" : null;
    }
}
