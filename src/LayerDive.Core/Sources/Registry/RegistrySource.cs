using LayerDive.Core;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// An image in a registry, read through the distribution API with no daemon, no pull and nothing on
/// disk: the manifest (or index) and the config are fetched and verified, then the layer blobs stream
/// straight into the merge, several at once, each resumed with <c>Range</c> where its connection
/// breaks. The manifests and blobs are seen as an OCI layout, so the layout's candidate logic (indexes,
/// platforms, artifacts, verification) serves a registry as it serves a file.
/// </summary>
internal sealed class RegistrySource : IImageSource
{
    public const string KindName = "registry";

    private readonly RegistryClient _client;

    private RegistrySource(RegistryClient client, IReadOnlyList<ImageCandidate> candidates, string? note, ReadCounter? counter)
    {
        (_client, Candidates, Note) = (client, candidates, note);
        Location = $"{KindName}://{client.Reference}";
        Blobs = new RegistryBlobs(client, counter);
    }

    public string Kind => KindName;
    public string Location { get; }
    public string? Note { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public IBlobReader Blobs { get; }

    public static IImageSource Open(string name, SourceOptions options)
    {
        var reference = RegistryReference.Parse(name) ?? throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Registry_NotAReference, name));
        var client = new RegistryClient(reference, options);
        try
        {
            var store = new RegistryStore(client, options.Verify);
            // progress follows the download: the layers' sizes are what is expected
            var candidates = ArchiveSource.CandidatesOf(store, ArchiveSource.OciArchive, options.Verify)
                .Select(c => c.WithResolve(() =>
                {
                    var image = c.Resolve();
                    options.Counter?.Expect(image.Layers.Sum(l => l.Size ?? 0));
                    return image;
                })).ToList();
            return new RegistrySource(client, candidates, options.BareName ? Text.Fill(Strings.Source_ReadFrom, client.Describe) : null, options.Counter);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The manifest media types a registry is asked for.</summary>
    internal static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ];

    /// <summary>
    /// The registry as an OCI layout: <c>index.json</c> names the reference's manifest (annotated with
    /// the reference, so the images are named by it); <c>blobs/sha256/HEX</c> is a manifest when an
    /// index named it (fetched from <c>manifests/</c>), else a blob.
    /// </summary>
    private sealed class RegistryStore : BlobStore
    {
        private readonly RegistryClient _client;
        private readonly bool _verify;
        private readonly HashSet<string> _manifests = new(StringComparer.Ordinal);
        private readonly byte[] _index;
        private readonly Dictionary<string, byte[]> _fetched = new(StringComparer.Ordinal);

        public RegistryStore(RegistryClient client, bool verify)
        {
            (_client, _verify) = (client, verify);
            var reference = client.Reference;
            var (bytes, digest, mediaType) = FetchManifest(reference.ManifestReference, reference.Digest);
            _fetched[digest] = bytes;
            _manifests.Add(digest);
            _index = Encoding.UTF8.GetBytes(
                $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":{Quote(mediaType)},\"digest\":\"{digest}\",\"size\":{bytes.Length},\"annotations\":{{\"io.containerd.image.name\":{Quote(reference.ToString())}}}}}]}}");
            Register(bytes);
        }

        private static string Quote(string s) => "\"" + JsonEncodedText.Encode(s).ToString() + "\"";

        /// <summary>Every manifest an index names is fetched from manifests/, not blobs/.</summary>
        private void Register(byte[] manifest)
        {
            try
            {
                using var doc = JsonDocument.Parse(manifest);
                foreach (var m in doc.RootElement.Array("manifests"))
                    if (m.String("digest") is { } d) _manifests.Add(d);
            }
            catch (JsonException) { /* said when the manifest is read as one */ }
        }

        private (byte[] Bytes, string Digest, string MediaType) FetchManifest(string reference, string? pinned)
        {
            using var response = _client.Get($"manifests/{reference}", ManifestTypes);
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Registry_NoManifest, _client.Describe, _client.Reference.Repository, reference, _client.ErrorText(response)));
            if (!response.IsSuccessStatusCode)
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_ManifestStatus, _client.Describe, (int)response.StatusCode, reference, _client.ErrorText(response)));
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
            if (mediaType is "text/html" or "text/plain")
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_ManifestIsPage, _client.Describe, mediaType, reference));
            var bytes = ReadDocument(response, MaxManifestSize, $"the manifest {reference}");
            var actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
            var expected = pinned ?? (response.Headers.TryGetValues("Docker-Content-Digest", out var v) ? v.FirstOrDefault() : null);
            if (_verify && expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Registry_ManifestDigestMismatch, (pinned is null ? "the registry says" : "the reference pins"), _client.Secrets.Scrub(expected), actual));
            if (mediaType.Length == 0 || mediaType == "application/json")
            {
                // tell the kind from the document, as an OCI layout's index would
                using var doc = Json.Parse(bytes, $"the manifest {reference}");
                mediaType = doc.RootElement.String("mediaType") ?? (doc.RootElement.Get("manifests") is not null ? ManifestTypes[0] : ManifestTypes[1]);
            }
            return (bytes, actual, mediaType);
        }

        /// <summary>Manifests of 4 MiB and more are refused (the distribution spec's limit).</summary>
        private const int MaxManifestSize = 4 << 20;

        /// <summary>A document's body, whole within the client's time limit after its headers, never more than <paramref name="limit"/> held.</summary>
        private byte[] ReadDocument(HttpResponseMessage response, int limit, string what)
        {
            if (response.Content.Headers.ContentLength > limit)
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_ManifestTooLarge, what, response.Content.Headers.ContentLength));
            try
            {
                using var body = new TimedReadStream(response.Content.ReadAsStream(), _client.Timeout, whole: _client.Timeout);
                return CappedRead.All(body, limit, () => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_AnswerTooLarge, what, limit)));
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_DocumentTooSlow, _client.Describe, what, ex.Message));
            }
        }

        public override string? Resolve(string path) =>
            path == "index.json" || (path.StartsWith("blobs/", StringComparison.Ordinal) && path.Count(c => c == '/') == 2) ? path : null;

        public override Stream Open(string path)
        {
            if (path == "index.json") return new MemoryStream(_index, writable: false);
            var digest = DigestOf(path);
            if (_fetched.TryGetValue(digest, out var bytes)) return new MemoryStream(bytes, writable: false);
            if (_manifests.Contains(digest))
            {
                var (manifest, _, _) = FetchManifest(digest, digest);
                _fetched[digest] = manifest;
                Register(manifest);
                return new MemoryStream(manifest, writable: false);
            }
            // what an OCI layout opens here is a document (a config), held whole: read in chunks under the documents'
            // cap, so a body without end costs the cap and no more
            using var blob = new BlobStream(_client, digest, size: null, maxSize: MaxDocumentSize);
            return new MemoryStream(CappedRead.All(blob, MaxDocumentSize, () => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_AnswerTooLarge, $"the blob {ImageException.ShortDigest(digest)} from {_client.Describe}", MaxDocumentSize))), writable: false);
        }

        private static string DigestOf(string path)
        {
            var parts = path.Split('/');
            return $"{parts[1]}:{parts[2]}";
        }

        public override long? SizeOf(string path) => null;

        public override IEnumerable<string> Paths => [];
    }

    /// <summary>Layer blobs: any of them, several at once (the loader reads one per core).</summary>
    private sealed class RegistryBlobs(RegistryClient client, ReadCounter? counter) : IBlobReader
    {
        public BlobAccess Access => BlobAccess.Random;

        public Stream Open(LayerRef layer)
        {
            var blob = new BlobStream(client, layer.Digest ?? throw new ImageException(FaultKind.Damaged, Strings.Registry_LayerNoDigest, layer.Index), layer.Size);
            return counter is null ? blob : counter.Counting(blob);
        }

        public void ReadInOrder(IReadOnlyList<LayerRef> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
        {
            foreach (var l in layers)
            {
                ct.ThrowIfCancellationRequested();
                using var s = Open(l);
                onLayer([l.Index], LayerArrival.Of(s));
            }
        }
    }
}

/// <summary>
/// A blob as it streams from the registry. Where the connection breaks or stalls, it asks again with
/// <c>Range</c> from the byte it reached, so the hashes above it simply continue; the size the
/// manifest gives is checked against what arrives (a short or long body is an error after the tries).
/// A stall (no data for the client's time limit, or less than
/// <see cref="RegistryClient.LeastBlobBytesPerSpan"/> in that much waiting) is resumed once: a
/// registry that stalls twice would only stall again.
/// </summary>
internal sealed class BlobStream(RegistryClient client, string digest, long? size, long? maxSize = null) : ReadOnlyForwardStream
{
    private const int MaxResumes = 5;
    private const int MaxStalls = 2;
    private HttpResponseMessage? _response;
    private TimedReadStream? _body;
    private long _position;
    private int _resumes;
    private int _stalls;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            int n;
            try
            {
                if (_body is null) Connect();
                n = _body!.Read(buffer);
            }
            catch (NetworkStallException ex)
            {
                Broken(ex.Message, stalled: true);
                continue;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
            {
                Broken(ex.Message);
                continue;
            }
            catch (ImageException ex) when (ex.Kind is FaultKind.NotFound or FaultKind.Unreachable)
            {
                // no answer to the request that would resume it (its own tries are behind this): worth one more, as a stall is
                Broken(ex.Message, stalled: true);
                continue;
            }
            if (n > 0)
            {
                _position += n;
                if (_position > size)
                    throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_BlobLargerThanManifest, ImageException.ShortDigest(digest), size));
                if (_position > maxSize) throw TooLarge();
                return n;
            }
            if (size is null || _position == size) return 0;
            Broken($"the body ended after {_position} of {size} bytes");
        }
    }

    private ImageException TooLarge() => new(FaultKind.Damaged, Text.Fill(Strings.Registry_AnswerTooLarge, $"the blob {ImageException.ShortDigest(digest)} from {client.Describe}", maxSize));

    private void Broken(string why, bool stalled = false)
    {
        Disconnect();
        if (stalled && ++_stalls >= MaxStalls)
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_BlobStalled, ImageException.ShortDigest(digest), client.Describe, _stalls, why, _position));
        if (++_resumes > MaxResumes)
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_BlobBrokeOff, ImageException.ShortDigest(digest), client.Describe, MaxResumes + 1, why, _position));
    }

    private void Connect()
    {
        var response = client.Get($"blobs/{digest}", ["*/*"], _position);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Registry_BlobMissing, client.Describe, digest));
        }
        if (!response.IsSuccessStatusCode)
        {
            var text = client.ErrorText(response);
            response.Dispose();
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_BlobStatus, client.Describe, (int)response.StatusCode, ImageException.ShortDigest(digest), text));
        }
        if (response.Content.Headers.ContentLength is long length && maxSize is long max && _position + length > max)
        {
            response.Dispose();
            throw TooLarge();
        }
        var body = new TimedReadStream(response.Content.ReadAsStream(), client.Timeout, leastPerSpan: RegistryClient.LeastBlobBytesPerSpan, variable: "LAYERDIVE_REGISTRY_TIMEOUT");
        (_response, _body) = (response, body);
        if (_position > 0 && response.StatusCode != HttpStatusCode.PartialContent)
        {
            // the registry ignored Range: pass over what was handed out already (the hashes above must not see it twice),
            // under the same limits as the rest of the body
            long skip = _position;
            var scratch = new byte[81920];
            while (skip > 0)
            {
                int n = body.Read(scratch, 0, (int)Math.Min(scratch.Length, skip));
                if (n == 0) break;
                skip -= n;
            }
        }
        else if (_position > 0 && response.Content.Headers.ContentRange?.From is long from && from != _position)
        {
            Disconnect();
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_ResumedWrongOffset, client.Describe, ImageException.ShortDigest(digest), from, _position));
        }
    }

    private void Disconnect()
    {
        _body?.Dispose();
        _response?.Dispose();
        (_body, _response) = (null, null);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Disconnect();
        base.Dispose(disposing);
    }
}
