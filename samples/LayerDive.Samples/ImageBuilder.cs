using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LayerDive.Samples;

/// <summary>Layer blob compression for <see cref="ImageBuilder"/>.</summary>
public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>
/// Builds small container images in code, byte for byte as the tools that make real ones lay them
/// out: layers written with TarWriter, a config with diff_ids and history, then an OCI layout
/// (directory or archive) or a docker-archive. Deterministic: the same calls give the same bytes.
/// </summary>
public sealed class ImageBuilder
{
    public static readonly DateTimeOffset Epoch = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly List<(LayerBuilder? Layer, string CreatedBy, string? Comment)> _steps = [];

    public string Architecture { get; set; } = "amd64";

    /// <summary>Rewrites layer N's uncompressed tar before its diff id is taken (broken-input tests).</summary>
    public Func<int, byte[], byte[]>? TamperTar { get; set; }

    /// <summary>Rewrites layer N's stored blob before its digest is taken (broken-input tests).</summary>
    public Func<int, byte[], byte[]>? TamperBlob { get; set; }

    /// <summary>Edits the manifest before it is written (broken-input tests).</summary>
    public Action<JsonObject>? TamperManifest { get; set; }
    public string Os { get; set; } = "linux";

    /// <summary>Adds a layer made by <paramref name="build"/>.</summary>
    public ImageBuilder Layer(string createdBy, Action<LayerBuilder> build, string? comment = null)
    {
        var layer = new LayerBuilder();
        build(layer);
        _steps.Add((layer, createdBy, comment));
        return this;
    }

    /// <summary>Adds a history entry that made no layer (ENV, LABEL, CMD).</summary>
    public ImageBuilder Empty(string createdBy)
    {
        _steps.Add((null, createdBy, null));
        return this;
    }

    public IReadOnlyList<LayerBuilder> Layers => _steps.Where(s => s.Layer is not null).Select(s => s.Layer!).ToList();

    // ---------------- output ----------------

    public sealed record Blob(string Digest, byte[] Bytes, string MediaType);

    /// <summary>The layer blobs, config and manifest as an OCI image would have them.</summary>
    public (List<Blob> Layers, List<string> DiffIds, Blob Config, Blob Manifest) Build(LayerCompression compression = LayerCompression.Gzip)
    {
        var layers = new List<Blob>();
        var diffIds = new List<string>();
        int n = 0;
        foreach (var l in Layers)
        {
            var tar = l.ToTar();
            if (TamperTar is not null) tar = TamperTar(n, tar);
            diffIds.Add(Digest(tar));
            var (bytes, type) = Compress(tar, compression);
            if (TamperBlob is not null) bytes = TamperBlob(n, bytes);
            layers.Add(new Blob(Digest(bytes), bytes, type));
            n++;
        }
        var history = new JsonArray();
        int i = 0;
        foreach (var (layer, createdBy, comment) in _steps)
        {
            var h = new JsonObject { ["created"] = Epoch.AddMinutes(i++).ToString("yyyy-MM-ddTHH:mm:ssZ"), ["created_by"] = createdBy };
            if (comment is not null) h["comment"] = comment;
            if (layer is null) h["empty_layer"] = true;
            history.Add(h);
        }
        var config = new JsonObject
        {
            ["created"] = Epoch.AddMinutes(i).ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["architecture"] = Architecture,
            ["os"] = Os,
            ["config"] = new JsonObject { ["Env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffIds.Select(d => (JsonNode)d!).ToArray()) },
            ["history"] = history,
        };
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        var configBlob = new Blob(Digest(configBytes), configBytes, "application/vnd.oci.image.config.v1+json");
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = Descriptor(configBlob),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)Descriptor(l)).ToArray()),
        };
        TamperManifest?.Invoke(manifest);
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        return (layers, diffIds, configBlob, new Blob(Digest(manifestBytes), manifestBytes, "application/vnd.oci.image.manifest.v1+json"));
    }

    /// <summary>An OCI image layout directory holding this image under <paramref name="tag"/>.</summary>
    public void WriteOciLayout(string dir, string tag = "latest", LayerCompression compression = LayerCompression.Gzip)
    {
        foreach (var (name, bytes) in OciFiles(tag, compression))
        {
            var path = Path.Combine(dir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
    }

    /// <summary>The same layout inside a tar (what skopeo's oci-archive: writes).</summary>
    public void WriteOciArchive(string path, string tag = "latest", LayerCompression compression = LayerCompression.Gzip) =>
        WriteTar(path, OciFiles(tag, compression));

    /// <summary>A docker save archive: manifest.json, &lt;config&gt;.json and &lt;id&gt;/layer.tar (uncompressed layers).</summary>
    public void WriteDockerArchive(string path, string repoTag = "sample:latest")
    {
        var (layers, _, config, _) = Build(LayerCompression.None);
        var files = new List<(string, byte[])>();
        var layerPaths = new List<string>();
        foreach (var l in layers)
        {
            var id = l.Digest[7..];
            files.Add(($"{id}/VERSION", "1.0"u8.ToArray()));
            files.Add(($"{id}/layer.tar", l.Bytes));
            layerPaths.Add($"{id}/layer.tar");
        }
        files.Add(($"{config.Digest[7..]}.json", config.Bytes));
        var manifest = new JsonArray(new JsonObject
        {
            ["Config"] = $"{config.Digest[7..]}.json",
            ["RepoTags"] = new JsonArray(repoTag),
            ["Layers"] = new JsonArray(layerPaths.Select(p => (JsonNode)p!).ToArray()),
        });
        files.Add(("manifest.json", Encoding.UTF8.GetBytes(manifest.ToJsonString())));
        WriteTar(path, files);
    }

    private List<(string Name, byte[] Bytes)> OciFiles(string tag, LayerCompression compression)
    {
        var (layers, _, config, manifest) = Build(compression);
        var files = new List<(string, byte[])> { ("oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray()) };
        var desc = Descriptor(manifest);
        desc["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };
        var index = new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(desc) };
        files.Add(("index.json", Encoding.UTF8.GetBytes(index.ToJsonString())));
        foreach (var b in layers.Append(config).Append(manifest).DistinctBy(b => b.Digest))
            files.Add(($"blobs/sha256/{b.Digest[7..]}", b.Bytes));
        return files;
    }

    /// <summary>A plain tar of the given files (for hand-made archives).</summary>
    public static void WriteTar(string path, IEnumerable<(string Name, byte[] Bytes)> files)
    {
        using var fs = File.Create(path);
        using var w = new TarWriter(fs, TarEntryFormat.Ustar, leaveOpen: false);
        foreach (var (name, bytes) in files)
        {
            var e = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes), ModificationTime = Epoch, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
            w.WriteEntry(e);
        }
    }

    private static JsonObject Descriptor(Blob b) => new() { ["mediaType"] = b.MediaType, ["digest"] = b.Digest, ["size"] = b.Bytes.Length };

    public static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static (byte[] Bytes, string MediaType) Compress(byte[] tar, LayerCompression compression)
    {
        switch (compression)
        {
            case LayerCompression.None:
                return (tar, "application/vnd.oci.image.layer.v1.tar");
            case LayerCompression.Gzip:
            {
                var ms = new MemoryStream();
                using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(tar);
                return (ms.ToArray(), "application/vnd.oci.image.layer.v1.tar+gzip");
            }
            case LayerCompression.Zstd:
            {
                var ms = new MemoryStream();
                using (var z = new SharpCompress.Compressors.ZStandard.CompressionStream(ms, 3, 1 << 16, leaveOpen: true)) z.Write(tar);
                return (ms.ToArray(), "application/vnd.oci.image.layer.v1.tar+zstd");
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(compression));
        }
    }
}

/// <summary>The entries of one layer, written in the order they are added.</summary>
public sealed class LayerBuilder
{
    private readonly List<Func<TarEntry>> _entries = [];

    public const UnixFileMode Dir755 = (UnixFileMode)0x1ED;
    public const UnixFileMode File644 = (UnixFileMode)0x1A4;

    public LayerBuilder Dir(string name, int mode = 0x1ED, int uid = 0, int gid = 0) =>
        Add(() => Entry(TarEntryType.Directory, name.EndsWith('/') ? name : name + "/", mode, uid, gid));

    public LayerBuilder File(string name, string content, int mode = 0x1A4, int uid = 0, int gid = 0, DateTimeOffset? mtime = null) =>
        File(name, Encoding.UTF8.GetBytes(content), mode, uid, gid, mtime);

    public LayerBuilder File(string name, byte[] content, int mode = 0x1A4, int uid = 0, int gid = 0, DateTimeOffset? mtime = null) =>
        Add(() =>
        {
            var e = Entry(TarEntryType.RegularFile, name, mode, uid, gid, mtime);
            e.DataStream = new MemoryStream(content);
            return e;
        });

    public LayerBuilder Symlink(string name, string target) =>
        Add(() =>
        {
            var e = Entry(TarEntryType.SymbolicLink, name, 0x1FF, 0, 0);
            e.LinkName = target;
            return e;
        });

    public LayerBuilder Hardlink(string name, string target, int mode = 0x1A4, int uid = 0, int gid = 0) =>
        Add(() =>
        {
            var e = Entry(TarEntryType.HardLink, name, mode, uid, gid);
            e.LinkName = target;
            return e;
        });

    public LayerBuilder CharDevice(string name, int major, int minor, int mode = 0x1B6) =>
        Add(() =>
        {
            var e = Entry(TarEntryType.CharacterDevice, name, mode, 0, 0);
            e.DeviceMajor = major;
            e.DeviceMinor = minor;
            return e;
        });

    public LayerBuilder Fifo(string name, int mode = 0x1A4) => Add(() => Entry(TarEntryType.Fifo, name, mode, 0, 0));

    /// <summary><c>DIR/.wh.NAME</c>: deletes <paramref name="path"/> as the lower layers have it.</summary>
    public LayerBuilder Whiteout(string path)
    {
        int slash = path.LastIndexOf('/');
        string marker = slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..];
        return Add(() => Entry(TarEntryType.RegularFile, marker, 0x1A4, 0, 0));
    }

    /// <summary><c>DIR/.wh..wh..opq</c>: hides every lower child of <paramref name="dir"/>.</summary>
    public LayerBuilder Opaque(string dir) => Add(() => Entry(TarEntryType.RegularFile, dir.TrimEnd('/') + "/.wh..wh..opq", 0x1A4, 0, 0));

    /// <summary>Any entry, for the cases the helpers do not cover.</summary>
    public LayerBuilder Raw(Func<TarEntry> entry) => Add(entry);

    private LayerBuilder Add(Func<TarEntry> e)
    {
        _entries.Add(e);
        return this;
    }

    /// <summary>
    /// A ustar entry when the name fits (every tar reader agrees on those), else GNU with a long-name
    /// record. Neither carries a process id or the current time, so the bytes are reproducible.
    /// </summary>
    private static PosixTarEntry Entry(TarEntryType type, string name, int mode, int uid, int gid, DateTimeOffset? mtime = null)
    {
        var time = mtime ?? ImageBuilder.Epoch;
        PosixTarEntry e = System.Text.Encoding.UTF8.GetByteCount(name) <= 100
            ? new UstarTarEntry(type, name)
            : new GnuTarEntry(type, name) { AccessTime = time, ChangeTime = time };
        e.Mode = (UnixFileMode)mode;
        e.Uid = uid;
        e.Gid = gid;
        e.ModificationTime = time;
        return e;
    }

    public byte[] ToTar()
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
            foreach (var e in _entries) w.WriteEntry(e());
        return ms.ToArray();
    }
}
