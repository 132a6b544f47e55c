using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.OnePass;

/// <summary>
/// A layer blob read before its place in the image was known (a stream whose metadata comes after the
/// layers): its decoded entries (never its file bytes), its problems and its digests.
/// </summary>
internal sealed class HeldLayer
{
    private HeldLayer(string member, LayerContents contents) => (Member, Contents) = (member, contents);

    /// <summary>The archive member it came from.</summary>
    public string Member { get; }

    /// <summary>Entries, digests and sizes (<see cref="LayerContents.Entries"/> holds the entries).</summary>
    public LayerContents Contents { get; }

    private static int s_count;

    /// <summary>Reads a blob whole into entries, hashing it; problems are placed in a layer when it is known.</summary>
    public static HeldLayer Read(string member, Stream blob, bool fileSha256, CancellationToken ct)
    {
        // the reader numbers a layer's files by its index (hardlinks share a number): a layer not yet
        // placed takes a negative index of its own, never a real layer's
        int provisional = -2 - Interlocked.Increment(ref s_count);
        try
        {
            return new HeldLayer(member, LayerReader.Read(blob, new LayerReadOptions { ComputeDigests = true, FileSha256 = fileSha256, LayerIndex = provisional, HashInBackground = true }, ct));
        }
        catch (ImageException ex) when (ex.LayerIndex is null)
        {
            throw new ImageException(ex.Kind, Text.Fill(Strings.Stream_InMember, member, ex.Message), entryName: ex.EntryName, inner: ex);
        }
    }

    /// <summary>The problems, placed in layer <paramref name="index"/>.</summary>
    public IEnumerable<Problem> ProblemsIn(int index) => Contents.Problems.Select(p => p with { LayerIndex = index });
}

