using System.Diagnostics.CodeAnalysis;
using System.Formats.Tar;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Images;

namespace LayerDive.Core.Sources.OnePass;

/// <summary>
/// An image archive read from a stream exactly once (standard input, an engine's export): no
/// temporary file, no second request. Small documents (manifests, configs) are kept as they pass; a
/// layer blob is streamed into the merge when it is known by then which layer it is, and otherwise read
/// into its entries (never its file bytes) and placed once its digests say which layer it is: a
/// legacy <c>docker save</c> stream has its <c>manifest.json</c> at the end, after every layer.
/// </summary>
internal sealed class OnePassArchive : IDisposable
{
    private readonly TarReader _tar;
    private readonly IDisposable _owner;
    private readonly string _what;
    private readonly bool _fileSha256;
    private readonly HeldDocuments _documents = new();
    private readonly Dictionary<string, TarMember> _members = new(StringComparer.Ordinal);
    private readonly List<HeldLayer> _held = [];
    private readonly Dictionary<string, ImageException> _unreadable = new(StringComparer.Ordinal);
    private bool _ended;
    private bool _missed;
    private bool _readOnce;
    private string? _last;

    /// <param name="tar">The archive's tar stream (any whole-archive compression already removed).</param>
    /// <param name="owner">Disposed with the archive (the stream, the response or process behind it).</param>
    /// <param name="what">How messages name the stream ("standard input", "the Docker Engine's export").</param>
    public OnePassArchive(Stream tar, IDisposable owner, string what, bool fileSha256)
    {
        _tar = new TarReader(tar, leaveOpen: true);
        (_owner, _what, _fileSha256) = (owner, what, fileSha256);
        Store = new SeenSoFar(this);
    }

    /// <summary>What has passed so far, as a store the archive candidate logic reads; asking for a member not yet seen reads on.</summary>
    public BlobStore Store { get; }

    /// <summary>Member paths the last pass identified, with the layers each was (a later pass of the same source knows them at once).</summary>
    public Dictionary<string, int[]> Identified { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The kind of archive, as <see cref="ArchiveSource.Detect"/> tells it from the whole: manifest.json
    /// or repositories make a docker-archive, index.json an OCI layout. Docker 25 writes both
    /// index.json and manifest.json (in that order, then oci-layout), so index.json decides only
    /// once oci-layout or the end has come without a manifest.json.
    /// </summary>
    public string DetectKind(CancellationToken ct) => ReadUntil(() =>
        _members.ContainsKey(DockerArchiveManifest.ManifestFile) ? ArchiveSource.DockerArchive
        : _members.ContainsKey(OciLayout.IndexFile) && (_members.ContainsKey("oci-layout") || _ended) ? ArchiveSource.OciArchive
        : _members.ContainsKey(DockerV1Chain.RepositoriesFile) && _ended ? ArchiveSource.DockerArchive
        : _ended ? throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Stream_NotAnImage, _what))
        : MoreNeeded<string>(), ct);

    /// <summary>
    /// Reads on until <paramref name="attempt"/> can be answered from what has passed (see
    /// <see cref="TryNow"/>): it is tried again each time a document or a link arrives, and once at the
    /// end of the stream, where a member not seen is absent. Layers met on the way are read and held.
    /// </summary>
    public T ReadUntil<T>(Func<T> attempt, CancellationToken ct)
    {
        T result;
        while (!TryNow(attempt, out result!))
        {
            while (true)
            {
                var kind = Next(ct, deliver: null);
                if (kind is MemberKind.End or MemberKind.Document or MemberKind.Link) break;
            }
        }
        return result;
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> over what has passed so far. False when it asked for a member that
    /// has not come by yet (<see cref="Has"/>, or the store's lookups) or said it needs more
    /// (<see cref="MoreNeeded"/>) while the stream goes on: what it concluded then, a value or a fault,
    /// was drawn from an absence that may not last, and does not count.
    /// </summary>
    public bool TryNow<T>(Func<T> attempt, [MaybeNullWhen(false)] out T result)
    {
        _missed = false;
        try
        {
            result = attempt();
        }
        catch (ImageException) when (_missed && !_ended)
        {
            result = default;
            return false;
        }
        return !_missed || _ended;
    }

    /// <summary>For an attempt: what it needs has not come by yet (a value it returns is not used).</summary>
    public T MoreNeeded<T>()
    {
        _missed = true;
        return default!;
    }

    /// <summary>
    /// Hands every layer over (see <see cref="IBlobReader.ReadInOrder"/>): first those held already,
    /// then each as it comes, then reads to the end of the stream.
    /// </summary>
    public void ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
    {
        if (_readOnce)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Stream_ReadTwice, _what));
        _readOnce = true;
        var delivery = new Delivery(this, layers, onLayer);
        foreach (var h in _held) delivery.Place(h);
        _held.Clear();
        while (Next(ct, delivery) != MemberKind.End) { }
        delivery.CheckAllCame();
    }

    private enum MemberKind { End, Document, Link, Layer, Other }

    private MemberKind Next(CancellationToken ct, Delivery? deliver)
    {
        ct.ThrowIfCancellationRequested();
        if (_ended) return MemberKind.End;
        TarEntry? e;
        try
        {
            e = _tar.GetNextEntry(copyData: false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException or FormatException or OverflowException)
        {
            string where = _last is null ? "" : Text.Fill(Strings.Stream_After, _last) + (_unreadable.TryGetValue(_last, out var fault) ? $" ({fault.Message})" : "");
            var (layer, diffId) = _last is not null && _unreadable.ContainsKey(_last) ? LayerOf(_last) : (null, null);
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Stream_Damaged, _what, where, ex.Message), layer, diffId, inner: ex);
        }
        if (e is null)
        {
            _ended = true;
            return MemberKind.End;
        }
        var name = PathText.Normalize(e.Name, out _);
        _last = name;
        if (string.IsNullOrEmpty(name) || e.EntryType == TarEntryType.GlobalExtendedAttributes) return MemberKind.Other;
        _members[name] = new TarMember(e.EntryType, -1, e.Length, e.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink ? e.LinkName : null);
        if (e.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink) return MemberKind.Link;
        if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) return MemberKind.Other;

        var data = e.DataStream ?? new MemoryStream([], writable: false);
        if (deliver?.Known(name) is { } indexes)
        {
            deliver.Stream(name, indexes, data);
            return MemberKind.Layer;
        }
        bool kept;
        Stream? rest;
        try
        {
            (kept, rest) = _documents.Offer(name, e.Length, data);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Stream_DamagedInMember, _what, name, ex.Message), inner: ex);
        }
        // a document with no room left is not kept, and asking for it says so
        if (kept || rest is null) return MemberKind.Document;
        try
        {
            var held = HeldLayer.Read(name, rest, _fileSha256, ct);
            if (deliver is null) _held.Add(held);
            else deliver.Place(held);
        }
        catch (ImageException ex)
        {
            // not a layer, or a damaged one: an error only if a layer turns out to be this member (a cut
            // stream fails at the next member anyway, naming this one)
            _unreadable[name] = ex;
        }
        return MemberKind.Layer;
    }

    /// <summary>The layers' diff ids in order, where the source knew them before the stream (an engine's inspect).</summary>
    public IReadOnlyList<string>? DiffIds { get; set; }

    /// <summary>
    /// The layer a member the stream broke off in is, where what passed says so: the digest it is named
    /// by among <see cref="DiffIds"/>, or (a legacy export) its place in the chain of &lt;id&gt;/json parents
    /// counted down to the bottom layer.
    /// </summary>
    private (int?, string?) LayerOf(string member)
    {
        if (Delivery.DigestInName(member) is { } named && DiffIds?.ToList().IndexOf(named) is int at and >= 0) return (at, named);
        string? id = member.EndsWith("/layer.tar", StringComparison.Ordinal) ? member[..^"/layer.tar".Length] : null;
        for (int depth = 0; id is not null && depth < 4096 && _documents.TryGet(id + "/json", out var json); depth++)
        {
            try
            {
                using var doc = Json.Parse(json, id + "/json");
                id = doc.RootElement.String("parent");
            }
            catch (ImageException) { return (null, null); }
            if (id is null) return (depth, DiffIds?.ElementAtOrDefault(depth));
        }
        return (null, null);
    }

    /// <summary>The member a path names after the archive's links, or null when it is not (or not yet) in it.</summary>
    private string? Follow(string path)
    {
        var current = PathText.Normalize(path, out _);
        for (int hops = 0; current is not null && hops < 16; hops++)
        {
            if (!_members.TryGetValue(current, out var m)) return null;
            if (m.Type is not (TarEntryType.SymbolicLink or TarEntryType.HardLink)) return current;
            current = BlobStore.ResolveLinkTarget(current, m.LinkName ?? "", symlink: m.Type == TarEntryType.SymbolicLink);
        }
        return null;
    }

    public void Dispose()
    {
        _tar.Dispose();
        _owner.Dispose();
    }

    /// <summary>The member a path names after the archive's links; asking for one that has not come by yet makes the attempt under way wait for more (<see cref="TryNow"/>).</summary>
    private string? Seek(string path)
    {
        var found = Follow(path);
        if (found is null && !_ended) _missed = true;
        return found;
    }

    /// <summary>Whether a member (after links) has come by; one not seen yet may still come (<see cref="TryNow"/>).</summary>
    public bool Has(string path) => Seek(path) is not null;

    /// <summary>The documents and members seen so far; asking for a member not seen yet makes the attempt under way wait for more.</summary>
    private sealed class SeenSoFar(OnePassArchive archive) : BlobStore
    {
        public override bool IsSequential => true;

        public override string? Resolve(string path) => archive.Seek(path);

        public override Stream Open(string path)
        {
            var p = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in {archive._what}");
            if (archive._documents.TryGet(p, out var d)) return HeldDocuments.Stream(d);
            return archive._members[p].Length == 0 ? new MemoryStream([], writable: false)
                : throw new InvalidOperationException($"'{p}' of {archive._what} passed already");
        }

        private protected override Stream OpenDocument(string path)
        {
            var p = Resolve(path) ?? throw new FileNotFoundException($"'{path}' is not in {archive._what}");
            return archive._documents.TryGet(p, out _) || archive._members[p].Length == 0 ? Open(p) : throw archive._documents.NotKept(p);
        }

        public override long? SizeOf(string path) => archive.Follow(path) is { } p ? archive._members[p].Length : null;

        public override IEnumerable<string> Paths => archive._members.Keys;
    }

    /// <summary>One pass's hand-over: which member is which layer, and which layers came.</summary>
    private sealed class Delivery(OnePassArchive archive, IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer)
    {
        /// <summary>The member a layer is named by, through the archive's links, where its locator names one that has passed.</summary>
        private string? MemberOf(LayerDescriptor l) => l.Locator is LayerLocator.Member m ? archive.Follow(m.Path) : null;

        private readonly bool[] _came = new bool[layers.Count == 0 ? 0 : layers.Max(l => l.Index) + 1];
        // a later pass may want some layers only: what an earlier pass learnt of a member names the others too
        private readonly HashSet<int> _wanted = layers.Select(l => l.Index).ToHashSet();
        private readonly List<HeldLayer> _strangers = [];

        /// <summary>The layers a member is by its path (through the archive's links), before its bytes are read.</summary>
        public int[]? Known(string member)
        {
            if (archive.Identified.TryGetValue(member, out var learned)) return Waiting(learned);
            var named = DigestInName(member);
            var indexes = layers.Where(l => !_came[l.Index] && (MemberOf(l) == member
                || (named is not null && MemberOf(l) is null && (Same(l.DiffId, named) || Same(l.Digest, named))))).Select(l => l.Index).ToArray();
            return indexes.Length > 0 ? indexes : null;
        }

        /// <summary>The digest a content-addressed member is named by (blobs/sha256/HEX, or Podman's HEX.tar), else null.</summary>
        internal static string? DigestInName(string member)
        {
            var hex = member.StartsWith("blobs/sha256/", StringComparison.Ordinal) ? member["blobs/sha256/".Length..]
                : member.EndsWith(".tar", StringComparison.Ordinal) && !member.Contains('/') ? member[..^4] : null;
            return hex is { Length: 64 } && hex.All(char.IsAsciiHexDigitLower) ? "sha256:" + hex : null;
        }

        private int[]? Waiting(int[] indexes)
        {
            var left = indexes.Where(i => _wanted.Contains(i) && !_came[i]).ToArray();
            return left.Length > 0 ? left : null;
        }

        public void Stream(string member, int[] indexes, Stream data)
        {
            Mark(member, indexes);
            onLayer(indexes, LayerArrival.Of(data));
        }

        /// <summary>Places a layer read already: by its member's path, else by its diff id or blob digest.</summary>
        public void Place(HeldLayer held)
        {
            var indexes = Known(held.Member) ?? layers.Where(l => !_came[l.Index] && MemberOf(l) is null
                && (Same(l.DiffId, held.Contents.DiffId) || Same(l.Digest, held.Contents.BlobDigest))).Select(l => l.Index).ToArray();
            if (indexes.Length == 0)
            {
                _strangers.Add(held);
                return;
            }
            Mark(held.Member, indexes);
            onLayer(indexes, LayerArrival.Of(held));
        }

        private void Mark(string member, int[] indexes)
        {
            foreach (var i in indexes) _came[i] = true;
            archive.Identified.TryAdd(member, indexes); // the first pass's, which took every layer
        }

        private static bool Same(string? expected, string? actual) =>
            expected is not null && string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase);

        public void CheckAllCame()
        {
            foreach (var l in layers)
            {
                if (_came[l.Index]) continue;
                string id = l.Id;
                if (MemberOf(l) is { } member && archive._unreadable.TryGetValue(member, out var fault))
                    throw new ImageException(fault.Kind, fault.Message, l.Index, id, fault.EntryName, fault);
                if (MemberOf(l) is null && _strangers.Count > 0)
                    throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Stream_LayerNotInArchive, archive._what, string.Join(", ", _strangers.Select(s => Text.Fill(Strings.Stream_HeldMember, s.Member, s.Contents.DiffId)))), l.Index, id);
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Stream_BlobMissing, l.Locator, archive._what), l.Index, id);
            }
        }
    }
}
