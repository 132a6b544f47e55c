using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Images;

namespace LayerDive.Core.Sources;

/// <summary>
/// An image archive or layout on disk: a docker-archive, an oci-archive or an OCI layout directory,
/// compressed as a whole or not. The kind is told from the content (magic bytes, member names), never
/// from the file extension. What the images in it are is read by <see cref="DockerArchiveManifest"/> and
/// <see cref="OciLayout"/>, which also serve archives read from a stream (<see cref="OnePass.OnePassArchive"/>).
/// </summary>
internal sealed class ArchiveSource : IImageSource
{
    public const string DockerArchive = "docker-archive";
    public const string OciArchive = "oci-archive";
    public const string OciLayout = "oci";
    public static readonly string[] Kinds = [DockerArchive, OciArchive, OciLayout];

    private ArchiveSource(string path, string kind, BlobStore store, IReadOnlyList<ImageCandidate> candidates)
    {
        Location = path;
        Kind = kind;
        Store = store;
        Candidates = candidates;
    }

    public string Location { get; }
    public string Kind { get; }
    internal BlobStore Store { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }

    /// <summary>Opens the archive or layout at <paramref name="path"/>; <paramref name="kindHint"/> overrides detection.</summary>
    public static ArchiveSource Open(string path, string? kindHint, SourceOptions options, CancellationToken ct)
    {
        if (kindHint is not null && !Kinds.Contains(kindHint))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Archive_UnknownKind, kindHint, string.Join(", ", Kinds)));
        var store = OpenStore(path, ct);
        try
        {
            // dive's --source docker-archive means "an archive file": an OCI layout in it is read as one
            string kind = kindHint is null or DockerArchive ? Detect(store, Directory.Exists(path)) : kindHint;
            if (kind == OciArchive && Directory.Exists(path)) kind = OciLayout;
            if (kind == OciLayout && !Directory.Exists(path)) kind = OciArchive;
            return new ArchiveSource(path, kind, store, CandidatesOf(store, kind, StoreBlobs.For(store), options.Verify));
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The images a store holds, read as an archive of <paramref name="kind"/>.</summary>
    internal static List<ImageCandidate> CandidatesOf(BlobStore store, string kind, IBlobReader blobs, bool verify) =>
        kind == DockerArchive ? DockerArchiveManifest.Candidates(store, blobs, verify) : Images.OciLayout.Candidates(store, blobs, verify);

    private static BlobStore OpenStore(string path, CancellationToken ct)
    {
        if (Directory.Exists(path)) return new DirectoryBlobStore(path);
        if (!File.Exists(path)) throw new ImageException(FaultKind.NotFound, Strings.Source_NoSuchFile);
        Compression outer;
        using (var f = File.OpenRead(path))
        {
            var head = new byte[Decompression.MagicLength];
            int n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n == 0) throw new ImageException(FaultKind.Damaged, Strings.Archive_Empty);
            outer = Decompression.Sniff(head.AsSpan(0, n));
        }
        try
        {
            return outer == Compression.None ? new TarFileBlobStore(path, ct) : new CompressedTarBlobStore(path, outer, ct);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or OverflowException or ArgumentException or NotSupportedException or IOException)
        {
            throw new ImageException(FaultKind.Damaged, outer == Compression.None ? Text.Fill(Strings.Archive_NotTar, ex.Message)
                : Text.Fill(Strings.Archive_NotCompressedTar, Decompression.Name(outer), ex.Message), inner: ex);
        }
    }

    /// <summary>The kind from the member names: docker-archive (manifest.json or repositories) or an OCI layout (index.json).</summary>
    internal static string Detect(BlobStore store, bool directory)
    {
        if (store.Exists(DockerArchiveManifest.ManifestFile) || store.Exists(DockerV1Chain.RepositoriesFile)) return DockerArchive;
        if (store.Exists(Images.OciLayout.IndexFile)) return directory ? OciLayout : OciArchive;
        throw new ImageException(FaultKind.Unsupported, Strings.Archive_NotAnImage);
    }

    public void Dispose() => Store.Dispose();
}
