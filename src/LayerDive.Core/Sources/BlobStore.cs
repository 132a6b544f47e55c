using LayerDive.Core;
using System.Formats.Tar;
using System.IO.Enumeration;
using LayerDive.Core.Interop;
using LayerDive.Core.Layers;
using Microsoft.Win32.SafeHandles;
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

/// <summary>
/// An OCI image layout (or an unpacked docker save) read in place from a directory. Every file it names
/// is opened beneath the directory: a link that stays inside is followed (an unpacked docker save links
/// a layer.tar to another), one that leads outside (to a host file, /proc, or by "..") is refused, and
/// so is anything but a regular file.
/// </summary>
internal sealed class DirectoryBlobStore : BlobStore
{
    private readonly Folder _folder;

    public DirectoryBlobStore(string root)
    {
        try
        {
            _folder = Folder.Open(root);
        }
        catch (IOException ex)
        {
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Layout_Unreadable, ".", ex.Message));
        }
    }

    public override string? Resolve(string path)
    {
        var norm = PathText.Normalize(path, out _);
        if (string.IsNullOrEmpty(norm)) return null;
        return Look(norm, out int type, out _) switch
        {
            Found.Ok => type == Libc.TypeDirectory ? null : norm, // a named pipe or device is found, and refused when opened
            Found.Missing => null,
            var found => throw Refused(norm, found, 0),
        };
    }

    public override Stream Open(string path)
    {
        var norm = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in the layout");
        var opened = _folder.OpenFile(norm, Links.Inside);
        if (opened.Found != Found.Ok) throw Refused(norm, opened.Found, opened.Errno);
        return new BufferedStream(new HandleStream(opened.Handle!, opened.Size), 1 << 16);
    }

    public override long? SizeOf(string path)
    {
        var norm = Resolve(path);
        return norm is not null && Look(norm, out _, out long size) == Found.Ok ? size : null;
    }

    private Found Look(string norm, out int type, out long size) => _folder.Look(norm, Links.Inside, out type, out size);

    private static ImageException Refused(string norm, Found found, int errno) => found switch
    {
        Found.Link or Found.Outside => new(FaultKind.Damaged, Text.Fill(Strings.Layout_LinkOutside, norm)),
        // a named pipe (or a device) would be waited on, perhaps for ever: a layout holds regular files
        Found.WrongKind => new(FaultKind.Damaged, Text.Fill(Strings.Archive_LayoutMemberNotFile, norm)),
        Found.Missing => new(FaultKind.NotFound, Text.Fill(Strings.Archive_BlobMissing, norm)),
        _ => new(FaultKind.Unreachable, Text.Fill(Strings.Layout_Unreadable, norm, Libc.Error(errno))),
    };

    /// <summary>The files beneath the directory; a link to a folder is not entered (it may lead anywhere, / among them).</summary>
    public override IEnumerable<string> Paths =>
        new FileSystemEnumerable<string>(_folder.Path, (ref FileSystemEntry e) => e.ToFullPath(),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        }.Select(f => Path.GetRelativePath(_folder.Path, f).Replace(Path.DirectorySeparatorChar, '/'));

    public override void Dispose()
    {
        _folder.Dispose();
        base.Dispose();
    }
}

/// <summary>The members of a tar archive: kind, where the data is, and link targets.</summary>
internal readonly record struct TarMember(TarEntryType Type, long DataOffset, long Length, string? LinkName);

/// <summary>Shared by the tar stores: member lookup with symlinks and hardlinks followed inside the archive.</summary>
internal abstract class TarBlobStore : BlobStore
{
    private protected readonly Dictionary<string, TarMember> Members = new(StringComparer.Ordinal);

    public override IEnumerable<string> Paths =>
        Members.Where(m => m.Value.Type is not TarEntryType.Directory).Select(m => m.Key);

    public override string? Resolve(string path)
    {
        var current = PathText.Normalize(path, out _);
        for (int hops = 0; current is not null && hops < 16; hops++)
        {
            if (!Members.TryGetValue(current, out var m)) return null;
            switch (m.Type)
            {
                case TarEntryType.SymbolicLink:
                    current = ResolveLinkTarget(current, m.LinkName ?? "", symlink: true);
                    break;
                case TarEntryType.HardLink:
                    current = ResolveLinkTarget(current, m.LinkName ?? "", symlink: false);
                    break;
                case TarEntryType.Directory:
                    return null;
                default:
                    return current;
            }
        }
        return null;
    }

    public override long? SizeOf(string path) => Resolve(path) is { } p ? Members[p].Length : null;

    private protected void Index(TarReader reader, bool seekable, CancellationToken ct)
    {
        TarEntry? e;
        while ((e = reader.GetNextEntry()) is not null)
        {
            ct.ThrowIfCancellationRequested();
            if (e.EntryType == TarEntryType.GlobalExtendedAttributes) continue;
            var name = PathText.Normalize(e.Name, out _);
            if (string.IsNullOrEmpty(name)) continue;
            Members[name] = new TarMember(e.EntryType, seekable ? e.DataOffset : -1, e.Length,
                e.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink ? e.LinkName : null);
            OnIndexed(name, e);
        }
    }

    private protected virtual void OnIndexed(string name, TarEntry entry) { }
}

/// <summary>An uncompressed tar archive (docker save, oci-archive) read in place with positional reads.</summary>
internal sealed class TarFileBlobStore : TarBlobStore
{
    private readonly SafeFileHandle _handle;

    public TarFileBlobStore(string path, CancellationToken ct)
    {
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096))
        using (var reader = new TarReader(fs, leaveOpen: true))
            Index(reader, seekable: true, ct);
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    public override Stream Open(string path)
    {
        var p = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in the archive");
        var m = Members[p];
        return new BufferedStream(new FileWindowStream(_handle, m.DataOffset, m.Length), 1 << 16);
    }

    public override void Dispose()
    {
        _handle.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// A tar archive compressed as a whole (.tar.gz/.xz/.zst/.bz2): a first pass indexes it and keeps the
/// small documents (manifests, configs); layers are read in a second pass, in the archive's order.
/// Nothing is written to disk and no layer is held in memory.
/// </summary>
internal sealed class CompressedTarBlobStore : TarBlobStore
{
    private readonly string _path;
    private readonly Model.Compression _compression;
    private readonly HeldDocuments _documents = new();

    public CompressedTarBlobStore(string path, Model.Compression compression, CancellationToken ct)
    {
        _path = path;
        _compression = compression;
        using var file = File.OpenRead(path);
        using var decompressed = Decompression.Open(file, compression);
        using var reader = new TarReader(decompressed, leaveOpen: true);
        Index(reader, seekable: false, ct);
    }

    public override bool IsSequential => true;

    private protected override void OnIndexed(string name, TarEntry entry)
    {
        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) return;
        _documents.Offer(name, entry.Length, entry.DataStream);
    }

    public override Stream Open(string path)
    {
        var p = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in the archive");
        if (_documents.TryGet(p, out var data)) return HeldDocuments.Stream(data);
        if (Members[p].Length == 0) return new MemoryStream([], writable: false);
        throw new InvalidOperationException($"'{p}' of a compressed archive can only be read in archive order");
    }

    private protected override Stream OpenDocument(string path)
    {
        var p = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in the archive");
        return _documents.TryGet(p, out _) || Members[p].Length == 0 ? Open(p) : throw _documents.NotKept(p);
    }

    public override void ReadInArchiveOrder(IReadOnlyCollection<string> resolvedPaths, Action<string, Stream> onMember, CancellationToken ct)
    {
        var wanted = new HashSet<string>(resolvedPaths, StringComparer.Ordinal);
        foreach (var p in wanted.Where(p => _documents.TryGet(p, out _) || Members[p].Length == 0).ToList())
        {
            using var s = Open(p);
            onMember(p, s);
            wanted.Remove(p);
        }
        if (wanted.Count == 0) return;
        using var file = File.OpenRead(_path);
        using var decompressed = Decompression.Open(file, _compression);
        using var reader = new TarReader(decompressed, leaveOpen: true);
        TarEntry? e;
        while (wanted.Count > 0 && (e = reader.GetNextEntry()) is not null)
        {
            ct.ThrowIfCancellationRequested();
            var name = PathText.Normalize(e.Name, out _);
            if (name is null || !wanted.Remove(name)) continue;
            onMember(name, e.DataStream ?? new MemoryStream([], writable: false));
        }
        if (wanted.Count > 0)
            throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Archive_MemberGone, wanted.First()));
    }
}
