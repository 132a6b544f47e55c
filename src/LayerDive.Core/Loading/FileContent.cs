using System.Formats.Tar;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Loading;

/// <summary>
/// One version of a file: the path asked for, the path that holds the bytes (symbolic links followed
/// through the merged tree), the layer whose entry holds them, its attributes, and, when the path
/// was deleted at or below the layer asked for, the layer that deleted it (the version is then the
/// last one before).
/// </summary>
public sealed record FileVersion(string Path, string Resolved, int Layer, EntryAttributes Attributes, int? RemovedIn)
{
    /// <summary>The bytes' size.</summary>
    public long Size => Attributes.Size;
}

/// <summary>
/// A file's content as of a layer, streamed from the layer that wrote it: for <c>layerdive cat</c>
/// (byte for byte what <c>extract</c> writes) and the explorer's viewer (which pages it, never loading
/// it whole).
/// </summary>
public static class FileContent
{
    /// <summary>How many symbolic links a path may go through (Linux's MAXSYMLINKS).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// The version of <paramref name="path"/> after <paramref name="layer"/>. With <paramref name="follow"/>,
    /// symbolic links on the way and at the end are followed through the merged tree (an absolute target
    /// from the image's root), as <c>cat</c> in the container would; without, a link is the version found.
    /// A path deleted by then gives its last version before, with <see cref="FileVersion.RemovedIn"/> set.
    /// </summary>
    /// <exception cref="ImageException">No such path, a directory, a link that goes nowhere or in circles.</exception>
    public static FileVersion Locate(ImageModel model, string path, int layer, bool follow = true)
    {
        var norm = PathText.Normalize(path, out _) ?? throw new ImageException(Text.Format("Error.NoLayerEverWrote", path));
        var pending = new List<string>(norm.Length == 0 ? [] : norm.Split('/'));
        pending.Reverse(); // a stack: the next component last
        var done = new List<string>();
        int links = 0;
        TreeNode node = model.Root;
        while (pending.Count > 0)
        {
            var name = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (name == "..") { if (done.Count > 0) { done.RemoveAt(done.Count - 1); node = node.Parent ?? model.Root; } continue; }
            if (name is "." or "") continue;
            var child = node.Child(name);
            bool last = pending.Count == 0;
            if (child?.StateAt(layer) is not { IsPresent: true } state)
            {
                if (last && child is not null && LastBefore(child, layer) is { } before)
                    return Version(model, path, child, before.Record, before.RemovedIn);
                // a first component no layer wrote (with no link followed): the path never existed
                throw new ImageException(child is null && done.Count == 0 && links == 0
                    ? Text.Format("Error.NoLayerEverWrote", path)
                    : Text.Format("Error.DoesNotExistAfterLayer", string.Join('/', [.. done, name]), layer));
            }
            if (state.Attributes.Type == FileType.Symlink && (follow || !last))
            {
                if (++links > MaxLinks) throw new ImageException(Text.Format("Error.TooManyLinks", path));
                var target = state.Attributes.LinkTarget ?? "";
                if (target.StartsWith('/')) { done.Clear(); node = model.Root; }
                var parts = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
                for (int i = parts.Length - 1; i >= 0; i--) pending.Add(parts[i]);
                continue;
            }
            if (!last && !state.Attributes.IsDirectory)
                throw new ImageException(Text.Format("Error.NotADirectoryOnTheWay", string.Join('/', [.. done, name]), path));
            done.Add(name);
            node = child;
            if (last) return Version(model, path, child, state, null);
        }
        throw new ImageException(Text.Format("Error.IsADirectory", "/" + string.Join('/', done), path));
    }

    /// <summary>The last record that showed the path before it was deleted, and the layer that deleted it.</summary>
    private static (ChangeRecord Record, int RemovedIn)? LastBefore(TreeNode node, int layer)
    {
        var history = node.History;
        int removedIn = -1;
        for (int i = history.Length - 1; i >= 0; i--)
        {
            if (history[i].Layer > layer) continue;
            if (!history[i].IsPresent) { removedIn = history[i].Layer; continue; }
            return removedIn < 0 ? null : (history[i], removedIn);
        }
        return null;
    }

    private static FileVersion Version(ImageModel model, string path, TreeNode node, ChangeRecord record, int? removedIn)
    {
        var a = record.Attributes;
        if (a.IsDirectory) throw new ImageException(Text.Format("Error.IsADirectory", "/" + node.Path, path));
        if (a.Type is FileType.CharDevice or FileType.BlockDevice or FileType.Fifo)
            throw new ImageException(Text.Format("Error.HasNoContent", "/" + node.Path, Reports.RootfsListing.TypeName(a.Type)));
        return new FileVersion(path, node.Path, record.Layer, a, removedIn);
    }

    /// <summary>
    /// Copies the version's bytes into <paramref name="output"/>, streaming from its layer (a hardlink's
    /// from its target's entry); a symbolic link (located without following) writes nothing. Returns the
    /// bytes written.
    /// </summary>
    /// <exception cref="ImageException">The entry is not in its layer, or its bytes end short.</exception>
    public static long Copy(ImageLoad load, FileVersion version, Stream output, CancellationToken ct = default)
    {
        var a = version.Attributes;
        if (a.Type != FileType.File) return 0;
        var source = a.HardlinkTarget ?? version.Resolved;
        int layer = version.Layer;
        if (a.HardlinkTarget is not null && load.Model.Find(source)?.StateAt(version.Layer) is { IsPresent: true } target) layer = target.Layer;
        long written = -1;
        long origin = output.CanSeek ? output.Position : 0;
        load.ReadLayers([layer], (read, blob) =>
        {
            var decompressed = Decompression.Open(Decompression.SniffAndRewind(blob, out var c), c);
            using var tar = new TarReader(decompressed);
            TarEntry? e;
            var buffer = new byte[81920];
            // the layer's last entry of the name is the one the merge kept (a tar may carry a name twice):
            // the whole layer is read, and a later entry replaces what an earlier one wrote
            while ((e = tar.GetNextEntry()) is not null)
            {
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) continue;
                if (PathText.Normalize(e.Name, out _) != source) continue;
                if (written >= 0)
                {
                    if (!output.CanSeek) throw new ImageException(Text.Format("Error.NameTwiceInLayer", "/" + source), layer, load.Model.Layers[layer].Digest);
                    output.Position = origin;
                    output.SetLength(origin);
                }
                written = 0;
                if (e.DataStream is not { } data) continue;
                int n;
                while ((n = data.Read(buffer)) > 0)
                {
                    ct.ThrowIfCancellationRequested();
                    output.Write(buffer, 0, n);
                    written += n;
                }
            }
        }, ct);
        if (written < 0) throw new ImageException(Text.Format("Error.ContentNotFound", "/" + source), layer, load.Model.Layers[layer].Digest);
        return written;
    }
}
