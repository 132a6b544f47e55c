using System.IO.Compression;
using System.Runtime.InteropServices;
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

    private ContainersStorageSource(Store store, string location, IReadOnlyList<ImageCandidate> candidates, TimeSpan wait)
    {
        (Location, Candidates) = (location, candidates);
        Blobs = new TarSplitBlobs(store, wait);
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
        // the store's own read locks while its records are read: a podman or buildah writing them is waited for
        var wait = StoreLock.Wait(options);
        JsonDocument images, layers;
        using (StoreLock.Shared(Path.Combine(store.Images, "images.lock"), wait))
        using (StoreLock.Shared(Path.Combine(store.Layers, "layers.lock"), wait))
        {
            images = ReadJson(Path.Combine(store.Images, "images.json"));
            layers = ReadJson(Path.Combine(store.Layers, "layers.json"));
        }
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
        return new ContainersStorageSource(store, location, [candidate], wait);
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
    private sealed class TarSplitBlobs(Store store, TimeSpan wait) : IBlobReader
    {
        public BlobAccess Access => BlobAccess.Random;

        public Stream Open(LayerRef layer)
        {
            // the layers' read lock for as long as the layer is read: podman cannot remove it meanwhile
            var held = StoreLock.Shared(Path.Combine(store.Layers, "layers.lock"), wait);
            try
            {
                var files = store.Files(layer.BlobPath);
                if (!Directory.Exists(files))
                    throw new ImageException(Text.Format("Error.StorageLayerFolderMissing", files), layer.Index, layer.DiffId);
                var split = store.TarSplit(layer.BlobPath);
                if (!File.Exists(split))
                    throw new ImageException(Text.Format("Error.StorageTarSplitMissing", split), layer.Index, layer.DiffId);
                return new TarSplitStream(File.OpenRead(split), files) { Lock = held };
            }
            catch
            {
                held?.Dispose();
                throw;
            }
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
/// byte for byte the tar the layer was made from. Lines are parsed in place (no document, no string
/// for a segment), and a file is read through its handle.
/// </summary>
internal sealed class TarSplitStream : ReadOnlyForwardStream
{
    private readonly Stream _split;
    private readonly Stream _lines;
    private readonly string _root;
    // the decompressed tar-split: lines are cut from this buffer
    private byte[] _buffer = new byte[1 << 16];
    private int _start, _end;
    private bool _eof;
    // the current segment's bytes (decoded base64), or the current file
    private byte[] _segment = new byte[1024];
    private int _segmentLength, _segmentAt;
    private LayerFile? _file;
    private long _fileLeft;
    private long _line;

    public TarSplitStream(Stream split, string root)
    {
        _split = split;
        _lines = new GZipStream(split, CompressionMode.Decompress);
        _root = Path.GetFullPath(root);
        try
        {
            _folder = new LayerFile.Folder(_root);
        }
        catch (IOException ex)
        {
            _lines.Dispose();
            throw new ImageException(Text.Format("Error.StorageUnreadable", _root, ex.Message));
        }
    }

    private readonly LayerFile.Folder _folder;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            if (_segmentAt < _segmentLength)
            {
                int n = Math.Min(buffer.Length, _segmentLength - _segmentAt);
                _segment.AsSpan(_segmentAt, n).CopyTo(buffer);
                _segmentAt += n;
                return n;
            }
            if (_file is not null)
            {
                if (_fileLeft > 0)
                {
                    int n;
                    try
                    {
                        n = _file.Read(buffer[..(int)Math.Min(buffer.Length, _fileLeft)]);
                    }
                    catch (IOException ex)
                    {
                        throw new ImageException(Text.Format("Error.StorageFileUnreadable", FileName(_name.AsSpan(0, _nameLength)), _root, ex.Message));
                    }
                    if (n <= 0) throw Damaged(Text.Format("Error.StorageFileShort", FileName(_name.AsSpan(0, _nameLength)), _fileLeft));
                    _fileLeft -= n;
                    return n;
                }
                _file.Dispose();
                _file = null;
            }
            if (!Next()) return 0;
        }
    }

    /// <summary>The next line of the tar-split, without its newline; false at its end.</summary>
    private bool NextLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = _buffer.AsSpan(_start, nl);
                _start += nl + 1;
                return true;
            }
            if (_eof)
            {
                line = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                return line.Length > 0;
            }
            // keep the partial line, make room, read more
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            int n;
            try
            {
                n = _lines.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (InvalidDataException ex)
            {
                throw Damaged(ex.Message);
            }
            if (n <= 0) _eof = true;
            else _end += n;
        }
    }

    /// <summary>The next entry of the tar-split; false at its end.</summary>
    private bool Next()
    {
        if (!NextLine(out var line)) return false;
        _line++;
        if (line.IsEmpty) return true;
        int type = 0;
        long size = 0;
        int name = -1; // the name's length in _name, -1 when none
        bool payload = false;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Damaged(Text.Format("Error.StorageTarSplitType", "?"));
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type")) { reader.Read(); type = reader.GetInt32(); }
                else if (reader.ValueTextEquals("size")) { reader.Read(); size = reader.GetInt64(); }
                else if (reader.ValueTextEquals("name")) { reader.Read(); if (reader.TokenType == JsonTokenType.String) name = CopyName(ref reader, raw: false); }
                else if (reader.ValueTextEquals("name_raw")) { reader.Read(); if (reader.TokenType == JsonTokenType.String) name = CopyName(ref reader, raw: true); }
                else if (reader.ValueTextEquals("payload"))
                {
                    reader.Read();
                    payload = reader.TokenType == JsonTokenType.String;
                    if (payload) Decode(ref reader);
                }
                else reader.Skip();
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw Damaged(ex.Message);
        }
        if (type == 2)
        {
            if (!payload) _segmentLength = 0;
            _segmentAt = 0;
            return true;
        }
        _segmentLength = _segmentAt = 0; // a file's payload is its checksum, not tar bytes
        if (type != 1) throw Damaged(Text.Format("Error.StorageTarSplitType", type));
        if (size <= 0) return true;
        if (name < 0) throw Damaged(Text.Get("Error.StorageTarSplitNoName"));
        OpenFile(_name.AsSpan(0, name), size);
        return true;
    }

    // a file's name as bytes, after the root's and a slash: the path given to open(2) is built here, with no string
    private byte[] _name = new byte[256];

    private int CopyName(ref Utf8JsonReader reader, bool raw)
    {
        int max = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (_name.Length < max + 1) _name = new byte[max * 2 + 1];
        if (!raw) return reader.CopyString(_name);
        var bytes = reader.GetBytesFromBase64();
        bytes.CopyTo(_name, 0);
        return bytes.Length;
    }

    /// <summary>A segment's payload, base64 in the line, decoded into the segment buffer.</summary>
    private void Decode(ref Utf8JsonReader reader)
    {
        var text = reader.ValueSpan;
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            var bytes = reader.GetBytesFromBase64();
            if (_segment.Length < bytes.Length) _segment = new byte[bytes.Length];
            bytes.CopyTo(_segment, 0);
            _segmentLength = bytes.Length;
            return;
        }
        int max = System.Buffers.Text.Base64.GetMaxDecodedFromUtf8Length(text.Length);
        if (_segment.Length < max) _segment = new byte[Math.Max(max, _segment.Length * 2)];
        var status = System.Buffers.Text.Base64.DecodeFromUtf8(text, _segment, out _, out int written);
        if (status != System.Buffers.OperationStatus.Done) throw new FormatException(Text.Get("Error.StorageTarSplitBase64"));
        _segmentLength = written;
    }

    private void OpenFile(ReadOnlySpan<byte> name, long size)
    {
        // a name of the layer, relative and staying inside it: "a/b", "./a/b"; never "/a", "a/../../b", "a\0b"
        if (!Inside(name)) throw Damaged(Text.Format("Error.StorageTarSplitBadName", PathText.Escape(Encoding.UTF8.GetString(name))));
        try
        {
            // the name must be the file itself, never a link to something else on the host
            _file = _folder.Open(name) ?? throw Damaged(Text.Format("Error.StorageFileIsALink", FileName(name)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageException(Text.Format("Error.StorageFileUnreadable", FileName(name), _root, ex.Message));
        }
        _nameLength = name.Length;
        _fileLeft = size;
    }

    private int _nameLength;

    private string FileName(ReadOnlySpan<byte> name) => PathText.Escape(Encoding.UTF8.GetString(name));

    /// <summary>True when every component of the name is a plain one (no "..", no NUL, not absolute).</summary>
    private static bool Inside(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name[0] == (byte)'/' || name.Contains((byte)0)) return false;
        foreach (var range in name.Split((byte)'/'))
            if (name[range] is [(byte)'.', (byte)'.']) return false;
        return true;
    }

    private ImageException Damaged(string why) => new(Text.Format("Error.StorageTarSplitDamaged", _line, why));

    /// <summary>The store's read lock, released with the stream.</summary>
    public IDisposable? Lock { get; init; }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Lock?.Dispose();
            _file?.Dispose();
            _folder.Dispose();
            _lines.Dispose();
            _split.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// A file of a layer's folder, read from its start: on Linux opened with O_NOFOLLOW and read with read(2),
/// three system calls a file (a layer folder holds tens of thousands; the runtime's FileStream adds an
/// fstat and two flocks to each, measured 1.7x the uncompressed archive on the 1 GB image); elsewhere
/// through the runtime, a link refused by a look first.
/// </summary>
internal abstract partial class LayerFile : IDisposable
{
    [ThreadStatic] private static byte[]? t_path;

    /// <summary>A layer's folder, opened once: its files are opened relative to it (openat), each path walked from there.</summary>
    public sealed class Folder : IDisposable
    {
        private readonly string _root;
        private int _fd = -1;

        public Folder(string root)
        {
            _root = root;
            if (!OperatingSystem.IsLinux() || NoFollow == 0) return;
            var bytes = Encoding.UTF8.GetBytes(root + "\0");
            unsafe
            {
                fixed (byte* c = bytes) _fd = Posix.Open(c, OpenReadOnly | Directory | CloseOnExec);
            }
            if (_fd < 0) throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }

        /// <summary>The file <paramref name="name"/> (UTF-8, relative), or null when it is a symbolic link.</summary>
        public unsafe LayerFile? Open(ReadOnlySpan<byte> name)
        {
            if (_fd >= 0)
            {
                int length = name.Length + 1;
                var path = t_path is { } p && p.Length >= length ? p : t_path = new byte[Math.Max(length, 512)];
                name.CopyTo(path);
                path[name.Length] = 0;
                int fd;
                fixed (byte* c = path) fd = Posix.OpenAt(_fd, c, OpenReadOnly | NoFollow | CloseOnExec);
                if (fd >= 0) return new Descriptor(fd);
                int errno = Marshal.GetLastPInvokeError();
                if (errno == ELoop) return null;
                throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
            }
            var full = Path.Combine(_root, Encoding.UTF8.GetString(name));
            if (File.ResolveLinkTarget(full, returnFinalTarget: false) is not null) return null;
            return new Managed(File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read));
        }

        public void Dispose()
        {
            if (_fd >= 0) Posix.Close(_fd);
            _fd = -1;
        }
    }

    public abstract int Read(Span<byte> buffer);
    public abstract void Dispose();

    private const int OpenReadOnly = 0, CloseOnExec = 0x80000, ELoop = 40;

    /// <summary>O_DIRECTORY (x86 and arm differ too).</summary>
    private static readonly int Directory = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    /// <summary>O_NOFOLLOW, which differs between Linux's architectures; 0 where not known.</summary>
    private static readonly int NoFollow = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x20000,
        Architecture.Arm64 or Architecture.Arm => 0x8000,
        _ => 0,
    };

    private sealed class Descriptor(int fd) : LayerFile
    {
        private int _fd = fd;

        public override int Read(Span<byte> buffer)
        {
            while (true)
            {
                nint n = Posix.Read(_fd, buffer, buffer.Length);
                if (n >= 0) return (int)n;
                int errno = Marshal.GetLastPInvokeError();
                if (errno != 4) throw new IOException(Marshal.GetPInvokeErrorMessage(errno)); // EINTR: again
            }
        }

        public override void Dispose()
        {
            if (_fd >= 0) Posix.Close(_fd);
            _fd = -1;
        }
    }

    private sealed class Managed(Microsoft.Win32.SafeHandles.SafeFileHandle handle) : LayerFile
    {
        private long _at;

        public override int Read(Span<byte> buffer)
        {
            int n = RandomAccess.Read(handle, buffer, _at);
            _at += n;
            return n;
        }

        public override void Dispose() => handle.Dispose();
    }

    private static partial class Posix
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
        public static unsafe partial int Open(byte* path, int flags);

        [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
        public static unsafe partial int OpenAt(int dirfd, byte* path, int flags);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        public static partial nint Read(int fd, Span<byte> buffer, nint count);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }
}
