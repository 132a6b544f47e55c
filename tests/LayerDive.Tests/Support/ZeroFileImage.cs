using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace LayerDive.Tests.Support;

/// <summary>
/// A docker-archive whose one gzip layer holds a large file of zeros beside a small text file: written as
/// it is generated (the zeros are never held in memory), it compresses to about a thousandth of its size.
/// </summary>
internal static class ZeroFileImage
{
    public static void Write(string path, string name, long size, string smallName, string smallText)
    {
        var layerPath = path + ".layer.tar.gz";
        string diffId;
        using (var file = File.Create(layerPath))
        {
            using var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
            using var hashed = new Sha256Tee(gzip);
            using (var tar = new TarWriter(hashed, TarEntryFormat.Pax, leaveOpen: true))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name[..name.IndexOf('/')] + "/") { Mode = (UnixFileMode)0x1ED });
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, smallName) { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(Encoding.UTF8.GetBytes(smallText)) });
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1A4, DataStream = new Zeros(size) });
            }
            hashed.Flush();
            diffId = "sha256:" + hashed.Hex();
        }
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["{{diffId}}"]},"history":[{"created_by":"RUN write zeros"}]}""");
        var configName = Convert.ToHexStringLower(SHA256.HashData(config)) + ".json";
        var manifest = Encoding.UTF8.GetBytes($$"""[{"Config":"{{configName}}","RepoTags":["zeros:latest"],"Layers":["l/layer.tar.gz"]}]""");
        using (var outer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            outer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream(manifest) });
            outer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, configName) { DataStream = new MemoryStream(config) });
            using var layer = File.OpenRead(layerPath);
            outer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "l/layer.tar.gz") { DataStream = layer });
        }
        File.Delete(layerPath);
    }

    /// <summary><paramref name="length"/> zero bytes, read a buffer at a time.</summary>
    private sealed class Zeros(long length) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, Math.Max(0, length - Position));
            buffer[..n].Clear();
            Position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Writes through to another stream, hashing what passes (the layer's diff id).</summary>
    private sealed class Sha256Tee(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string Hex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
