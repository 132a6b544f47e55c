using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace LayerDive.Samples;

/// <summary>
/// Large synthetic images for the scaling benchmark: <c>entries</c> small files spread over
/// <c>layers</c> gzip layers, 100 files to a directory, every tenth file rewritten by the next layer
/// (so the merge has modifications to find). Layers are streamed to disk, never held in memory.
/// </summary>
public static class SyntheticImage
{
    public static void WriteOciLayout(string dir, int entries, int layers, string tag = "synthetic")
    {
        var blobs = Path.Combine(dir, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        var layerDescriptors = new JsonArray();
        var diffIds = new JsonArray();
        var history = new JsonArray();
        int perLayer = Math.Max(1, entries / layers);
        var content = Encoding.ASCII.GetBytes(new string('s', 100));
        for (int l = 0; l < layers; l++)
        {
            var temp = Path.Combine(blobs, "tmp-" + l);
            using var diff = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var file = System.IO.File.Create(temp))
            using (var gz = new GZipStream(file, CompressionLevel.Fastest))
            using (var hashing = new HashingWriteStream(gz, diff))
            using (var tar = new TarWriter(hashing, TarEntryFormat.Gnu, leaveOpen: true))
            {
                int first = l * perLayer, last = l == layers - 1 ? entries : first + perLayer;
                string? lastDir = null;
                for (int i = first; i < last; i++)
                {
                    var d = $"data/d{i / 100_000:D2}/d{i / 100:D5}";
                    if (d != lastDir) { tar.WriteEntry(new GnuTarEntry(TarEntryType.Directory, d + "/") { ModificationTime = ImageBuilder.Epoch, AccessTime = ImageBuilder.Epoch, ChangeTime = ImageBuilder.Epoch }); lastDir = d; }
                    // every tenth file of the layer below is rewritten here, with one byte changed
                    if (l > 0 && i % 10 == 0)
                    {
                        int j = i - perLayer;
                        content[0] = (byte)('a' + l % 26);
                        tar.WriteEntry(Entry($"data/d{j / 100_000:D2}/d{j / 100:D5}/f{j:D7}", content));
                    }
                    content[0] = (byte)'s';
                    tar.WriteEntry(Entry($"{d}/f{i:D7}", content));
                }
            }
            var blobDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.IO.File.ReadAllBytes(temp)));
            System.IO.File.Move(temp, Path.Combine(blobs, blobDigest[7..]), overwrite: true);
            diffIds.Add("sha256:" + Convert.ToHexStringLower(diff.GetHashAndReset()));
            layerDescriptors.Add(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = blobDigest, ["size"] = new FileInfo(Path.Combine(blobs, blobDigest[7..])).Length });
            history.Add(new JsonObject { ["created_by"] = $"synthetic layer {l}" });
        }
        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = "amd64", ["os"] = "linux",
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
            ["history"] = history,
        }.ToJsonString());
        var configDigest = Put(blobs, config);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = configDigest, ["size"] = config.Length },
            ["layers"] = layerDescriptors,
        }.ToJsonString());
        var manifestDigest = Put(blobs, manifest);
        System.IO.File.WriteAllText(Path.Combine(dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        System.IO.File.WriteAllText(Path.Combine(dir, "index.json"), new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json", ["digest"] = manifestDigest, ["size"] = manifest.Length,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
            }),
        }.ToJsonString());
    }

    private static GnuTarEntry Entry(string name, byte[] content) => new(TarEntryType.RegularFile, name)
    {
        DataStream = new MemoryStream(content, writable: false), ModificationTime = ImageBuilder.Epoch, AccessTime = ImageBuilder.Epoch, ChangeTime = ImageBuilder.Epoch,
        Mode = (UnixFileMode)0x1A4,
    };

    private static string Put(string blobs, byte[] bytes)
    {
        var digest = ImageBuilder.Digest(bytes);
        System.IO.File.WriteAllBytes(Path.Combine(blobs, digest[7..]), bytes);
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
