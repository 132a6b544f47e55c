using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>The kinds of metadata document, each with its own limit.</summary>
internal enum DocumentKind
{
    /// <summary>A manifest, an index, an archive's manifest.json or repositories: 4 MiB at most (as registries and containerd take them).</summary>
    Manifest,

    /// <summary>An image config (or a v1 layer's json): 64 MiB at most.</summary>
    Config,
}

/// <summary>
/// Where an image's files live: an OCI layout directory, a tar archive read in place, or a compressed
/// tar archive read as a stream. Paths are relative, '/'-separated and normalised.
/// </summary>
internal abstract class BlobStore : IDisposable
{
    /// <summary>The largest manifest or index read.</summary>
    public const int MaxManifestDocumentSize = 4 << 20;

    /// <summary>The largest image config read, and so the largest metadata document of any kind.</summary>
    public const int MaxDocumentSize = 64 << 20;

    /// <summary>True when members can only be read in the archive's order (see <see cref="ReadInArchiveOrder"/>).</summary>
    public virtual bool IsSequential => false;

    /// <summary>The path a member resolves to after following archive symlinks and hardlinks; null when absent.</summary>
    public abstract string? Resolve(string path);

    public bool Exists(string path) => Resolve(path) is not null;

    /// <summary>Opens a member for reading. Random-access stores return independent streams usable in parallel.</summary>
    public abstract Stream Open(string path);

    /// <summary>The member's size in bytes, when known without reading it.</summary>
    public abstract long? SizeOf(string path);

    /// <summary>Every member path (files only), for detection and listings.</summary>
    public abstract IEnumerable<string> Paths { get; }

    /// <summary>
    /// Calls <paramref name="onMember"/> for each of <paramref name="resolvedPaths"/> in the order the
    /// archive holds them, with a stream valid only during the call. The default opens each in turn.
    /// </summary>
    public virtual void ReadInArchiveOrder(IReadOnlyCollection<string> resolvedPaths, Action<string, Stream> onMember, CancellationToken ct)
    {
        foreach (var p in resolvedPaths)
        {
            ct.ThrowIfCancellationRequested();
            using var s = Open(p);
            onMember(p, s);
        }
    }

    /// <summary>Reads a metadata document whole, refused past its kind's limit before anything is read.</summary>
    public byte[] ReadDocument(string path, DocumentKind kind = DocumentKind.Config)
    {
        int limit = kind == DocumentKind.Manifest ? MaxManifestDocumentSize : MaxDocumentSize;
        var size = SizeOf(path);
        if (size > limit) throw TooLarge(path, size.Value, kind);
        using var s = OpenDocument(path);
        // a document a streamed archive kept: its bytes as they are
        if (s is MemoryStream held && held.TryGetBuffer(out var kept) && kept.Offset == 0 && kept.Count == kept.Array!.Length) return kept.Array;
        if (size is long known)
        {
            // read into its own size: a growing buffer would hold three times a large document at once
            var bytes = new byte[known];
            s.ReadExactly(bytes);
            return bytes;
        }
        using var ms = new MemoryStream();
        var buf = new byte[81920];
        int n;
        while ((n = s.Read(buf)) > 0)
        {
            ms.Write(buf, 0, n);
            if (ms.Length > limit) throw TooLarge(path, ms.Length, kind);
        }
        return ms.ToArray();
    }

    /// <summary>Opens a member read as a document; a store that keeps only some members says here why one is not kept.</summary>
    private protected virtual Stream OpenDocument(string path) => Open(path);

    private static ImageException TooLarge(string path, long size, DocumentKind kind) =>
        kind == DocumentKind.Manifest
            ? new(FaultKind.Damaged, Text.Fill(Strings.Document_ManifestTooLarge, path, size, MaxManifestDocumentSize >> 20))
            : new(FaultKind.Damaged, Text.Fill(Strings.Document_ConfigTooLarge, path, size, MaxDocumentSize >> 20));

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Resolves a link target written in an archive member named <paramref name="memberPath"/>.</summary>
    internal static string? ResolveLinkTarget(string memberPath, string linkName, bool symlink)
    {
        // symlinks are relative to the member's directory; hardlinks name a path from the archive root
        string joined = symlink && !linkName.StartsWith('/') ? PathText.Join(PathText.Parent(memberPath), linkName) : linkName;
        return PathText.Normalize(joined, out _);
    }
}
