using LayerDive.Core;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>
/// An image archive on a stream, read once: <c>docker save x | layerdive -</c>. Every archive form
/// (docker-archive, oci-archive; compressed as a whole or not) is told from its bytes and member names.
/// </summary>
internal sealed class StreamSource : IImageSource
{
    private readonly OnePassArchive _archive;

    private StreamSource(string location, string kind, OnePassArchive archive, IReadOnlyList<ImageCandidate> candidates)
    {
        (Location, Kind, _archive, Candidates) = (location, kind, archive, candidates);
        Blobs = new OnePassBlobs(archive, again: null);
    }

    public string Kind { get; }
    public string Location { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public IBlobReader Blobs { get; }

    /// <summary>Reads the archive on <paramref name="stream"/> up to the point where its images are known.</summary>
    public static StreamSource Open(Stream stream, string location, string what, SourceOptions options, CancellationToken ct = default)
    {
        if (options.Counter is { } counter) stream = counter.Counting(stream);
        var tar = Decompression.SniffAndRewind(stream, out var outer);
        try
        {
            if (outer != Compression.None) tar = Decompression.Open(tar, outer);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or NotSupportedException)
        {
            stream.Dispose();
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Stream_NotCompressed, what, Decompression.Name(outer), ex.Message), inner: ex);
        }
        var archive = new OnePassArchive(tar, stream, what, options.FileSha256);
        try
        {
            var kind = archive.DetectKind(ct);
            var candidates = archive.ReadUntil(() => ArchiveSource.CandidatesOf(archive.Store, kind, options.Verify), ct)
                .Select(c => c.WithResolve(() => archive.ReadUntil(c.Resolve, ct))).ToList();
            return new StreamSource(location, kind, archive, candidates);
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    public void Dispose() => _archive.Dispose();
}

/// <summary>
/// The blob reader of a one-pass source: the archive read so far, then, for a later pass (extraction),
/// a new one from <paramref name="again"/>, whose members are known by what the first pass learned.
/// </summary>
internal sealed class OnePassBlobs(OnePassArchive first, Func<OnePassArchive>? again) : IBlobReader
{
    private bool _firstUsed;

    public BlobAccess Access => BlobAccess.ArchiveOrder;

    public Stream Open(LayerRef layer) => throw new InvalidOperationException("a one-pass source is read in its order only");

    public void ReadInOrder(IReadOnlyList<LayerRef> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
    {
        if (!_firstUsed || again is null)
        {
            _firstUsed = true;
            first.ReadInOrder(layers, onLayer, ct); // a second time, without "again": says it was read already
            return;
        }
        using var later = again();
        foreach (var (member, indexes) in first.Identified) later.Identified[member] = indexes;
        later.ReadInOrder(layers, onLayer, ct);
    }
}
