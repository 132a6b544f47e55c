using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>
/// The documents a streamed archive keeps as they pass (manifests, indexes, configs: members named like
/// a document, or starting with '{' or '['), each at most a config's limit and all together at most
/// <see cref="Limit"/>, so an archive of many document-like members cannot fill the memory. The
/// archive's own top-level manifest.json, index.json and repositories (each at most a manifest's
/// limit) are kept outside that sum, so members before them cannot crowd them out. A member that was
/// not kept says why when it is asked for.
/// </summary>
internal sealed class HeldDocuments
{
    /// <summary>The most held in all.</summary>
    public const int Limit = 64 << 20;

    private readonly Dictionary<string, byte[]> _kept = new(StringComparer.Ordinal);
    private readonly HashSet<string> _overLimit = new(StringComparer.Ordinal);
    private long _held;

    /// <summary>
    /// Reads a member whole when it may be a document and fits; otherwise returns the rest of its data
    /// (the peeked byte put back) as <c>Remainder</c> for a reader of layers, or null when it looked
    /// like a document and is skipped for want of room.
    /// </summary>
    public (bool Kept, Stream? Remainder) Offer(string name, long length, Stream data)
    {
        if (length > BlobStore.MaxDocumentSize) return (false, data);
        bool named = name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith("/json", StringComparison.Ordinal)
            || name is "repositories" or "oci-layout" or "VERSION" || name.EndsWith("/VERSION", StringComparison.Ordinal);
        int first = length == 0 ? -1 : data.ReadByte();
        if (!named && first != '{' && first != '[')
            return (false, first < 0 ? data : new PrefixedStream(new[] { (byte)first }, data));
        bool topLevel = name is "manifest.json" or "index.json" or "repositories" && length <= BlobStore.MaxManifestDocumentSize;
        if (!topLevel && _held + length > Limit)
        {
            _overLimit.Add(name);
            return (false, null);
        }
        var bytes = new byte[length];
        if (first >= 0) bytes[0] = (byte)first;
        if (bytes.Length > 1) data.ReadExactly(bytes, 1, bytes.Length - 1);
        _kept[name] = bytes;
        if (!topLevel) _held += length;
        return (true, null);
    }

    public bool TryGet(string name, out byte[] bytes) => _kept.TryGetValue(name, out bytes!);

    /// <summary>A kept document's bytes as a stream whose buffer <see cref="BlobStore.ReadDocument"/> takes as it is.</summary>
    public static MemoryStream Stream(byte[] bytes) => new(bytes, 0, bytes.Length, writable: false, publiclyVisible: true);

    /// <summary>Why a member asked for as a document is not here.</summary>
    public ImageException NotKept(string name) => _overLimit.Contains(name)
        ? new(FaultKind.Damaged, Text.Fill(Strings.Archive_DocumentsOverLimit, name, Limit >> 20))
        : new(FaultKind.Damaged, Text.Fill(Strings.Archive_MemberNotADocument, name));
}
