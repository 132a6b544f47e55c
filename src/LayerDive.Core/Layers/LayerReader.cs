using LayerDive.Core;
using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Layers;

/// <summary>An entry whose data ends before the size its header declares.</summary>
internal sealed class ShortEntryException(string message) : EndOfStreamException(message);

/// <summary>What to compute while a layer streams by.</summary>
internal sealed record LayerReadOptions
{
    /// <summary>Hash the blob and the uncompressed tar (sha256) so they can be verified.</summary>
    public bool ComputeDigests { get; init; } = true;
    /// <summary>Also take a SHA-256 of every regular file (for ground-truth listings; costs time).</summary>
    public bool FileSha256 { get; init; }
    /// <summary>The layer index, for the places named in problems and errors.</summary>
    public int LayerIndex { get; init; }
    /// <summary>Hash algorithm of the blob digest the manifest names ("sha256" or "sha512").</summary>
    public string BlobDigestAlgorithm { get; init; } = "sha256";
    /// <summary>Hash on threads of their own: for a reader with no other layer read beside it (a stream read in its order).</summary>
    public bool HashInBackground { get; init; }
}

/// <summary>
/// Reads one layer blob in a single streaming pass: sniffs and decompresses it, hashes the blob and
/// the tar as they pass, decodes the tar entries, normalises names, and hashes file contents
/// (XxHash128) while the bytes go by, handing each decoded entry to a sink as soon as it is read.
/// Nothing is buffered per file; nothing is written anywhere.
/// </summary>
internal static class LayerReader
{
    private const int ChunkSize = 1 << 17;

    /// <summary>
    /// Reads the layer. Throws <see cref="ImageException"/> for any bad input (truncated, corrupt,
    /// unsafe names, unsupported entries); the caller owns and disposes <paramref name="blob"/>.
    /// </summary>
    public static LayerContents Read(Stream blob, LayerReadOptions options, CancellationToken cancellationToken = default) =>
        Read(blob, options, sink: null, cancellationToken);

    /// <summary>
    /// Reads the layer, handing its entries to <paramref name="sink"/> in tar order as they are read
    /// (to <see cref="LayerContents.Entries"/> when null). eStargz metadata files are held back to the
    /// end of the layer, where the layer tells whether it is eStargz, and dropped if it is.
    /// </summary>
    public static LayerContents Read(Stream blob, LayerReadOptions options, IEntrySink? sink, CancellationToken cancellationToken = default)
    {
        var result = new LayerContents();
        var output = new EntryOutput(sink ?? new ListSink(result.Entries));
        TarHeader? current = null; // the entry being read, whose name errors give
        bool sameBytes = false, sawEStargzToc = false;
        var algorithm = options.BlobDigestAlgorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        using var blobHash = new HashingStream(blob, options.ComputeDigests ? algorithm : null, inBackground: options.HashInBackground);
        try
        {
            var rewound = Decompression.SniffAndRewind(blobHash, out var compression);
            result.Compression = compression;
            using var decompressed = Decompression.Open(rewound, compression, contentVerifiedElsewhere: options.ComputeDigests);
            // an uncompressed blob is its own tar: one sha256 serves as blob digest and diff id
            sameBytes = compression == Compression.None && algorithm == HashAlgorithmName.SHA256;
            // what the tar reader reads through: read ahead in chunks (it asks for a header, a small file, padding)
            using var tarHash = new HashingStream(decompressed, options.ComputeDigests && !sameBytes ? HashAlgorithmName.SHA256 : null, bufferSize: 1 << 16, inBackground: options.HashInBackground);
            using var guard = new TarGuard(tarHash);
            ReadEntries(guard, options, result, output, sink as IContentSink, ref current, cancellationToken);
            current = null;
            // Drain to the end: the diff id covers the padding after the end-of-archive blocks, the
            // guard looks at what follows them, and the gzip CRC and length are only checked when the
            // decompressor reaches its end.
            guard.Drain();
            blobHash.Drain();
            sawEStargzToc = guard.SawEStargzToc;
            foreach (var (path, message) in guard.Warnings())
                result.Problems.Add(new Problem(ProblemKind.Other, options.LayerIndex, path, message));
            // gzip ignores zeros after the last member in silence, and warns of anything else
            if (decompressed is NativeGzip.DecompressionStream { IgnoredBytes: > 0, IgnoredBytesAreZero: false } gzip)
                result.Problems.Add(new Problem(ProblemKind.Other, options.LayerIndex, null, Text.Fill(Strings.Gzip_TrailingGarbage, gzip.IgnoredBytes)));
            // so do xz and bzip2, after every stream the blob holds (the tools append streams)
            if (decompressed is Decompression.MultiStream { IgnoredBytes: > 0, IgnoredBytesAreZero: false } multi)
                result.Problems.Add(new Problem(ProblemKind.Other, options.LayerIndex, null, Text.Fill(Strings.Layer_CompressedTrailingGarbage, multi.IgnoredBytes, Decompression.Name(compression))));
            result.DiffId = sameBytes ? null : tarHash.Digest();
            result.UncompressedSize = tarHash.BytesRead;
        }
        catch (ImageException) { throw; }
        catch (OperationCanceledException) { throw; }
        catch (SinkException ex)
        {
            // where the bytes go failed (a full disk under extract), not the layer: its own error, untranslated
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException!);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw Translate(ex, result.Compression, current?.Name);
        }
        result.BlobDigest = blobHash.Digest(options.BlobDigestAlgorithm);
        if (sameBytes) result.DiffId = result.BlobDigest;
        result.CompressedSize = blobHash.BytesRead;
        result.EStargz = output.Finish(result.Compression) || (sawEStargzToc && result.Compression == Compression.Gzip);
        return result;
    }

    private static void ReadEntries(TarGuard tar, LayerReadOptions options, LayerContents result, EntryOutput output, IContentSink? content, ref TarHeader? current, CancellationToken ct)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var xx = new XxHash128();
        using var sha = options.FileSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var h = new TarHeader();
        string? notUtf8 = null;
        try
        {
            while (tar.Next(h))
            {
                ct.ThrowIfCancellationRequested();
                current = h;
                result.EntryCount++;
                result.HeaderSizeTotal = checked(result.HeaderSizeTotal + h.Size);
                if (h.NotUtf8 && notUtf8 is null) notUtf8 = h.Name;
                Decode(h, tar, options, result, output, content, buffer, xx, sha, ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        // once a layer: its names are bytes, shown with \xHH where they are not UTF-8
        if (notUtf8 is not null)
            result.Problems.Add(new Problem(ProblemKind.Other, options.LayerIndex, null, Text.Fill(Strings.Tar_NamesNotUtf8, PathText.Escape(notUtf8))));
    }

    private static void Decode(TarHeader entry, TarGuard tar, LayerReadOptions options, LayerContents result, EntryOutput output, IContentSink? content,
        byte[] buffer, XxHash128 xx, IncrementalHash? sha, CancellationToken ct)
    {
        int layer = options.LayerIndex;
        var nameBytes = entry.NameBytes;
        // a directory with no name is the root, as the engines clean it to "." (GNU tar substitutes "." too);
        // the name's bytes are decoded once, to the path (which is the name too when normalising kept it)
        bool unchanged = false;
        string? path = nameBytes.IsEmpty && entry.Type == (byte)'5' ? "" : PathText.Normalize(nameBytes, out unchanged);
        if (unchanged) entry.KnowName(path!);
        if (path is null)
            throw new ImageException(FaultKind.Damaged, nameBytes.Contains((byte)0) ? Strings.Tar_NameHoldsNul
                : nameBytes.IsEmpty ? Strings.Tar_NameEmpty : Strings.Tar_NameClimbsOut, entryName: entry.Name);
        if (path.Length > 0 && nameBytes[0] == (byte)'/')
            result.Problems.Add(new Problem(ProblemKind.AbsoluteName, layer, path, Text.Fill(Strings.Tar_AbsoluteName, PathText.Escape(entry.Name), PathText.Escape(path))));

        int slash = path.LastIndexOf('/');
        var fileName = path.AsSpan(slash + 1);
        if (OverlayMarkers.IsUnderAufsMeta(path)) return; // AUFS metadata (its hard link directory, its notes): ignored
        int mode = (int)(entry.Mode & 0xFFF);
        int uid = checked((int)entry.Uid), gid = checked((int)entry.Gid);
        if (OverlayMarkers.IsOpaque(fileName))
        {
            output.Add(new RawEntry(RawKind.Opaque, slash < 0 ? "" : path[..slash], null, MarkerPath: path));
            return;
        }
        if (OverlayMarkers.IsWhiteout(fileName, out var hidden))
        {
            if (hidden.IsEmpty || hidden is "." or "..")
                throw new ImageException(FaultKind.Damaged, Strings.Tar_WhiteoutNamesNoPath, entryName: entry.Name);
            // the marker's own header (mode, owner) for dive's file lists; the merge reads only its path
            var marker = new EntryAttributes { Type = FileType.File, Mode = mode, Uid = uid, Gid = gid };
            // DIR/.wh.NAME hides DIR/NAME
            output.Add(new RawEntry(RawKind.Whiteout, string.Concat(path.AsSpan(0, slash + 1), hidden), marker, MarkerPath: path));
            return;
        }

        long mtime = entry.MTime;
        // a size where Go reads no data (a symlink, device, fifo, old-style directory; a hardlink whose size
        // a PAX record gives): GNU tar would read that many bytes as data, so the two disagree on what
        // follows; a hardlink's header size all of them ignore
        if (entry.Size > 0 && (entry.Type is (byte)'2' or (byte)'3' or (byte)'4' or (byte)'6' || entry.OldStyleDirectory || (entry.Type == (byte)'1' && entry.PaxSize)))
            result.Problems.Add(new Problem(ProblemKind.Other, layer, path, Text.Fill(Strings.Tar_SizeWithoutData, entry.Size)));
        switch (entry.Type)
        {
            case (byte)'5':
                bool opaqueXattr = entry.OpaqueXattr;
                if (opaqueXattr)
                    result.Problems.Add(new Problem(ProblemKind.OverlayNativeMarker, layer, path, Strings.Tar_OverlayNativeOpaque));
                output.Add(path, new EntryAttributes { Type = FileType.Directory, Mode = mode, Uid = uid, Gid = gid, MTime = mtime, OverlayNativeMarker = opaqueXattr });
                break;
            case (byte)'0' or (byte)'7':
                var (hash, digest, size) = HashContent(entry, tar, content is null ? null : OpenSink(content, path), buffer, xx, sha, ct);
                output.Add(path, new EntryAttributes
                {
                    Type = FileType.File, Mode = mode, Uid = uid, Gid = gid, MTime = mtime,
                    Size = size, ContentHash = hash, Sha256 = digest, // the header's size: HashContent read exactly that
                    Inode = ((long)(layer + 1) << 32) | (uint)result.EntryCount,
                });
                break;
            case (byte)'2':
                output.Add(path, new EntryAttributes { Type = FileType.Symlink, Mode = mode, Uid = uid, Gid = gid, MTime = mtime, LinkTarget = entry.LinkName });
                break;
            case (byte)'1':
                string? target = PathText.Normalize(entry.LinkName, out _);
                if (target is null || target.Length == 0)
                    throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Tar_HardlinkTargetOutside, PathText.Escape(entry.LinkName)), entryName: entry.Name);
                // a size in a hardlink's header declares no data (old ustar writers put the target's there): dive counts it
                output.Add(new RawEntry(RawKind.Entry, path,
                    new EntryAttributes { Type = FileType.File, Mode = mode, Uid = uid, Gid = gid, MTime = mtime, HeaderSize = entry.Size },
                    HardlinkTarget: target));
                break;
            case (byte)'3' or (byte)'4':
                bool isChar = entry.Type == (byte)'3';
                int major = checked((int)entry.DevMajor), minor = checked((int)entry.DevMinor);
                bool overlayWhiteout = isChar && major == 0 && minor == 0;
                if (overlayWhiteout)
                    result.Problems.Add(new Problem(ProblemKind.OverlayNativeMarker, layer, path, Strings.Tar_OverlayNativeWhiteout));
                output.Add(path, new EntryAttributes
                {
                    Type = isChar ? FileType.CharDevice : FileType.BlockDevice, Mode = mode, Uid = uid, Gid = gid, MTime = mtime,
                    DevMajor = major, DevMinor = minor, OverlayNativeMarker = overlayWhiteout,
                });
                break;
            case (byte)'6':
                output.Add(path, new EntryAttributes { Type = FileType.Fifo, Mode = mode, Uid = uid, Gid = gid, MTime = mtime });
                break;
            default:
                result.Problems.Add(new Problem(ProblemKind.UnsupportedEntryType, layer, path, Text.Fill(Strings.Tar_EntryTypeSkipped, TypeName(entry.Type))));
                break;
        }
    }

    /// <summary>A type flag as the warning names it: the runtime's name where it has one, else the flag.</summary>
    private static string TypeName(byte type) => type switch
    {
        (byte)'V' => "TapeVolume",
        (byte)'M' => "MultiVolume",
        (byte)'N' => "RenamedOrSymlinked",
        (byte)'D' => "DirectoryList",
        _ => type is >= 0x20 and < 0x7f ? $"'{(char)type}'" : $"0x{type:x2}",
    };

    private static (UInt128 Hash, byte[]? Sha256, long Size) HashContent(TarHeader entry, TarGuard tar, Stream? copy, byte[] buffer, XxHash128 xx, IncrementalHash? sha, CancellationToken ct)
    {
        xx.Reset();
        long total = 0;
        int n;
        while ((n = tar.ReadData(buffer)) > 0)
        {
            ct.ThrowIfCancellationRequested(); // a large file is a long read: stop between its chunks
            xx.Append(buffer.AsSpan(0, n));
            sha?.AppendData(buffer, 0, n);
            if (copy is not null)
            {
                try { copy.Write(buffer, 0, n); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new SinkException(ex); }
            }
            total += n;
        }
        if (total != entry.Size)
            throw new ShortEntryException(Text.Fill(Strings.Tar_EntryShorterThanDeclared, entry.Size, total));
        return (xx.GetCurrentHashAsUInt128(), sha?.GetHashAndReset(), total);
    }

    /// <summary>
    /// Hands entries on to the sink, holding back the root files eStargz adds (a table of contents last,
    /// landmark files) until the layer's end tells whether it is eStargz: metadata then, files otherwise.
    /// Holding entries back never changes the merge: a layer's markers act before its entries wherever they stand.
    /// </summary>
    private sealed class EntryOutput(IEntrySink sink)
    {
        private List<RawEntry>? _held;
        private string? _lastPath;

        public void Add(string path, EntryAttributes attributes) => Add(new RawEntry(RawKind.Entry, path, attributes));

        public void Add(in RawEntry entry)
        {
            _lastPath = entry.Kind == RawKind.Entry ? entry.Path : null;
            if (entry.Kind == RawKind.Entry && entry.Path is "stargz.index.json" or ".prefetch.landmark" or ".no.prefetch.landmark")
                (_held ??= []).Add(entry);
            else
                sink.Add(entry);
        }

        /// <summary>Ends the layer; returns true when it is eStargz (its held files dropped).</summary>
        public bool Finish(Compression compression)
        {
            bool estargz = compression == Compression.Gzip && _lastPath == "stargz.index.json";
            if (!estargz && _held is not null)
                foreach (var e in _held) sink.Add(e);
            _held = null;
            return estargz;
        }
    }

    private sealed class ListSink(List<RawEntry> list) : IEntrySink
    {
        public void Add(in RawEntry entry) => list.Add(entry);
    }

    /// <summary>Where a file's bytes go: the sink's I/O faults are the destination's (a full disk), never the layer's.</summary>
    private static Stream? OpenSink(IContentSink content, string path)
    {
        try
        {
            return content.Open(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SinkException(ex);
        }
    }

    private sealed class SinkException(Exception inner) : Exception(inner.Message, inner);

    private static ImageException Translate(Exception ex, Compression compression, string? entry)
    {
        string what = Decompression.Name(compression);
        string message = ex switch
        {
            CompressedStreamEndException => Text.Fill(Strings.Layer_Truncated, ex.Message),
            ShortEntryException => Text.Fill(Strings.Layer_TruncatedInEntryDeclared, ex.Message),
            EndOfStreamException => entry is null ? Strings.Layer_TruncatedInData : Strings.Layer_TruncatedInEntry,
            NotSupportedException => Text.Fill(Strings.Layer_UnsupportedContent, ex.Message),
            InvalidDataException when compression != Compression.None && entry is null => Text.Fill(Strings.Layer_CorruptCompression, what, ex.Message),
            InvalidDataException => Text.Fill(Strings.Layer_CorruptTarOrCompression, what, ex.Message),
            OverflowException => Strings.Tar_NumberTooLarge,
            _ => Text.Fill(Strings.Layer_Unreadable, what, ex.Message),
        };
        return new ImageException(ex is NotSupportedException ? FaultKind.Unsupported : FaultKind.Damaged, message, entryName: entry, inner: ex);
    }
}
