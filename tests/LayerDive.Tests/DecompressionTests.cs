using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>The native zstd binding decodes exactly what the managed decoder does, and fails the same way.</summary>
public sealed class DecompressionTests
{
    private static byte[] Data(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b.AsSpan(0, n / 2)); // half noise, half zeros: compressible
        return b;
    }

    /// <summary>Reads the stream to its end, then disposes it (a native decoder goes back to its pool).</summary>
    private static byte[] DecodeAll(Stream s)
    {
        using var _ = s;
        var ms = new MemoryStream();
        var buf = new byte[777]; // odd sizes exercise partial reads
        int n;
        while ((n = s.Read(buf)) > 0) ms.Write(buf, 0, n);
        return ms.ToArray();
    }

    private static void RequireNative()
    {
        if (!Decompression.NativeZstdAvailable) Assert.Skip("libzstd.so.1 is not on this machine; the managed decoder is used");
    }

    [Fact]
    public void Native_and_managed_zstd_agree_on_concatenated_and_skippable_frames()
    {
        RequireNative();
        var a = Data(300_000, 1);
        var b = Data(5_000, 2);
        var skippable = new byte[] { 0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4 }; // a skippable frame of 4 bytes
        var stream = ImageBuilder.Compress(a, LayerCompression.Zstd).Bytes.Concat(skippable).Concat(ImageBuilder.Compress(b, LayerCompression.Zstd).Bytes).ToArray();
        var native = DecodeAll(Decompression.Open(new MemoryStream(stream), Compression.Zstd));
        Assert.Equal(a.Concat(b).ToArray(), native);
        var managed = DecodeAll(Decompression.OpenManagedZstd(new MemoryStream(stream), ignoreChecksum: false));
        Assert.Equal(native, managed);
    }

    [Fact]
    public void Truncated_zstd_is_an_end_of_stream_and_garbage_is_invalid_data()
    {
        RequireNative();
        var whole = ImageBuilder.Compress(Data(200_000, 3), LayerCompression.Zstd).Bytes;
        Assert.ThrowsAny<EndOfStreamException>(() => DecodeAll(Decompression.Open(new MemoryStream(whole[..(whole.Length / 2)]), Compression.Zstd)));
        var garbage = (byte[])whole.Clone();
        for (int i = 16; i < garbage.Length; i += 5) garbage[i] ^= 0xA5;
        Assert.Throws<InvalidDataException>(() => DecodeAll(Decompression.Open(new MemoryStream(garbage), Compression.Zstd)));
    }

    [Fact]
    public void A_decoder_kept_for_the_next_layer_decodes_it_whole_after_a_corrupt_or_abandoned_one()
    {
        RequireNative();
        var first = Data(300_000, 5);
        var second = Data(250_000, 9);
        var a = ImageBuilder.Compress(first, LayerCompression.Zstd).Bytes;
        var b = ImageBuilder.Compress(second, LayerCompression.Zstd).Bytes;
        // one stream abandoned half way, one corrupt: their contexts go back to the pool in those states
        using (var half = Decompression.Open(new MemoryStream(a), Compression.Zstd)) half.ReadExactly(new byte[100_000]);
        var garbage = (byte[])b.Clone();
        for (int i = 16; i < garbage.Length; i += 5) garbage[i] ^= 0xA5;
        Assert.Throws<InvalidDataException>(() => DecodeAll(Decompression.Open(new MemoryStream(garbage), Compression.Zstd)));
        for (int round = 0; round < 4; round++)
        {
            Assert.Equal(second, DecodeAll(Decompression.Open(new MemoryStream(b), Compression.Zstd)));
            Assert.Equal(first, DecodeAll(Decompression.Open(new MemoryStream(a), Compression.Zstd, contentVerifiedElsewhere: round % 2 == 0)));
        }
    }
}
