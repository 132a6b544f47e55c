using LayerDive.Core.Resources;

namespace LayerDive.Core;

/// <summary>
/// An image that cannot be used: bad input, a missing blob, a digest mismatch, an unsupported format.
/// Carries the kind of the fault and its place, so that a front end can print one line naming the
/// image, the layer and the entry, and a caller can act on the kind; library code never prints or exits.
/// </summary>
public sealed class ImageException : Exception
{
    public ImageException(FaultKind kind, string message, int? layerIndex = null, string? layerDigest = null, string? entryName = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        LayerIndex = layerIndex;
        LayerDigest = layerDigest;
        EntryName = entryName;
    }

    /// <summary>What kind of fault it is (not found, unreachable, damaged...).</summary>
    public FaultKind Kind { get; }

    /// <summary>The layer (0 = bottom) the fault was found in, when it was found in a layer.</summary>
    public int? LayerIndex { get; }

    /// <summary>The layer's digest (blob digest, or diff id when the blob has none).</summary>
    public string? LayerDigest { get; }

    /// <summary>The tar entry the fault was found at, when there is one.</summary>
    public string? EntryName { get; }

    /// <summary>The same fault placed in a layer (used when a reader that knows nothing of layers throws).</summary>
    public ImageException InLayer(int layerIndex, string? layerDigest) =>
        LayerIndex is null ? new ImageException(Kind, Message, layerIndex, layerDigest, EntryName, InnerException) : this;

    /// <summary>"layer 3 (sha256:abcd1234): entry 'x': message" — everything but the image name.</summary>
    public string Describe()
    {
        var parts = new List<string>(3);
        if (LayerIndex is int i)
            parts.Add(LayerDigest is null ? Text.Fill(Strings.Fault_InLayer, i) : Text.Fill(Strings.Fault_InLayerDigest, i, ShortDigest(LayerDigest)));
        if (EntryName is not null)
            parts.Add(Text.Fill(Strings.Fault_AtEntry, PathText.Escape(EntryName)));
        parts.Add(Message);
        return string.Join(": ", parts);
    }

    /// <summary>"sha256:0123456789ab..." shortened to the algorithm and 12 hex digits.</summary>
    public static string ShortDigest(string digest)
    {
        int colon = digest.IndexOf(':');
        int keep = colon + 1 + 12;
        return digest.Length > keep ? digest[..keep] : digest;
    }
}
