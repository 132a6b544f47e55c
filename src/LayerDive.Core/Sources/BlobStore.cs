using LayerDive.Core;
using System.Formats.Tar;
using LayerDive.Core.Layers;
using Microsoft.Win32.SafeHandles;

namespace LayerDive.Core.Sources;

/// <summary>
/// Where an image's files live: an OCI layout directory, a tar archive read in place, or a compressed
/// tar archive read as a stream. Paths are relative, '/'-separated and normalised.
/// </summary>
internal abstract class BlobStore : IDisposable
{
    /// <summary>Metadata documents (manifests, configs, indexes) larger than this are refused.</summary>
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

    /// <summary>Reads a small metadata document whole.</summary>
    public byte[] ReadDocument(string path)
    {
        var size = SizeOf(path);
        if (size > MaxDocumentSize)
            throw new ImageException(Text.Format("Error.IsBytesTooLargeForA", path, size));
        using var s = Open(path);
        using var ms = new MemoryStream();
        var buf = new byte[81920];
        int n;
        while ((n = s.Read(buf)) > 0)
        {
            ms.Write(buf, 0, n);
            if (ms.Length > MaxDocumentSize)
                throw new ImageException(Text.Format("Error.IsTooLargeForAManifest", path));
        }
        return ms.ToArray();
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Resolves a link target written in an archive member named <paramref name="memberPath"/>.</summary>
    internal static string? ResolveLinkTarget(string memberPath, string linkName, bool symlink)
    {
        // symlinks are relative to the member's directory; hardlinks name a path from the archive root
        string joined = symlink && !linkName.StartsWith('/') ? PathText.Join(PathText.Parent(memberPath), linkName) : linkName;
        return PathText.Normalize(joined, out _);
    }
}

/// <summary>An OCI image layout (or an unpacked docker save) read in place from a directory.</summary>
internal sealed class DirectoryBlobStore : BlobStore
{
    private readonly string _root;

    public DirectoryBlobStore(string root) => _root = Path.GetFullPath(root);

    public override string? Resolve(string path)
    {
        var norm = PathText.Normalize(path, out _);
        if (norm is null) return null;
        var full = Path.GetFullPath(Path.Combine(_root, norm));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        return File.Exists(full) ? norm : null;
    }

    public override Stream Open(string path)
    {
        var norm = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in the layout");
        var full = Path.Combine(_root, norm);
        // a named pipe (or a device) would be waited on, perhaps for ever: a layout holds regular files
        if (FileKind.Of(full) == FileKind.Kind.Other)
            throw new ImageException(Text.Format("Error.InTheLayoutIsNotA", norm));
        return new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
    }

    public override long? SizeOf(string path) => Resolve(path) is { } norm ? new FileInfo(Path.Combine(_root, norm)).Length : null;

    public override IEnumerable<string> Paths =>
        Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/'));
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

    private protected void Index(TarReader reader, bool seekable)
    {
        TarEntry? e;
        while ((e = reader.GetNextEntry()) is not null)
        {
            if (e.EntryType == TarEntryType.GlobalExtendedAttributes) continue;
            var name = PathText.Normalize(e.Name, out _);
            if (string.IsNullOrEmpty(name)) continue;
            Members[name] = new TarMember(e.EntryType, seekable ? e.DataOffset : -1, e.Length,
                e.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink ? e.LinkName : null);
            OnIndexed(name, e);
        }
    }

    private protected virtual void OnIndexed(string name, TarEntry entry) { }

    /// <summary>Metadata documents of a streamed archive larger than this are not kept (layers never are).</summary>
    private const int KeepLimit = 4 << 20;

    /// <summary>
    /// Reads a member whole when it may be a JSON document (named like one, or starting with '{' or
    /// '['); otherwise returns the rest of its data, the peeked byte put back, as <c>Remainder</c>.
    /// </summary>
    internal static (byte[]? Document, Stream? Remainder) KeepIfDocument(string name, long length, Stream data)
    {
        if (length > KeepLimit) return (null, data);
        bool named = name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith("/json", StringComparison.Ordinal)
            || name is "repositories" or "oci-layout" or "VERSION" || name.EndsWith("/VERSION", StringComparison.Ordinal);
        int first = length == 0 ? -1 : data.ReadByte();
        if (!named && first != '{' && first != '[')
            return (null, first < 0 ? data : new PrefixedStream(new[] { (byte)first }, data));
        var bytes = new byte[length];
        if (first >= 0) bytes[0] = (byte)first;
        if (bytes.Length > 1) data.ReadExactly(bytes, 1, bytes.Length - 1);
        return (bytes, null);
    }
}

/// <summary>An uncompressed tar archive (docker save, oci-archive) read in place with positional reads.</summary>
internal sealed class TarFileBlobStore : TarBlobStore
{
    private readonly SafeFileHandle _handle;

    public TarFileBlobStore(string path)
    {
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096))
        using (var reader = new TarReader(fs, leaveOpen: true))
            Index(reader, seekable: true);
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
    private readonly Dictionary<string, byte[]> _documents = new(StringComparer.Ordinal);

    public CompressedTarBlobStore(string path, Model.Compression compression)
    {
        _path = path;
        _compression = compression;
        using var file = File.OpenRead(path);
        using var decompressed = Decompression.Open(file, compression);
        using var reader = new TarReader(decompressed, leaveOpen: true);
        Index(reader, seekable: false);
    }

    public override bool IsSequential => true;

    private protected override void OnIndexed(string name, TarEntry entry)
    {
        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) return;
        if (KeepIfDocument(name, entry.Length, entry.DataStream).Document is { } data) _documents[name] = data;
    }

    public override Stream Open(string path)
    {
        var p = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in the archive");
        if (_documents.TryGetValue(p, out var data)) return new MemoryStream(data, writable: false);
        if (Members[p].Length == 0) return new MemoryStream([], writable: false);
        throw new InvalidOperationException($"'{p}' of a compressed archive can only be read in archive order");
    }

    public override void ReadInArchiveOrder(IReadOnlyCollection<string> resolvedPaths, Action<string, Stream> onMember, CancellationToken ct)
    {
        var wanted = new HashSet<string>(resolvedPaths, StringComparer.Ordinal);
        foreach (var p in wanted.Where(p => _documents.ContainsKey(p) || Members[p].Length == 0).ToList())
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
            throw new ImageException(Text.Format("Error.TheArchiveChangedWhileItWas", wanted.First()));
    }
}

/// <summary>The blob reader of an archive or layout on disk: members by path, in parallel where the store allows.</summary>
internal sealed class StoreBlobReader(BlobStore store) : IBlobReader
{
    public BlobAccess Access => store.IsSequential ? BlobAccess.ArchiveOrder : BlobAccess.Random;

    public Stream Open(LayerRef layer) => store.Open(Member(layer));

    public void ReadInOrder(IReadOnlyList<LayerRef> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
    {
        var byPath = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            var path = Member(l);
            (byPath.TryGetValue(path, out var list) ? list : byPath[path] = []).Add(l.Index);
        }
        store.ReadInArchiveOrder(byPath.Keys, (path, stream) => onLayer(byPath[path], LayerArrival.Of(stream)), ct);
    }

    /// <summary>The member that holds a layer's blob, after the archive's links.</summary>
    private string Member(LayerRef layer) => store.Resolve(layer.BlobPath)
        ?? throw new ImageException(Text.Format("Error.TheBlobNamedByTheManifest", layer.BlobPath), layer.Index, layer.Digest ?? layer.DiffId);
}
