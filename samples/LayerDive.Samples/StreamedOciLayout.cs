using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace LayerDive.Samples;

/// <summary>
/// An OCI layout written a layer at a time, for images too large to hold in memory (the benchmark's
/// synthetic and file-heavy images): each layer's tar is streamed through gzip into a temporary blob
/// while its diff id is hashed, then moved to its digest. <see cref="Finish"/> writes the config,
/// the manifest, <c>oci-layout</c> and <c>index.json</c>.
/// </summary>
public sealed class StreamedOciLayout
{
    private readonly string _dir;
    private readonly string _blobs;
    private readonly JsonArray _layers = [];
    private readonly JsonArray _diffIds = [];
    private readonly JsonArray _history = [];

    public StreamedOciLayout(string dir)
    {
        _dir = dir;
        _blobs = Path.Combine(dir, "blobs", "sha256");
        Directory.CreateDirectory(_blobs);
    }

    /// <summary>Writes one gzip layer: <paramref name="write"/> fills its tar. Its history record is <paramref name="history"/>.</summary>
    public void AddLayer(JsonObject history, Action<TarWriter> write, TarEntryFormat format = TarEntryFormat.Gnu, CompressionLevel level = CompressionLevel.Fastest)
    {
        var temp = Path.Combine(_blobs, "tmp-" + _layers.Count);
        using var diff = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = File.Create(temp))
        using (var gz = new GZipStream(file, level))
        using (var hashing = new HashingWriteStream(gz, diff))
        using (var tar = new TarWriter(hashing, format, leaveOpen: true))
            write(tar);
        string blobDigest;
        using (var blob = File.OpenRead(temp))
            blobDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
        File.Move(temp, Path.Combine(_blobs, blobDigest[7..]), overwrite: true);
        _diffIds.Add("sha256:" + Convert.ToHexStringLower(diff.GetHashAndReset()));
        _layers.Add(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = blobDigest, ["size"] = new FileInfo(Path.Combine(_blobs, blobDigest[7..])).Length });
        _history.Add(history);
    }

    /// <summary>A history record that made no layer (ENV, CMD): <c>empty_layer</c> is set on it.</summary>
    public void AddEmptyHistory(JsonObject history)
    {
        history["empty_layer"] = true;
        _history.Add(history);
    }

    public int LayerCount => _layers.Count;

    /// <summary>Writes the config (with <paramref name="configExtra"/>'s members after the rootfs and history), manifest and index.</summary>
    public void Finish(string tag, JsonObject? configExtra = null)
    {
        var configJson = new JsonObject
        {
            ["architecture"] = "amd64", ["os"] = "linux",
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = _diffIds },
            ["history"] = _history,
        };
        if (configExtra is not null)
            foreach (var (key, value) in configExtra.ToList())
            {
                configExtra.Remove(key);
                configJson[key] = value;
            }
        var config = Encoding.UTF8.GetBytes(configJson.ToJsonString());
        var configDigest = Put(config);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = configDigest, ["size"] = config.Length },
            ["layers"] = _layers,
        }.ToJsonString());
        var manifestDigest = Put(manifest);
        File.WriteAllText(Path.Combine(_dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(Path.Combine(_dir, "index.json"), new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json", ["digest"] = manifestDigest, ["size"] = manifest.Length,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
            }),
        }.ToJsonString());
    }

    private string Put(byte[] bytes)
    {
        var digest = ImageBuilder.Digest(bytes);
        File.WriteAllBytes(Path.Combine(_blobs, digest[7..]), bytes);
        return digest;
    }

    /// <summary>Hashes what is written through it (the diff id of a layer being written).</summary>
    private sealed class HashingWriteStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }
    }
}
