using LayerDive.Core;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>How to find the image in what the user named.</summary>
public sealed record SourceOptions
{
    /// <summary>The kind of source (<see cref="SourceCatalog"/>: docker-archive, oci, docker, podman, ...); null = from the name and the content.</summary>
    public string? Kind { get; init; }
    /// <summary>Tag, reference or manifest/config digest prefix of the image to pick.</summary>
    public string? Image { get; init; }
    /// <summary>os/arch[/variant]; null = linux/amd64, else the first.</summary>
    public string? Platform { get; init; }
    /// <summary>Check manifest and config digests (layers are checked by the loader).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Take a SHA-256 of every file of a layer that a one-pass source reads ahead (ground-truth listings).</summary>
    public bool FileSha256 { get; init; }
    /// <summary>The environment (DOCKER_HOST, CONTAINER_HOST, HOME, ...); null = the process's.</summary>
    public Func<string, string?>? Environment { get; init; }
    /// <summary>Standard input, for the name "-"; null = the process's.</summary>
    public Func<Stream>? StandardInput { get; init; }
    /// <summary>Set when the name was bare (no scheme): a source then says in a note that it served it.</summary>
    internal bool BareName { get; init; }
    /// <summary>Plain HTTP to a registry that is not on a loopback address.</summary>
    public bool Insecure { get; init; }
    /// <summary>Counts the bytes a one-pass source reads (for progress); null = not counted.</summary>
    public ReadCounter? Counter { get; init; }
    /// <summary>Told what a source is doing that the user should hear of while it happens (a registry's wait before another try); null = nobody.</summary>
    public Action<string>? Notice { get; init; }

    internal string? Env(string name) => (Environment ?? System.Environment.GetEnvironmentVariable)(name);
}

/// <summary>How a source's layer blobs can be read.</summary>
public enum BlobAccess
{
    /// <summary>Any blob, any time, several at once (a layout directory, an uncompressed archive file).</summary>
    Random,
    /// <summary>Only in the order the source holds them, one pass at a time (a compressed archive, a stream, an engine's export).</summary>
    ArchiveOrder,
}

/// <summary>
/// What an image is: the images a source holds (names, platforms), and for the one chosen its config,
/// manifest digest and ordered layer descriptors (<see cref="ImageCandidate.Resolve"/>). How the
/// layers' bytes are had is the <see cref="Blobs"/> reader's business.
/// </summary>
public interface IImageSource : IDisposable
{
    /// <summary>The kind, as <c>--source</c> names it (docker-archive, oci, docker, podman, ...).</summary>
    string Kind { get; }

    /// <summary>Where the image was found, for the model and its reports (a path, an engine's address).</summary>
    string Location { get; }

    /// <summary>Every image and artifact the source holds, in its order.</summary>
    IReadOnlyList<ImageCandidate> Candidates { get; }

    /// <summary>Opens the source's layer blobs.</summary>
    IBlobReader Blobs { get; }

    /// <summary>A note for the user on how the image was found (which engine served a bare name), or null.</summary>
    string? Note => null;

    /// <summary>Where an engine keeps the image on disk (its GraphDriver), or null.</summary>
    Model.EngineStorage? Storage => null;
}

/// <summary>
/// Opens the blobs of a source by their descriptors. A <see cref="BlobAccess.Random"/> reader opens any
/// blob at any time; every reader can hand the blobs over in the order it holds them.
/// </summary>
public interface IBlobReader
{
    BlobAccess Access { get; }

    /// <summary>A layer's blob as stored; only for <see cref="BlobAccess.Random"/>. Streams are independent.</summary>
    Stream Open(LayerRef layer);

    /// <summary>
    /// One pass over the source that hands each of <paramref name="layers"/> to <paramref name="onLayer"/>
    /// as it comes, with the indexes of every layer it is (one blob may serve several layers). A layer
    /// whose identity was known only once its bytes were hashed comes already read (<see cref="LayerArrival.Held"/>).
    /// Ends when every layer was handed over; throws <see cref="ImageException"/> when one never comes.
    /// </summary>
    void ReadInOrder(IReadOnlyList<LayerRef> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct);
}

/// <summary>A layer as a one-pass reader hands it over: a stream to read now, or a layer read already.</summary>
public sealed class LayerArrival
{
    private LayerArrival(Stream? stream, HeldLayer? held) => (Stream, Held) = (stream, held);

    /// <summary>The blob's bytes, valid during the call only.</summary>
    public Stream? Stream { get; }

    /// <summary>The layer read before it was known which layer it is: its entries and digests.</summary>
    public HeldLayer? Held { get; }

    public static LayerArrival Of(Stream stream) => new(stream, null);
    public static LayerArrival Of(HeldLayer held) => new(null, held);
}

/// <summary>
/// A layer blob read before its place in the image was known (a stream whose metadata comes after the
/// layers): its decoded entries (never its file bytes), its problems and its digests.
/// </summary>
public sealed class HeldLayer
{
    private HeldLayer(string member, LayerContents contents) => (Member, Contents) = (member, contents);

    /// <summary>The archive member it came from.</summary>
    public string Member { get; }

    /// <summary>Entries, digests and sizes (<see cref="LayerContents.Entries"/> holds the entries).</summary>
    public LayerContents Contents { get; }

    private static int s_count;

    /// <summary>Reads a blob whole into entries, hashing it; problems are placed in a layer when it is known.</summary>
    public static HeldLayer Read(string member, Stream blob, bool fileSha256, CancellationToken ct)
    {
        // the reader numbers a layer's files by its index (hardlinks share a number): a layer not yet
        // placed takes a negative index of its own, never a real layer's
        int provisional = -2 - Interlocked.Increment(ref s_count);
        try
        {
            return new HeldLayer(member, LayerReader.Read(blob, new LayerReadOptions { ComputeDigests = true, FileSha256 = fileSha256, LayerIndex = provisional, HashInBackground = true }, ct));
        }
        catch (ImageException ex) when (ex.LayerIndex is null)
        {
            throw new ImageException(ex.Kind, Text.Fill(Strings.Stream_InMember, member, ex.Message), entryName: ex.EntryName, inner: ex);
        }
    }

    /// <summary>The problems, placed in layer <paramref name="index"/>.</summary>
    public IEnumerable<Problem> ProblemsIn(int index) => Contents.Problems.Select(p => p with { LayerIndex = index });
}

/// <summary>
/// One kind of source: the schemes that name it, a cheap probe for names without a scheme, and how to
/// open it. <see cref="SourceCatalog"/> holds the list, which also writes <c>--source</c>'s help.
/// </summary>
public sealed record SourceFactory(
    string Kind,
    IReadOnlyList<string> Schemes,
    string Description,
    Func<string, bool> Probe,
    Func<string, SourceOptions, IImageSource> Open);

/// <summary>
/// Bytes a one-pass source has read from its stream so far (an engine's export, standard input), and
/// how many it expects when it knows: the load's progress follows the stream, not only merged layers.
/// </summary>
public sealed class ReadCounter
{
    private long _read;
    private long _expected;

    public long BytesRead => Volatile.Read(ref _read);

    /// <summary>The expected size, or 0 when unknown.</summary>
    public long BytesExpected => Volatile.Read(ref _expected);

    internal void Add(long n) => Interlocked.Add(ref _read, n);

    internal void Expect(long n) => Volatile.Write(ref _expected, n);

    /// <summary>Wraps a stream so that what is read through it is counted here.</summary>
    internal Stream Counting(Stream inner) => new CountingStream(inner, this);

    private sealed class CountingStream(Stream inner, ReadCounter counter) : Layers.ReadOnlyForwardStream
    {
        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            counter.Add(n);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
