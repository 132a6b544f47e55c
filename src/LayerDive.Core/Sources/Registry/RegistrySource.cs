using System.Net;
using System.Security.Cryptography;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Images;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// An image in a registry, read through the distribution API with no daemon, no pull and nothing on
/// disk: the manifest (or index) and the config are fetched and verified, then the layer blobs stream
/// straight into the merge, several at once, each resumed with <c>Range</c> where its connection
/// breaks. The registry serves content by its digest, so the walk of indexes, platforms and artifacts
/// that reads an OCI layout reads a registry too (<see cref="ImageIndexWalker"/>).
/// </summary>
internal sealed class RegistrySource : IImageSource
{
    public const string KindName = "registry";

    private readonly RegistryClient _client;

    private RegistrySource(RegistryClient client, IReadOnlyList<ImageCandidate> candidates, string? note)
    {
        (_client, Candidates, Note) = (client, candidates, note);
        Location = $"{KindName}://{client.Reference}";
    }

    public string Kind => KindName;
    public string Location { get; }
    public string? Note { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }

    public static IImageSource Open(string name, SourceOptions options, CancellationToken ct)
    {
        var reference = RegistryReference.Parse(name) ?? throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Registry_NotAReference, name));
        var client = new RegistryClient(reference, options);
        try
        {
            ct.ThrowIfCancellationRequested();
            var store = new RegistryDescriptors(client, options.Verify);
            var (digest, mediaType) = store.FetchRoot();
            var blobs = new RegistryBlobs(client, options.Counter);
            // progress follows the download: the layers' sizes are what is expected
            var candidates = ImageIndexWalker.FromDescriptor(store, digest, mediaType, reference.ToString(), blobs, options.Verify)
                .Select(c => c.WithResolve(token =>
                {
                    token.ThrowIfCancellationRequested();
                    var image = c.Resolve(token);
                    options.Counter?.Expect(image.Layers.Sum(l => l.Size ?? 0));
                    return image;
                })).ToList();
            return new RegistrySource(client, candidates, options.BareName ? Text.Fill(Strings.Source_ReadFrom, client.Describe) : null);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// The registry's content by digest: a manifest or an index from <c>manifests/</c>, a config from
    /// <c>blobs/</c>; the reference's own manifest, fetched first, is kept.
    /// </summary>
    private sealed class RegistryDescriptors(RegistryClient client, bool verify) : IDescriptorStore
    {
        private readonly Dictionary<string, byte[]> _fetched = new(StringComparer.Ordinal);

        /// <summary>The manifest the reference names (by tag or digest): its digest and media type.</summary>
        public (string Digest, string MediaType) FetchRoot()
        {
            var reference = client.Reference;
            var (bytes, digest, mediaType) = FetchManifest(reference.ManifestReference, reference.Digest);
            _fetched[digest] = bytes;
            return (digest, mediaType);
        }

        /// <summary>Anything an index or manifest names may be asked for: a registry that lacks it says so when it is fetched.</summary>
        public bool Has(string digest) => true;

        public byte[] ReadDocument(string digest, DocumentKind kind)
        {
            if (_fetched.TryGetValue(digest, out var bytes)) return bytes;
            if (kind == DocumentKind.Manifest) return FetchManifest(digest, digest).Bytes;
            // a config, held whole: read in chunks under the documents' cap, so a body without end costs the cap and no more
            using var blob = new BlobStream(client, digest, size: null, maxSize: BlobStore.MaxDocumentSize);
            return CappedRead.All(blob, BlobStore.MaxDocumentSize, () => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_AnswerTooLarge, Text.Fill(Strings.Registry_BlobNamed, ImageException.ShortDigest(digest), client.Describe), BlobStore.MaxDocumentSize)));
        }

        public LayerLocator Locate(string digest) => new LayerLocator.Blob(digest);

        private (byte[] Bytes, string Digest, string MediaType) FetchManifest(string reference, string? pinned)
        {
            using var response = client.Get($"manifests/{reference}", MediaTypes.Manifests);
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Registry_NoManifest, client.Describe, client.Reference.Repository, reference, client.ErrorText(response)));
            if (!response.IsSuccessStatusCode)
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_ManifestStatus, client.Describe, (int)response.StatusCode, reference, client.ErrorText(response)));
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
            if (mediaType is "text/html" or "text/plain")
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_ManifestIsPage, client.Describe, mediaType, reference));
            var what = Text.Fill(Strings.Registry_ManifestNamed, reference);
            var bytes = HttpBodies.ReadDocument(response, MaxManifestSize, client.Timeout, variable: null, // the message names the variable itself
                tooLarge: declared => new ImageException(FaultKind.Damaged, declared is { } n
                    ? Text.Fill(Strings.Registry_ManifestTooLarge, what, n)
                    : Text.Fill(Strings.Registry_AnswerTooLarge, what, MaxManifestSize)),
                failed: why => new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_DocumentTooSlow, client.Describe, what, why)), default);
            var actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
            var expected = pinned ?? (response.Headers.TryGetValues("Docker-Content-Digest", out var v) ? v.FirstOrDefault() : null);
            if (verify && expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Registry_ManifestDigestMismatch, (pinned is null ? Strings.Registry_DigestSaidByRegistry : Strings.Registry_DigestPinnedByReference), client.Secrets.Scrub(expected), actual));
            if (mediaType.Length == 0 || mediaType == "application/json")
            {
                // tell the kind from the document, as an OCI layout's index would
                using var doc = Json.Parse(bytes, what);
                mediaType = doc.RootElement.String("mediaType") ?? (doc.RootElement.Get("manifests") is not null ? MediaTypes.OciIndex : MediaTypes.OciManifest);
            }
            return (bytes, actual, mediaType);
        }

        /// <summary>Manifests of 4 MiB and more are refused (the distribution spec's limit).</summary>
        private const int MaxManifestSize = 4 << 20;
    }

    /// <summary>Layer blobs: any of them, several at once (the loader reads one per core).</summary>
    private sealed class RegistryBlobs(RegistryClient client, ReadCounter? counter) : IRandomAccessBlobs
    {
        public Stream Open(LayerDescriptor layer)
        {
            var blob = new BlobStream(client, layer.Digest ?? throw new ImageException(FaultKind.Damaged, Strings.Registry_LayerNoDigest, layer.Index), layer.Size);
            return counter is null ? blob : counter.Counting(blob);
        }
    }
}
