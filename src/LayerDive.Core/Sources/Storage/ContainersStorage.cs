using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Sources.Storage;

/// <summary>
/// An image in a containers-storage store (what podman, buildah and CRI-O keep on disk), read without
/// any engine: <c>containers-storage:[DRIVER@ROOT+RUNROOT]NAME</c> as skopeo and podman spell it. The
/// image's record in <c>images.json</c> names its top layer and its config and manifest (big-data files
/// <c>=base64(key)</c>); <c>layers.json</c> chains the layers; each layer's exact tar is rebuilt from its
/// <c>tar-split</c> (the tar's headers and padding, as JSON lines) with the file bodies from the layer's
/// folder (overlay: <c>overlay/ID/diff</c>; vfs: <c>vfs/dir/ID</c>), so its diff id verifies and the merge
/// sees what an export would give, with no compression at all. Nothing is written; a layer the store
/// marks incomplete (being written) is refused.
/// </summary>
internal sealed partial class ContainersStorageSource : IImageSource
{
    public const string KindName = "containers-storage";
    public const string DefaultRoot = "/var/lib/containers/storage";

    private ContainersStorageSource(Store store, string location, IReadOnlyList<ImageCandidate> candidates)
    {
        (Location, Candidates) = (location, candidates);
        Blobs = new TarSplitBlobs(store);
    }

    public string Kind => KindName;
    public string Location { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public IBlobReader Blobs { get; }
    public void Dispose() { }

    /// <summary>A store: its driver and root.</summary>
    internal sealed record Store(string Driver, string Root)
    {
        public string Images => Path.Combine(Root, Driver + "-images");
        public string Layers => Path.Combine(Root, Driver + "-layers");

        /// <summary>The folder of a layer's files: overlay's <c>diff</c>, vfs's whole tree.</summary>
        public string Files(string id) => Driver == "vfs" ? Path.Combine(Root, "vfs", "dir", id) : Path.Combine(Root, Driver, id, "diff");

        public string TarSplit(string id) => Path.Combine(Layers, id + ".tar-split.gz");
    }

    /// <summary>Parses <c>[DRIVER@ROOT+RUNROOT:OPTIONS]NAME</c> (every part of the brackets optional) and opens the image.</summary>
    public static IImageSource Open(string spec, SourceOptions options)
    {
        string? driver = null, root = null;
        string name = spec;
        if (spec.StartsWith('['))
        {
            int close = spec.IndexOf(']');
            if (close < 0) throw new ImageException(Text.Format("Error.StorageSpecUnclosed", spec));
            var inside = spec[1..close];
            name = spec[(close + 1)..];
            int at = inside.IndexOf('@');
            if (at >= 0) { driver = inside[..at]; inside = inside[(at + 1)..]; }
            int colon = inside.IndexOf(':');
            if (colon >= 0) inside = inside[..colon]; // mount options: nothing to read with them
            int plus = inside.IndexOf('+');
            root = plus >= 0 ? inside[..plus] : inside;
            if (root.Length == 0) root = null;
        }
        if (name.Length == 0) throw new ImageException(Text.Format("Error.StorageNoName", spec));
        var (confDriver, confRoot) = StorageConf(options);
        root ??= confRoot ?? DefaultRoot;
        driver ??= confDriver is { } d && Directory.Exists(Path.Combine(root, d + "-images")) ? d
            : new[] { "overlay", "vfs" }.FirstOrDefault(x => Directory.Exists(Path.Combine(root, x + "-images")));
        if (driver is null || !Directory.Exists(Path.Combine(root, driver + "-images")))
            throw new ImageException(Text.Format("Error.StorageNoStore", root, driver ?? "overlay, vfs"));
        var store = new Store(driver, root);
        var location = $"{KindName}:[{driver}@{root}]{name}";
        var images = ReadJson(Path.Combine(store.Images, "images.json"));
        var layers = ReadJson(Path.Combine(store.Layers, "layers.json"));
        var image = Find(images.RootElement, name) ?? throw new ImageException(Text.Format("Error.StorageNoImage", name, root,
            string.Join(", ", images.RootElement.EnumerateArray().SelectMany(i => i.Strings("names")).Take(8).DefaultIfEmpty("none"))));
        var id = image.String("id")!;
        var names = image.Strings("names");
        string shown = names.FirstOrDefault(n => n == name || n.EndsWith("/" + name, StringComparison.Ordinal) || n.EndsWith("/" + name + ":latest", StringComparison.Ordinal)) ?? names.FirstOrDefault() ?? id[..12];
        var byId = layers.RootElement.EnumerateArray().Where(l => l.String("id") is not null).ToDictionary(l => l.String("id")!, l => l.Clone());
        var chain = Chain(image.String("layer"), byId, name);
        var manifestDigest = image.String("digest");
        var candidate = new ImageCandidate
        {
            Name = shown,
            Tags = names,
            ConfigDigest = "sha256:" + id,
            ManifestDigest = manifestDigest,
            Resolve = () => Resolve(store, id, shown, chain, options, manifestDigest),
        };
        images.Dispose();
        layers.Dispose();
        return new ContainersStorageSource(store, location, [candidate]);
    }

    private static ResolvedImage Resolve(Store store, string id, string name, IReadOnlyList<JsonElement> chain, SourceOptions options, string? manifestDigest)
    {
        var configPath = BigData(store, id, "sha256:" + id);
        if (!File.Exists(configPath)) throw new ImageException(Text.Format("Error.TheConfigIsMissing", configPath));
        var bytes = File.ReadAllBytes(configPath);
        if (options.Verify) ArchiveSource.VerifyDocument(bytes, "sha256:" + id, "config");
        var config = ArchiveSource.ParseConfig(bytes, "sha256:" + id, "config");
        if (config.DiffIds.Count != chain.Count)
            throw new ImageException(Text.Format("Error.TheManifestListsLayersButThe", chain.Count, config.DiffIds.Count));
        var refs = new List<LayerRef>();
        for (int i = 0; i < chain.Count; i++)
        {
            var l = chain[i];
            var layerId = l.String("id")!;
            // the rebuilt tar is the layer's uncompressed stream: its digest is the diff digest the store recorded
            refs.Add(new LayerRef(i, layerId, "application/vnd.oci.image.layer.v1.tar", l.String("diff-digest"), l.Long("diff-size"), config.DiffIds[i]));
        }
        return new ResolvedImage(name, config, refs, manifestDigest);
    }

    /// <summary>The path of an image's big-data file: <c>=</c> and the key in base64.</summary>
    private static string BigData(Store store, string imageId, string key) =>
        Path.Combine(store.Images, imageId, "=" + Convert.ToBase64String(Encoding.UTF8.GetBytes(key)));

    /// <summary>The layers from the bottom to <paramref name="top"/>, by their parents.</summary>
    private static List<JsonElement> Chain(string? top, Dictionary<string, JsonElement> byId, string name)
    {
        var chain = new List<JsonElement>();
        for (var id = top; id is not null;)
        {
            if (!byId.TryGetValue(id, out var layer)) throw new ImageException(Text.Format("Error.StorageLayerMissing", ImageException.ShortDigest(id), name));
            if (layer.Get("flags") is { } flags && flags.Bool("incomplete"))
                throw new ImageException(Text.Format("Error.StorageLayerIncomplete", ImageException.ShortDigest(id)));
            chain.Add(layer);
            if (chain.Count > 4096) throw new ImageException(Text.Format("Error.StorageLayerLoop", name));
            id = layer.String("parent");
        }
        chain.Reverse();
        return chain;
    }

    /// <summary>The image <paramref name="name"/> names: a name as stored, the same with <c>:latest</c>, <c>localhost/</c> or <c>docker.io/[library/]</c> before it, or an id (prefix).</summary>
    private static JsonElement? Find(JsonElement images, string name)
    {
        if (images.ValueKind != JsonValueKind.Array) return null;
        var all = images.EnumerateArray().ToList();
        var wanted = new List<string> { name };
        bool tagged = name.Contains('@') || name[(name.LastIndexOf('/') + 1)..].Contains(':');
        if (!tagged) wanted.Add(name + ":latest");
        bool hasDomain = name.IndexOf('/') is var slash and > 0 && (name[..slash].Contains('.') || name[..slash].Contains(':') || name[..slash] == "localhost");
        if (!hasDomain)
            foreach (var w in wanted.ToList())
            {
                wanted.Add("localhost/" + w);
                wanted.Add("docker.io/" + w);
                if (!w.Contains('/')) wanted.Add("docker.io/library/" + w);
            }
        foreach (var w in wanted)
            foreach (var i in all)
                if (i.Strings("names").Contains(w)) return i;
        var hex = name.StartsWith("sha256:", StringComparison.Ordinal) ? name[7..] : name;
        if (HexId().IsMatch(hex))
        {
            var matches = all.Where(i => (i.String("id") ?? "").StartsWith(hex, StringComparison.Ordinal) || i.String("digest") == "sha256:" + hex).ToList();
            if (matches.Count == 1) return matches[0];
        }
        return null;
    }

    [GeneratedRegex("^[0-9a-f]{4,64}$")]
    private static partial Regex HexId();

    private static JsonDocument ReadJson(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageException(Text.Format("Error.StorageUnreadable", path, ex.Message));
        }
        return Json.Parse(bytes, path);
    }

    /// <summary>The driver and root of <c>storage.conf</c> ($CONTAINERS_STORAGE_CONF, else /etc/containers/storage.conf), where set.</summary>
    private static (string? Driver, string? Root) StorageConf(SourceOptions options)
    {
        var path = options.Env("CONTAINERS_STORAGE_CONF") ?? "/etc/containers/storage.conf";
        if (!File.Exists(path)) return (null, null);
        string? driver = null, root = null;
        bool inStorage = false;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('[')) { inStorage = line == "[storage]"; continue; }
            if (!inStorage) continue;
            var m = TomlString().Match(line);
            if (!m.Success) continue;
            if (m.Groups[1].Value == "driver") driver = m.Groups[2].Value;
            else if (m.Groups[1].Value == "graphroot") root = m.Groups[2].Value;
        }
        return (driver is { Length: > 0 } ? driver : null, root is { Length: > 0 } ? root : null);
    }

    [GeneratedRegex("""^([a-z_]+)\s*=\s*"([^"]*)"\s*(?:#.*)?$""")]
    private static partial Regex TomlString();

    /// <summary>Every layer rebuilt on its own, in any order and at once: the store is a folder.</summary>
    private sealed class TarSplitBlobs(Store store) : IBlobReader
    {
        public BlobAccess Access => BlobAccess.Random;

        public Stream Open(LayerRef layer)
        {
            var files = store.Files(layer.BlobPath);
            if (!Directory.Exists(files))
                throw new ImageException(Text.Format("Error.StorageLayerFolderMissing", files), layer.Index, layer.DiffId);
            var split = store.TarSplit(layer.BlobPath);
            if (!File.Exists(split))
                throw new ImageException(Text.Format("Error.StorageTarSplitMissing", split), layer.Index, layer.DiffId);
            return new TarSplitStream(File.OpenRead(split), files);
        }

        public void ReadInOrder(IReadOnlyList<LayerRef> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
        {
            foreach (var l in layers)
            {
                ct.ThrowIfCancellationRequested();
                using var s = Open(l);
                onLayer([l.Index], LayerArrival.Of(s));
            }
        }
    }
}

/// <summary>
/// A layer's tar rebuilt from its tar-split (vbatts/tar-split: gzip'd JSON lines; type 2 a segment of
/// raw tar bytes, type 1 a file whose <c>size</c> bytes come from <c>name</c> under the layer's folder),
/// byte for byte the tar the layer was made from.
/// </summary>
internal sealed class TarSplitStream : ReadOnlyForwardStream
{
    private readonly Stream _split;
    private readonly StreamReader _lines;
    private readonly string _root;
    private byte[] _segment = [];
    private int _segmentAt;
    private Stream? _file;
    private long _fileLeft;
    private string _fileName = "";
    private long _line;

    public TarSplitStream(Stream split, string root)
    {
        _split = split;
        try
        {
            _lines = new StreamReader(new GZipStream(split, CompressionMode.Decompress), Encoding.UTF8, false, 1 << 16);
        }
        catch
        {
            split.Dispose();
            throw;
        }
        _root = Path.GetFullPath(root);
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            if (_segmentAt < _segment.Length)
            {
                int n = Math.Min(buffer.Length, _segment.Length - _segmentAt);
                _segment.AsSpan(_segmentAt, n).CopyTo(buffer);
                _segmentAt += n;
                return n;
            }
            if (_file is not null)
            {
                if (_fileLeft > 0)
                {
                    int n = _file.Read(buffer[..(int)Math.Min(buffer.Length, _fileLeft)]);
                    if (n <= 0) throw Damaged(Text.Format("Error.StorageFileShort", _fileName, _fileLeft));
                    _fileLeft -= n;
                    return n;
                }
                _file.Dispose();
                _file = null;
            }
            if (!Next()) return 0;
        }
    }

    /// <summary>The next entry of the tar-split; false at its end.</summary>
    private bool Next()
    {
        string? line;
        try
        {
            line = _lines.ReadLine();
        }
        catch (InvalidDataException ex)
        {
            throw Damaged(ex.Message);
        }
        if (line is null) return false;
        _line++;
        if (line.Length == 0) return Next();
        try
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            int type = e.GetProperty("type").GetInt32();
            if (type == 2)
            {
                _segment = e.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.String ? p.GetBytesFromBase64() : [];
                _segmentAt = 0;
                return true;
            }
            if (type != 1) throw Damaged(Text.Format("Error.StorageTarSplitType", type));
            long size = e.TryGetProperty("size", out var s) ? s.GetInt64() : 0;
            if (size <= 0) return true;
            string name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!
                : e.TryGetProperty("name_raw", out var raw) && raw.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetString(raw.GetBytesFromBase64())
                : throw Damaged(Text.Format("Error.StorageTarSplitNoName"));
            OpenFile(name, size);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Damaged(ex.Message);
        }
    }

    private void OpenFile(string name, long size)
    {
        var norm = PathText.Normalize(name, out _);
        if (norm is null || norm.Length == 0) throw Damaged(Text.Format("Error.StorageTarSplitBadName", name));
        var path = Path.Combine(_root, norm);
        _fileName = norm;
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null) throw Damaged(Text.Format("Error.StorageFileIsALink", norm));
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageException(Text.Format("Error.StorageFileUnreadable", norm, _root, ex.Message));
        }
        _fileLeft = size;
    }

    private ImageException Damaged(string why) => new(Text.Format("Error.StorageTarSplitDamaged", _line, why));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
            _lines.Dispose();
            _split.Dispose();
        }
        base.Dispose(disposing);
    }
}
