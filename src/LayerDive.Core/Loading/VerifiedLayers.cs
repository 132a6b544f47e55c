using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Loading;

/// <summary>
/// Reads layers a second time (for <c>cat</c>, <c>extract</c> and the viewer) through the reader the
/// merge uses, its name rules and checks, and verifies them as the load did: each blob's digest and
/// diff id must be those the manifest and config name, or, where they name none, those the first read
/// found. A registry or a file that gives other bytes the second time is an error, not content.
/// </summary>
internal static class VerifiedLayers
{
    public static void Read(ImageLoad load, IEnumerable<int> layers, Func<IReadOnlyList<int>, IContentSink> sinkFor, CancellationToken ct)
    {
        var model = load.Model;
        load.ReadLayers(layers, (indices, blob) =>
        {
            var info = model.Layers[indices[0]];
            var expectedDigest = info.ExpectedDigest ?? info.Digest;
            var options = new LayerReadOptions
            {
                ComputeDigests = load.Verify,
                HashInBackground = true, // one layer at a time: the digests on threads of their own
                LayerIndex = info.Index,
                BlobDigestAlgorithm = expectedDigest?.StartsWith("sha512:", StringComparison.Ordinal) == true ? "sha512" : "sha256",
            };
            LayerContents contents;
            try
            {
                contents = LayerReader.Read(blob, options, sinkFor(indices), ct);
            }
            catch (ImageException ex)
            {
                throw ex.InLayer(info.Index, info.Digest ?? info.DiffId);
            }
            if (!load.Verify) return;
            string id = info.Digest ?? info.DiffId ?? info.Locator?.ToString() ?? $"#{info.Index}";
            if (expectedDigest is not null && !string.Equals(expectedDigest, contents.BlobDigest, StringComparison.OrdinalIgnoreCase))
                throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Layer_BlobDigestMismatch, expectedDigest, contents.BlobDigest), info.Index, id);
            var expectedDiffId = info.ExpectedDiffId ?? info.DiffId;
            if (expectedDiffId is not null && !string.Equals(expectedDiffId, contents.DiffId, StringComparison.OrdinalIgnoreCase))
                throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Layer_DiffIdMismatch, expectedDiffId, contents.DiffId), info.Index, id);
        }, ct);
    }
}
