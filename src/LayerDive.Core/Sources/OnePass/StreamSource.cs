using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.OnePass;

/// <summary>
/// An image archive on a stream, read once: <c>docker save x | layerdive -</c>. Every archive form
/// (docker-archive, oci-archive; compressed as a whole or not) is told from its bytes and member names.
/// </summary>
internal sealed class StreamSource : IImageSource
{
    private readonly OnePassArchive _archive;

    private StreamSource(string location, string kind, OnePassArchive archive, IReadOnlyList<ImageCandidate> candidates) =>
        (Location, Kind, _archive, Candidates) = (location, kind, archive, candidates);

    public string Kind { get; }
    public string Location { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }

    /// <summary>Reads the archive on <paramref name="stream"/> up to the point where its images are known.</summary>
    public static StreamSource Open(Stream stream, string location, string what, SourceOptions options, CancellationToken ct)
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
            var blobs = new OnePassBlobs(archive, again: null);
            var candidates = archive.ReadUntil(() => ArchiveSource.CandidatesOf(archive.Store, kind, blobs, options.Verify), ct)
                .Select(c => c.WithResolve(token => archive.ReadUntil(() => c.Resolve(token), token))).ToList();
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
