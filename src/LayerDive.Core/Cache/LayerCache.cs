using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Cache;

/// <summary>
/// What LayerDive learnt of each layer it read and verified, kept on disk per layer and keyed by its
/// diff id (and the form of its blob), so that a later run meeting that layer merges it from here and
/// never opens its blob. The files are the user's own and still checked: a file that is damaged, cut
/// short, of another format version, of another layer or of another user is ignored (a note) and
/// written anew. A file appears whole or not at all (written aside, synced, renamed into place), so
/// runs at once share the folder; the folder is kept under a size, the least recently used going first.
/// </summary>
internal sealed partial class LayerCache
{
    public const long DefaultMaxBytes = 2L << 30;
    /// <summary>A file this large is neither written nor read (a layer of millions of entries is read from its blob).</summary>
    private const long MaxFileBytes = 1L << 30;
    private const string Suffix = ".ldc";

    private readonly object _gate = new();
    private bool _unwritableTold;
    // the content markers of the layers this run read or took from here, by cache file: what the advice asks
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Dictionary<string, ulong>> _markers = new(StringComparer.Ordinal);

    /// <summary>
    /// Which of the advice's secret markers the file at <paramref name="path"/> of layer <paramref name="r"/>
    /// held (bit i: rule i's), as found when the layer was read and verified; null when this run does not
    /// know (the layer not kept here, or the file not one a secret rule names): the advice reads it then.
    /// </summary>
    public ulong? MarkersOf(LayerDescriptor r, string path) =>
        FileFor(r.DiffId, FormOf(r)) is { } f && _markers.TryGetValue(f, out var map) && map.TryGetValue(path, out var m) ? m : null;

    internal void Remember(string file, Dictionary<string, ulong>? markers)
    {
        if (markers is { Count: > 0 }) _markers[file] = markers;
    }

    public LayerCache(string directory, long maxBytes = DefaultMaxBytes, bool named = true)
    {
        Directory = Path.GetFullPath(directory);
        MaxBytes = maxBytes;
        Named = named;
    }

    /// <summary>The user named the folder (--cache, LAYERDIVE_CACHE): a folder that cannot be written is told of; the default one is quietly left.</summary>
    public bool Named { get; }

    public string Directory { get; }
    public long MaxBytes { get; }

    /// <summary>Layers this run took from the cache.</summary>
    public int Hits => Volatile.Read(ref _hits);
    /// <summary>Layers this run wrote to the cache.</summary>
    public int Writes => Volatile.Read(ref _writes);
    private int _hits, _writes;

    /// <summary>
    /// The cache a run uses: <paramref name="option"/> (--cache DIR) first, none with --no-cache, else
    /// LAYERDIVE_CACHE (a folder; off, 0, false or none turn it off), else $XDG_CACHE_HOME/layerdive,
    /// else ~/.cache/layerdive. LAYERDIVE_CACHE_MAX bounds its size (bytes, or with K, M, G, T).
    /// </summary>
    public static LayerCache? Resolve(string? option, bool disabled, Func<string, string?> env)
    {
        if (disabled) return null;
        string? dir = option;
        if (string.IsNullOrEmpty(dir) && env("LAYERDIVE_CACHE") is { Length: > 0 } fromEnv)
        {
            if (fromEnv.ToLowerInvariant() is "off" or "0" or "false" or "no" or "none") return null;
            dir = fromEnv;
        }
        // the default place is made only inside a home that is there: a run under HOME=/nonexistent makes no folders
        if (string.IsNullOrEmpty(dir) && env("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg) && System.IO.Directory.Exists(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(xdg))))
            dir = Path.Combine(xdg, "layerdive");
        if (string.IsNullOrEmpty(dir) && env("HOME") is { Length: > 0 } home && Path.IsPathRooted(home) && System.IO.Directory.Exists(home))
            dir = Path.Combine(home, ".cache", "layerdive");
        if (string.IsNullOrEmpty(dir)) return null;
        bool named = dir == option || dir == env("LAYERDIVE_CACHE");
        long max = DefaultMaxBytes;
        if (env("LAYERDIVE_CACHE_MAX") is { Length: > 0 } m)
            max = ParseSize(m) ?? throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Cache_BadSize, "LAYERDIVE_CACHE_MAX", m));
        return new LayerCache(dir, max, named);
    }

    /// <summary>"2G", "500M", "1048576": bytes; null when it is none of those.</summary>
    public static long? ParseSize(string text)
    {
        var m = SizeSyntax().Match(text.Trim());
        if (!m.Success) return null;
        long n = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int shift = m.Groups[2].Value.ToUpperInvariant() switch { "K" => 10, "M" => 20, "G" => 30, "T" => 40, _ => 0 };
        return n > long.MaxValue >> shift ? null : n << shift;
    }

    [GeneratedRegex(@"^([0-9]{1,18})\s*([KMGTkmgt]?)(?:i?B)?$")]
    private static partial Regex SizeSyntax();

    [GeneratedRegex("^[a-z0-9]{1,16}:[a-f0-9]{32,128}$")]
    private static partial Regex DigestSyntax();

    /// <summary>
    /// The file of a layer: its diff id, and its blob's digest where that is not the diff id (the same
    /// tar compressed is another blob, whose figures differ). Null for digests no file may be named after.
    /// </summary>
    public string? FileFor(string? diffId, string? blobDigest)
    {
        if (diffId is null || blobDigest is null || !DigestSyntax().IsMatch(diffId) || !DigestSyntax().IsMatch(blobDigest)) return null;
        string name = diffId.Replace(':', '-');
        if (!string.Equals(diffId, blobDigest, StringComparison.Ordinal)) name += "." + blobDigest.Replace(':', '-');
        return Path.Combine(Directory, name + Suffix);
    }

    /// <summary>The blob a source will hand over: the manifest's digest, else (a source that names only diff ids) the tar itself.</summary>
    private static string? FormOf(LayerDescriptor r) => r.Digest ?? r.DiffId;

    /// <summary>
    /// Reads <paramref name="r"/> from the cache into <paramref name="sink"/> when it is there and sound;
    /// else reads it with <paramref name="read"/> (through a sink that records it) and keeps it once its
    /// digests are the ones the image names.
    /// </summary>
    public LayerContents Through(LayerDescriptor r, bool fileSha256, IEntrySink sink, Func<IEntrySink, LayerContents> read, bool lookUp, Action<string>? notice, CancellationToken ct,
        Func<LayerDescriptor, long, bool>? checkBlob = null)
    {
        // the blob is not read, but still looked for where that is cheap: one gone is an error, one of
        // another size than the blob this file was made from is read
        if (lookUp && Open(r, fileSha256, notice) is { } cached && (checkBlob is null || checkBlob(r, cached.StoredSize)))
            return cached.Feed(sink, r.Index, ct);
        using var recorder = Record(r, fileSha256, sink, notice);
        var contents = read((IEntrySink?)recorder ?? sink);
        recorder?.Commit(r, contents);
        return contents;
    }

    /// <summary>Whether the layer's file is there (not yet whether it is sound: <see cref="Open"/> checks that).</summary>
    public bool Holds(LayerDescriptor r) => r.Index >= 0 && FileFor(r.DiffId, FormOf(r)) is { } f && File.Exists(f);

    /// <summary>Every layer's file, or null when one is missing (a source read in its order is then read whole).</summary>
    public IReadOnlyList<CachedLayer>? OpenAll(IReadOnlyList<LayerDescriptor> layers, bool fileSha256, Action<string>? notice)
    {
        if (layers.Count == 0) return null;
        for (int i = 0; i < layers.Count; i++)
            if (layers[i].Index != i || !Holds(layers[i])) return null;
        var all = new List<CachedLayer>(layers.Count);
        foreach (var r in layers)
        {
            if (Open(r, fileSha256, notice) is not { } c) return null;
            all.Add(c);
        }
        return all;
    }

    /// <summary>
    /// A cache file's bytes, read whole: null when it is not there, too large, or not to trust (a link, not a
    /// regular file, another user's: <paramref name="refusal"/> says which).
    /// </summary>
    private static byte[]? ReadOwnFile(string path, out string? refusal)
    {
        using var handle = CacheFiles.OpenOwnFile(path, out refusal);
        if (handle is null) return null;
        long length = RandomAccess.GetLength(handle);
        if (length > MaxFileBytes)
        {
            refusal = Text.Fill(Strings.Cache_TooLarge, length, MaxFileBytes);
            return null;
        }
        var bytes = new byte[length];
        int at = 0;
        while (at < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(at), at);
            if (n == 0) break;
            at += n;
        }
        return at == bytes.Length ? bytes : bytes[..at];
    }

    /// <summary>The layer's file read and checked whole, or null (a miss; a file found unsound is told of).</summary>
    public CachedLayer? Open(LayerDescriptor r, bool fileSha256, Action<string>? notice)
    {
        if (r.Index < 0 || FileFor(r.DiffId, FormOf(r)) is not { } path) return null;
        byte[]? bytes;
        try
        {
            bytes = ReadOwnFile(path, out var refusal);
            if (bytes is null)
            {
                if (refusal is not null) notice?.Invoke(Text.Fill(Strings.Cache_FileIgnored, path, refusal));
                return null;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // unreadable as a file: the blob is read instead
        }
        var problem = CachedLayer.Check(bytes, r.DiffId!, FormOf(r)!, out var layer, this, path);
        if (problem is not null)
        {
            notice?.Invoke(Text.Fill(Strings.Cache_FileIgnored, path, problem));
            return null;
        }
        // a file of another setting is not damaged: read the blob, and keep the setting asked for now
        if (layer!.Sha256 != fileSha256) return null;
        // nor one another build wrote (an upgrade): read again, as this build reads
        if (layer.Build != CacheFormat.Build) return null;
        // the texts of its problems are in the language of the run that wrote it
        if (layer.HasProblems && layer.Language != System.Globalization.CultureInfo.CurrentUICulture.Name) return null;
        Touch(path);
        Interlocked.Increment(ref _hits);
        return layer;
    }

    /// <summary>A use is the file's modification time: eviction goes by it (access times are often not kept).</summary>
    private static void Touch(string path)
    {
        try { File.SetLastWriteTimeUtc(path, DateTime.UtcNow); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* another run evicted it meanwhile */ }
    }

    private static long _temps;

    /// <summary>
    /// A name no other write of this run or of another process has (created with CreateNew, so a clash is a
    /// refused write, never a shared file). Not a Guid: the native runtime draws one from OpenSSL, which in a
    /// root without /dev (a chroot, a minimal container) failed the read with an internal error.
    /// </summary>
    internal static string TempName() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $".{Environment.ProcessId:x}-{Interlocked.Increment(ref _temps):x}-{System.Diagnostics.Stopwatch.GetTimestamp():x}.tmp");

    /// <summary>A sink that writes the layer's entries to a file aside as they pass; null when the layer cannot be kept.</summary>
    private Recorder? Record(LayerDescriptor r, bool fileSha256, IEntrySink sink, Action<string>? notice)
    {
        if (r.DiffId is null || FileFor(r.DiffId, FormOf(r)) is null) return null;
        try
        {
            CacheFiles.EnsureDirectory(Directory);
            var temp = Path.Combine(Directory, TempName());
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var stream = new FileStream(temp, options);
            return new Recorder(this, r, fileSha256, sink, temp, stream, notice);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TellUnwritable(notice, ex.Message);
            return null;
        }
    }

    private void TellUnwritable(Action<string>? notice, string why)
    {
        lock (_gate)
        {
            if (_unwritableTold || !Named) return; // a read-only home (a container's): the default cache is simply not used
            _unwritableTold = true;
        }
        notice?.Invoke(Text.Fill(Strings.Cache_Unwritable, Directory, why));
    }

    /// <summary>Records one layer as it is read; committed when its digests check, removed otherwise.</summary>
    private sealed class Recorder(LayerCache cache, LayerDescriptor r, bool fileSha256, IEntrySink sink, string temp, FileStream file, Action<string>? notice) : IContentSink, IDisposable
    {
        private readonly CacheWriter _writer = Start(file, r, fileSha256);
        private long _records;
        private bool _spoilt, _done;
        // the bytes of the file being read when a secret rule names it, for its content markers
        private readonly MemoryStream _content = new();
        private string? _pending;
        private int _rule;
        private Dictionary<string, ulong>? _markers;

        private static CacheWriter Start(FileStream file, LayerDescriptor r, bool sha256)
        {
            var w = new CacheWriter(file);
            w.Header(r.DiffId!, FormOf(r)!, sha256);
            return w;
        }

        /// <summary>A file a secret rule names (by its name and folder) is copied (its first bytes) for its markers.</summary>
        public Stream? Open(string path)
        {
            var inner = (sink as IContentSink)?.Open(path);
            _pending = null;
            int slash = path.LastIndexOf('/');
            var folder = slash < 0 ? ReadOnlySpan<char>.Empty : path.AsSpan(0, slash);
            int rule = Analysis.Advice.AdviceRules.SecretOf(path.AsSpan(slash + 1), folder[(folder.LastIndexOf('/') + 1)..]);
            // (a rule past bit 63 is not kept: the advice reads that file)
            if (_spoilt || rule is < 0 or >= 64 || Analysis.Advice.AdviceRules.Secrets[rule].MarkerPattern is null) return inner;
            _pending = path;
            _rule = rule;
            _content.SetLength(0);
            return new Analysis.Advice.Advisor.MarkerBytes(_content, inner);
        }

        /// <summary>The file just read: bit i set when it holds the marker of rule i, the rule its name falls to (the advice asks about that rule only).</summary>
        private ulong Markers() => Analysis.Advice.Advisor.HoldsMarker(_rule, _content) ? 1UL << _rule : 0;

        public void Add(in RawEntry entry)
        {
            sink.Add(entry);
            ulong? markers = null;
            if (_pending is not null && entry.Kind == RawKind.Entry && entry.Attributes is not null && string.Equals(entry.Path, _pending, StringComparison.Ordinal))
            {
                // a name held twice: the later copy counts, as in the merge
                markers = Markers();
                (_markers ??= new(StringComparer.Ordinal))[entry.Path] = markers.Value;
            }
            _pending = null;
            if (_spoilt) return;
            try
            {
                if (_writer.Written > MaxFileBytes || !_writer.Entry(entry, r.Index, markers)) _spoilt = true;
                else _records++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _spoilt = true;
                cache.TellUnwritable(notice, ex.Message);
            }
        }

        /// <summary>Keeps the layer if it was read whole and is the one the image names (its diff id, its blob).</summary>
        public void Commit(LayerDescriptor d, LayerContents contents)
        {
            if (_spoilt || contents.DiffId is null || contents.BlobDigest is null) return;
            if (!string.Equals(contents.DiffId, d.DiffId, StringComparison.OrdinalIgnoreCase)) return;
            if (!string.Equals(contents.BlobDigest, FormOf(d), StringComparison.OrdinalIgnoreCase)) return;
            var target = cache.FileFor(d.DiffId, FormOf(d))!;
            try
            {
                _writer.Footer(_records, contents, contents.Problems);
                file.Flush(flushToDisk: true);
                file.Dispose();
                File.Move(temp, target, overwrite: true);
                _done = true;
                Interlocked.Increment(ref cache._writes);
                cache.Remember(target, _markers);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                cache.TellUnwritable(notice, ex.Message);
                return;
            }
            cache.Evict(keep: target);
        }

        public void Dispose()
        {
            file.Dispose();
            if (!_done)
            {
                try { File.Delete(temp); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* left for prune */ }
            }
        }
    }

    /// <summary>One file of the cache, as <c>cache ls</c> lists it.</summary>
    public sealed record Item(string Path, string DiffId, string BlobDigest, long Bytes, DateTime LastUsedUtc, long Entries, string? Problem);

    /// <summary>The cache's files, the least recently used first.</summary>
    public IReadOnlyList<Item> List(bool read)
    {
        var items = new List<Item>();
        if (!System.IO.Directory.Exists(Directory)) return items;
        foreach (var f in new DirectoryInfo(Directory).EnumerateFiles("*" + Suffix))
        {
            string diffId = "", blob = "", problem = "";
            long entries = 0;
            if (read)
            {
                try
                {
                    // as a run reads it: no link followed, no other user's file, nothing larger than the bound
                    var bytes = ReadOwnFile(f.FullName, out var refusal);
                    if (bytes is null) problem = refusal ?? "";
                    else
                    {
                        problem = CachedLayer.Check(bytes, null, null, out var layer) ?? "";
                        if (layer is not null) (diffId, blob, entries) = (layer.DiffId, layer.BlobDigest, layer.Records);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { problem = ex.Message; }
            }
            items.Add(new Item(f.FullName, diffId, blob, f.Length, f.LastWriteTimeUtc, entries, problem.Length == 0 ? null : problem));
        }
        items.Sort((a, b) => a.LastUsedUtc != b.LastUsedUtc ? a.LastUsedUtc.CompareTo(b.LastUsedUtc) : string.CompareOrdinal(a.Path, b.Path));
        return items;
    }

    /// <summary>Removes the least recently used files until the cache holds at most <paramref name="maxBytes"/>; returns the files and bytes removed.</summary>
    public (int Files, long Bytes) Prune(long maxBytes, string? keep = null)
    {
        int files = 0;
        long freed = 0;
        if (!System.IO.Directory.Exists(Directory)) return (0, 0);
        // files a run left half-written when it was killed: an hour is longer than any write takes
        foreach (var t in new DirectoryInfo(Directory).EnumerateFiles(".*.tmp"))
            if (t.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-1) && Delete(t.FullName)) (files, freed) = (files + 1, freed + t.Length);
        var items = List(read: false);
        long total = items.Sum(i => i.Bytes);
        foreach (var i in items)
        {
            if (total <= maxBytes) break;
            if (i.Path == keep) continue;
            if (Delete(i.Path)) (files, freed, total) = (files + 1, freed + i.Bytes, total - i.Bytes);
        }
        return (files, freed);
    }

    /// <summary>Removes every file of the cache (and only those).</summary>
    public (int Files, long Bytes) Clear()
    {
        int files = 0;
        long freed = 0;
        if (!System.IO.Directory.Exists(Directory)) return (0, 0);
        foreach (var f in new DirectoryInfo(Directory).EnumerateFiles("*" + Suffix).Concat(new DirectoryInfo(Directory).EnumerateFiles(".*.tmp")))
            if (Delete(f.FullName)) (files, freed) = (files + 1, freed + f.Length);
        return (files, freed);
    }

    private void Evict(string keep)
    {
        try
        {
            lock (_gate) Prune(MaxBytes, keep);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* the next run tries again */ }
    }

    private static bool Delete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>A layer's cache file, checked whole: its figures and problems, its entries still encoded.</summary>
internal sealed class CachedLayer
{
    private readonly byte[] _bytes;
    private readonly int _entriesAt;

    private CachedLayer(byte[] bytes, int entriesAt) => (_bytes, _entriesAt) = (bytes, entriesAt);

    private LayerCache? Owner { get; init; }
    private string? File { get; init; }
    public string DiffId { get; private init; } = "";
    public string BlobDigest { get; private init; } = "";
    public string Language { get; private init; } = "";
    /// <summary>The LayerDive build that wrote it.</summary>
    public string Build { get; private init; } = "";
    public bool Sha256 { get; private init; }
    public long Records { get; private set; }
    /// <summary>The blob's size as stored, when it was read.</summary>
    public long StoredSize { get; private set; }
    public bool HasProblems { get; private set; }

    /// <summary>Null when <paramref name="bytes"/> are a sound file of this layer (when named); else why not.</summary>
    public static string? Check(byte[] bytes, string? diffId, string? blobDigest, out CachedLayer? layer, LayerCache? owner = null, string? file = null)
    {
        layer = null;
        if (bytes.Length < CacheFormat.Magic.Length + 4 + CacheFormat.TrailerLength || !bytes.AsSpan(0, 4).SequenceEqual(CacheFormat.Magic))
            return Strings.Cache_NotACacheFile;
        int body = bytes.Length - CacheFormat.TrailerLength;
        if (CacheFormat.Checksum(bytes.AsSpan(0, body)) != BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(body)))
            return Strings.Cache_ChecksumWrong;
        var reader = new CacheReader(bytes.AsSpan(0, body));
        try
        {
            reader.Bytes(4);
            ushort version = reader.UInt16();
            if (version != CacheFormat.Version) return Text.Fill(Strings.Cache_OtherVersion, version, CacheFormat.Version);
            ushort flags = reader.UInt16();
            string d = reader.String() ?? "", b = reader.String() ?? "", language = reader.String() ?? "", build = reader.String() ?? "";
            if ((diffId is not null && !string.Equals(d, diffId, StringComparison.OrdinalIgnoreCase))
                || (blobDigest is not null && !string.Equals(b, blobDigest, StringComparison.OrdinalIgnoreCase)))
                return Text.Fill(Strings.Cache_OtherLayer, d);
            var l = new CachedLayer(bytes, reader.Position) { Owner = owner, File = file, DiffId = d, BlobDigest = b, Language = language, Build = build, Sha256 = (flags & CacheFormat.FlagSha256) != 0 };
            // the footer's figures are read now, so that what goes into the merge later cannot fail halfway
            long records = 0;
            // checked as Feed decodes them, but without making them (a warm run's file would be decoded twice)
            while (reader.SkipEntry()) records++;
            if ((long)reader.Unsigned() != records) return Strings.Cache_ChecksumWrong;
            // every figure as Feed will take it, so that a file that passes here cannot fail in the merge
            if (!Enum.IsDefined((Model.Compression)reader.Byte())) throw new CacheFormatException("an unknown compression");
            reader.Byte();
            long stored = 0;
            for (int i = 0; i < 4; i++)
            {
                long figure = reader.Signed();
                if (i == 0) stored = figure;
                // the third is the layer's entry count, an int
                if (i == 2 && figure is < 0 or > int.MaxValue) throw new CacheFormatException("an entry count out of range");
            }
            ulong problems = reader.Unsigned();
            for (ulong i = 0; i < problems; i++)
            {
                if (!Enum.IsDefined((ProblemKind)reader.Byte())) throw new CacheFormatException("an unknown problem");
                reader.String();
                _ = reader.String() ?? throw new CacheFormatException("a problem without a text");
            }
            if (reader.Position != body) return Strings.Cache_ChecksumWrong;
            l.Records = records;
            l.StoredSize = stored;
            l.HasProblems = problems > 0;
            layer = l;
            return null;
        }
        catch (Exception ex) when (ex is CacheFormatException or OverflowException or ArgumentException or System.Text.DecoderFallbackException)
        {
            return Text.Fill(Strings.Cache_Undecodable, ex.Message);
        }
    }

    /// <summary>Hands the entries to <paramref name="sink"/> as the reader would have, and gives the figures and problems the reader found.</summary>
    public LayerContents Feed(IEntrySink sink, int layerIndex, CancellationToken ct)
    {
        var reader = new CacheReader(_bytes.AsSpan(0, _bytes.Length - CacheFormat.TrailerLength));
        reader.Bytes(_entriesAt);
        int n = 0;
        Dictionary<string, ulong>? markers = null;
        while (reader.Entry(layerIndex, out var e, out var m))
        {
            if ((++n & 4095) == 0) ct.ThrowIfCancellationRequested();
            if (m is { } found) (markers ??= new(StringComparer.Ordinal))[e.Path] = found;
            sink.Add(e);
        }
        if (File is not null) Owner?.Remember(File, markers);
        reader.Unsigned();
        var c = new LayerContents
        {
            Compression = (Model.Compression)reader.Byte(),
            EStargz = reader.Byte() != 0,
            DiffId = DiffId,
            BlobDigest = BlobDigest,
            CompressedSize = reader.Signed(),
            UncompressedSize = reader.Signed(),
            EntryCount = checked((int)reader.Signed()),
            HeaderSizeTotal = reader.Signed(),
        };
        ulong problems = reader.Unsigned();
        for (ulong i = 0; i < problems; i++)
        {
            var kind = (ProblemKind)reader.Byte();
            var path = reader.String();
            c.Problems.Add(new Problem(kind, layerIndex, path, reader.String()!));
        }
        return c;
    }
}

/// <summary>The cache's files on disk: its folder the user's own, and a file read only when it is a regular file the user owns.</summary>
internal static unsafe partial class CacheFiles
{
    private const uint StatxUid = 0x8;
    private const int StatxUidOffset = 20;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    public static uint CurrentUser => GetEuid();

    public static void EnsureDirectory(string directory)
    {
        if (System.IO.Directory.Exists(directory)) return;
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(directory);
        else System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>
    /// The file opened for reading, or null: not there (no refusal), or a file not to trust (a link, not
    /// a regular file, another user's: <paramref name="refusal"/> says which).
    /// </summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenOwnFile(string path, out string? refusal)
    {
        refusal = null;
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        fixed (byte* p = bytes)
            handle = Interop.Libc.Open(p, Interop.Libc.ReadOnly | Interop.Libc.NoFollow | Interop.Libc.CloseOnExec | Interop.Libc.NonBlock | Interop.Libc.NoCtty);
        if (handle.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            if (errno == Interop.Libc.ELoop) refusal = Strings.Cache_NotAFile;
            return null;
        }
        byte* buffer = stackalloc byte[Interop.Libc.StatxBufferSize];
        byte empty = 0;
        if (Interop.Libc.Statx(handle, &empty, Interop.Libc.AtEmptyPath | Interop.Libc.AtSymlinkNoFollow, Interop.Libc.StatxType | StatxUid, buffer) != 0)
        {
            handle.Dispose();
            return null;
        }
        int type = *(ushort*)(buffer + Interop.Libc.StatxModeOffset) & Interop.Libc.TypeMask;
        uint owner = *(uint*)(buffer + StatxUidOffset);
        if (type != Interop.Libc.TypeRegular) refusal = Strings.Cache_NotAFile;
        else if (owner != GetEuid()) refusal = Text.Fill(Strings.Cache_OtherOwner, owner, GetEuid());
        if (refusal is null) return handle;
        handle.Dispose();
        return null;
    }
}
