namespace LayerDive.Core.Sources.Images;

/// <summary>
/// Content found by its digest and nothing else, as containerd's content provider finds it: what the
/// index walker reads an OCI image from, whether the content is a layout's <c>blobs/</c> folder or a
/// registry's <c>manifests/</c> and <c>blobs/</c> endpoints.
/// </summary>
internal interface IDescriptorStore
{
    /// <summary>Whether the store holds the content (a layout need not hold every platform its index names).</summary>
    bool Has(string digest);

    /// <summary>The document (an index, a manifest, a config) with this digest, whole, refused past its kind's limit; not yet verified.</summary>
    byte[] ReadDocument(string digest, DocumentKind kind);

    /// <summary>Where the content with this digest is read from (a layer's blob; messages name a missing document by it).</summary>
    LayerLocator Locate(string digest);
}
