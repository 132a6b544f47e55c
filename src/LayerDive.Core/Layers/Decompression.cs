using System.IO.Compression;
using System.Runtime.CompilerServices;
using LayerDive.Core.Model;

using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;
using ZstdDecompressionStream = SharpCompress.Compressors.ZStandard.DecompressionStream;

namespace LayerDive.Core.Layers;

/// <summary>Tells compressions apart by their magic bytes and opens a decompressing stream.</summary>
internal static class Decompression
{
    /// <summary>The number of leading bytes <see cref="Sniff"/> looks at.</summary>
    public const int MagicLength = 6;

    public static Compression Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Compression.Gzip;
        if (head.Length >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return Compression.Zstd;
        // a zstd skippable frame (zstd:chunked may start with one)
        if (head.Length >= 4 && (head[0] & 0xf0) == 0x50 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18) return Compression.Zstd;
        if (head.Length >= 6 && head[0] == 0xfd && head[1] == (byte)'7' && head[2] == (byte)'z' && head[3] == (byte)'X' && head[4] == (byte)'Z' && head[5] == 0) return Compression.Xz;
        if (head.Length >= 3 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h') return Compression.Bzip2;
        return Compression.None;
    }

    /// <summary>The compression a layer media type names, or null when it names none we know.</summary>
    public static Compression? FromMediaType(string? mediaType)
    {
        if (string.IsNullOrEmpty(mediaType)) return null;
        if (mediaType.EndsWith("+gzip", StringComparison.Ordinal) || mediaType.EndsWith(".gzip", StringComparison.Ordinal)
            || mediaType == "application/vnd.docker.image.rootfs.diff.tar.gzip") return Compression.Gzip;
        if (mediaType.EndsWith("+zstd", StringComparison.Ordinal) || mediaType.EndsWith(".zstd", StringComparison.Ordinal)) return Compression.Zstd;
        if (mediaType.EndsWith(".tar", StringComparison.Ordinal) || mediaType.EndsWith("diff.tar", StringComparison.Ordinal)) return Compression.None;
        return null;
    }

    /// <summary>
    /// Wraps <paramref name="compressed"/> in the decompressor for <paramref name="compression"/>; leaves it open.
    /// <paramref name="contentVerifiedElsewhere"/>: the output is hashed against a diff id, so zstd's own
    /// frame checksum (an XXH64 over every byte, ~5% of the decoding time) need not be checked too.
    /// </summary>
    public static Stream Open(Stream compressed, Compression compression, bool contentVerifiedElsewhere = false) => compression switch
    {
        Compression.None => compressed,
        Compression.Gzip => NativeGzip.Available ? new NativeGzip.DecompressionStream(compressed) : new GZipStream(compressed, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true),
        Compression.Zstd => OpenZstd(compressed, contentVerifiedElsewhere),
        Compression.Xz => OpenXz(compressed),
        Compression.Bzip2 => OpenBzip2(compressed),
        _ => throw new ArgumentOutOfRangeException(nameof(compression)),
    };

    // SharpCompress is loaded only when one of these runs (a method that names its types loads it when compiled)
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Stream OpenXz(Stream compressed) =>
        new MultiStream(compressed, [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0], raw => DecoderFaults.Open("xz", () => new XZStream(raw)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Stream OpenBzip2(Stream compressed) =>
        new MultiStream(compressed, "BZh"u8.ToArray(), raw => DecoderFaults.Open("bzip2", () =>
            BZip2Stream.Create(raw, SharpCompress.Compressors.CompressionMode.Decompress, decompressConcatenated: false, leaveOpen: true, tolerateTruncatedStream: false)));

    /// <summary>
    /// Decodes every stream of a blob that holds several one after another, as gzip's members are read:
    /// <c>xz</c>, <c>pixz</c> and <c>bzip2</c> append a stream when they add to a file, and <c>unxz</c>
    /// and <c>bunzip2</c> read them all. The decoders read exactly their own stream, so what follows one
    /// is looked at here: zeros (xz's stream padding) are skipped in silence, the format's magic starts
    /// the next stream, and anything else is counted and ignored (the layer warns of it, as of bytes
    /// after a gzip stream).
    /// </summary>
    internal sealed class MultiStream(Stream raw, byte[] magic, Func<Stream, Stream> open) : ReadOnlyForwardStream
    {
        private Stream? _current = open(raw);

        /// <summary>Bytes after the last stream that start no other.</summary>
        public long IgnoredBytes { get; private set; }

        /// <summary>True when the ignored bytes are all zero.</summary>
        public bool IgnoredBytesAreZero { get; private set; } = true;

        public override int Read(Span<byte> buffer)
        {
            while (_current is not null)
            {
                int n = _current.Read(buffer);
                if (n > 0 || buffer.IsEmpty) return n;
                _current.Dispose();
                _current = NextStream();
            }
            return 0;
        }

        private Stream? NextStream()
        {
            Span<byte> one = stackalloc byte[1];
            long zeros = 0;
            while (true)
            {
                if (raw.Read(one) == 0)
                {
                    IgnoredBytes = zeros;
                    return null;
                }
                if (one[0] != 0) break;
                zeros++;
            }
            var head = new byte[magic.Length];
            head[0] = one[0];
            int got = 1 + raw.ReadAtLeast(head.AsSpan(1), head.Length - 1, throwOnEndOfStream: false);
            if (got == head.Length && head.AsSpan().SequenceEqual(magic))
                return open(new PrefixedStream(head, raw));
            IgnoredBytesAreZero = false;
            var rest = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                long ignored = zeros + got;
                int n;
                while ((n = raw.Read(rest)) > 0) ignored += n;
                IgnoredBytes = ignored;
            }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(rest); }
            return null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _current?.Dispose();
            _current = null;
            base.Dispose(disposing);
        }
    }

    /// <summary>True when zstd is decoded by the system's libzstd rather than the managed port.</summary>
    public static bool NativeZstdAvailable => NativeZstd.Available;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Stream OpenZstd(Stream compressed, bool ignoreChecksum) =>
        NativeZstd.Available ? new NativeZstd.DecompressionStream(compressed, ignoreChecksum) : OpenManagedZstd(compressed, ignoreChecksum);

    /// <summary>The managed zstd decoder (SharpCompress), used where libzstd cannot be loaded.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream OpenManagedZstd(Stream compressed, bool ignoreChecksum)
    {
        var decompressor = new SharpCompress.Compressors.ZStandard.Decompressor();
        if (ignoreChecksum) // ZSTD_d_forceIgnoreChecksum
            decompressor.SetParameter(SharpCompress.Compressors.ZStandard.Unsafe.ZSTD_dParameter.ZSTD_d_experimentalParam3, 1);
        return DecoderFaults.Open("zstd", () => new ZstdDecompressionStream(compressed, decompressor, bufferSize: 1 << 17, checkEndOfStream: true, preserveDecompressor: false, leaveOpen: true));
    }

    /// <summary>
    /// A SharpCompress decoder as every other decompressor here fails: corrupt input is an
    /// <see cref="InvalidDataException"/> (it throws its own types, such as DataErrorException and
    /// ArchiveOperationException, and on some damage the runtime's Format-, Overflow- or
    /// IndexOutOfRangeException), so that the image is blamed where it is read, never the program.
    /// </summary>
    private sealed class DecoderFaults(Stream decoder, string format) : ReadOnlyForwardStream
    {
        /// <summary>Creates the decoder (some read their first block at once) and wraps it.</summary>
        public static Stream Open(string format, Func<Stream> create)
        {
            try
            {
                return new DecoderFaults(create(), format);
            }
            catch (Exception ex) when (IsDecoderFault(ex))
            {
                throw Corrupt(format, ex);
            }
        }

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return decoder.Read(buffer);
            }
            catch (Exception ex) when (IsDecoderFault(ex))
            {
                throw Corrupt(format, ex);
            }
        }

        private static bool IsDecoderFault(Exception ex) => ex is not (IOException or InvalidDataException or OutOfMemoryException or OperationCanceledException);

        private static InvalidDataException Corrupt(string format, Exception ex) => new($"corrupt {format} data ({ex.GetType().Name}: {ex.Message})", ex);

        protected override void Dispose(bool disposing)
        {
            if (disposing) decoder.Dispose();
            base.Dispose(disposing);
        }
    }

    public static string Name(Compression c) => c switch
    {
        Compression.None => "uncompressed",
        Compression.Gzip => "gzip",
        Compression.Zstd => "zstd",
        Compression.Xz => "xz",
        Compression.Bzip2 => "bzip2",
        _ => c.ToString(),
    };

    /// <summary>
    /// Reads up to <see cref="MagicLength"/> bytes from <paramref name="stream"/>, tells the compression,
    /// and returns a stream that yields those bytes again followed by the rest.
    /// </summary>
    public static Stream SniffAndRewind(Stream stream, out Compression compression)
    {
        var head = new byte[MagicLength];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        compression = Sniff(head.AsSpan(0, n));
        return new PrefixedStream(head.AsMemory(0, n), stream);
    }
}
