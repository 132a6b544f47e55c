using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources;

namespace LayerDive.Core.Loading;

/// <summary>
/// Checks a layer as read against what the image says of it (the media type against the compression
/// found, the blob digest, the diff id) and sets the layer's figures, once its reader is done.
/// </summary>
internal sealed class LayerVerifier(bool verify)
{
    /// <summary>
    /// Sets <paramref name="layer"/>'s figures from what its reader found; a media type that names
    /// another compression is a problem of the layer, a digest that differs an error.
    /// </summary>
    public void Finish(LayerInfo layer, LayerDescriptor r, LayerContents contents)
    {
        if (Decompression.FromMediaType(r.MediaType) is { } declared && declared != contents.Compression)
            contents.Problems.Add(new Problem(ProblemKind.MediaTypeMismatch, r.Index, null,
                Text.Fill(Strings.Layer_MediaTypeMismatch, r.MediaType, Decompression.Name(declared), Decompression.Name(contents.Compression))));
        // the figures are the layer's even when a digest is wrong (the error names it); verified only when both match
        bool blobWrong = verify && r.Digest is not null && !string.Equals(r.Digest, contents.BlobDigest, StringComparison.OrdinalIgnoreCase);
        bool diffIdWrong = verify && r.DiffId is not null && !string.Equals(r.DiffId, contents.DiffId, StringComparison.OrdinalIgnoreCase);
        layer.SetRead(contents.Compression, contents.EStargz || r.EStargzAnnotation, contents.CompressedSize, contents.UncompressedSize,
            contents.EntryCount, contents.HeaderSizeTotal,
            digest: r.Digest ?? (contents.Compression == Compression.None ? null : contents.BlobDigest),
            diffId: contents.DiffId ?? r.DiffId,
            verified: verify && !blobWrong && !diffIdWrong && (r.DiffId is not null || r.Digest is not null));
        if (blobWrong)
            throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Layer_BlobDigestMismatch, r.Digest, contents.BlobDigest), r.Index, r.Id);
        if (diffIdWrong)
            throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Layer_DiffIdMismatch, r.DiffId, contents.DiffId), r.Index, r.Id);
    }
}
