using System.Security.Cryptography;
using LayerDive.Core.Layers;

namespace LayerDive.Tests;

/// <summary>The stream the tar reader reads through: reading ahead changes neither the bytes, nor the count of bytes handed out, nor the digest.</summary>
public sealed class HashingStreamTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    public void Reads_counts_and_hashes_exactly_what_is_there(int bufferSize)
    {
        var data = new byte[100_000];
        new Random(3).NextBytes(data);
        using var stream = new HashingStream(new MemoryStream(data), HashAlgorithmName.SHA256, bufferSize);
        var copy = new MemoryStream();
        var piece = new byte[10_000];
        var random = new Random(5);
        while (true)
        {
            // small reads (a header, a file, its padding) and reads larger than the buffer
            int want = random.Next(3) == 0 ? random.Next(5000, 10_000) : random.Next(1, 600);
            int n = stream.Read(piece, 0, want);
            if (n == 0) break;
            copy.Write(piece, 0, n);
            Assert.Equal(copy.Length, stream.BytesRead);
            if (copy.Length > 50_000) break;
        }
        stream.Drain();
        Assert.Equal(data.Length, stream.BytesRead);
        Assert.Equal(data.AsSpan(0, (int)copy.Length).ToArray(), copy.ToArray());
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(data)), stream.Digest());
    }
}

/// <summary>The background hash gives the hash of the bytes in order, small (hashed in place) or large (on its thread).</summary>
public sealed class BackgroundHashTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData((1 << 20) + 1)]
    [InlineData(5 * (1 << 20) + 12345)]
    public void Equals_the_hash_of_the_whole(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        using var stream = new LayerDive.Core.Layers.HashingStream(new MemoryStream(data), System.Security.Cryptography.HashAlgorithmName.SHA256, bufferSize: 1 << 16, inBackground: true);
        var buffer = new byte[7777];
        while (stream.Read(buffer) > 0) { }
        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)), stream.Digest());
    }
}
