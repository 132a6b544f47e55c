using System.Formats.Tar;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;
using Microsoft.Win32.SafeHandles;

namespace LayerDive.Core.Sources;

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
