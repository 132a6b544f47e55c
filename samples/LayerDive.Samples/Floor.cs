using System.IO.Compression;
using System.Security.Cryptography;

namespace LayerDive.Samples;

/// <summary>
/// What reading an image cannot go below, measured in-process with the runtime's own means (zlib-ng
/// behind GZipStream, OpenSSL behind SHA256, the two LayerDive uses): each layer blob read and its
/// sha256 taken (the digest), inflated and the tar's sha256 taken (the diff id), one blob a core.
/// A pipeline of tools (pigz -dc | openssl dgst) measures the pipes and the processes as much as the
/// work: on the 1e6-file image it took five times this.
/// </summary>
public static class Floor
{
    public static void Read(IReadOnlyList<string> blobs)
    {
        long total = 0;
        Parallel.ForEach(blobs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, path =>
        {
            var buffer = new byte[1 << 20];
            using var blobHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var blob = File.ReadAllBytes(path);
            blobHash.AppendData(blob);
            using var gzip = new GZipStream(new MemoryStream(blob), CompressionMode.Decompress);
            long length = 0;
            for (int n; (n = gzip.Read(buffer)) > 0; length += n) tarHash.AppendData(buffer, 0, n);
            blobHash.GetHashAndReset();
            tarHash.GetHashAndReset();
            Interlocked.Add(ref total, length);
        });
        Console.WriteLine($"{blobs.Count} blobs, {total} bytes of tar");
    }
}
