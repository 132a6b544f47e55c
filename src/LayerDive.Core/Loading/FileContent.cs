using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

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
        var norm = PathText.Normalize(path, out _) ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Path_NeverWritten, PathText.Escape(path)));
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
                if (last && child is { } gone && LastBefore(gone, layer) is { } before)
                    return Version(model, path, gone, before.Record, before.RemovedIn);
                // a first component no layer wrote (with no link followed): the path never existed
                throw new ImageException(FaultKind.NotFound, child is null && done.Count == 0 && links == 0
                    ? Text.Fill(Strings.Path_NeverWritten, PathText.Escape(path))
                    : Text.Fill(Strings.Path_AbsentAfterLayer, PathText.Escape(string.Join('/', [.. done, name])), layer));
            }
            if (state.Attributes.Type == FileType.Symlink && (follow || !last))
            {
                if (++links > MaxLinks) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Path_TooManyLinks, PathText.Escape(path)));
                var target = state.Attributes.LinkTarget ?? "";
                if (target.StartsWith('/')) { done.Clear(); node = model.Root; }
                var parts = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
                for (int i = parts.Length - 1; i >= 0; i--) pending.Add(parts[i]);
                continue;
            }
            if (!last && !state.Attributes.IsDirectory)
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Path_NotDirectoryOnWay, PathText.Escape(string.Join('/', [.. done, name])), PathText.Escape(path)));
            done.Add(name);
            node = child!.Value;
            if (last) return Version(model, path, node, state, null);
        }
        throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Path_IsDirectory, "/" + PathText.Escape(string.Join('/', done)), PathText.Escape(path)));
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
        if (a.IsDirectory) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Path_IsDirectory, "/" + PathText.Escape(node.Path), PathText.Escape(path)));
        if (a.Type is FileType.CharDevice or FileType.BlockDevice or FileType.Fifo)
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Path_HasNoContent, "/" + PathText.Escape(node.Path), Reports.RootfsListing.TypeName(a.Type)));
        return new FileVersion(path, node.Path, record.Layer, a, removedIn);
    }

    /// <summary>
    /// Copies the version's bytes into <paramref name="output"/>, read from its layer (a hardlink's from
    /// its target's entry) by the reader the merge uses, and verified as the load verified the layer:
    /// the blob digest and the diff id of what was read again must be those of the first read. Bytes
    /// reach the output only once they are verified: a seekable output is written as they pass and cut
    /// back to where it stood on any error; any other waits in a private temporary file. A symbolic
    /// link (located without following) writes nothing. Returns the bytes written.
    /// </summary>
    /// <exception cref="ImageException">The entry is not in its layer, its bytes end short, or the layer's bytes changed.</exception>
    public static long Copy(ImageLoad load, FileVersion version, Stream output, CancellationToken ct = default)
    {
        var a = version.Attributes;
        if (a.Type != FileType.File) return 0;
        var source = a.HardlinkTarget ?? version.Resolved;
        int layer = version.Layer;
        if (a.HardlinkTarget is not null && load.Model.Find(source)?.StateAt(version.Layer) is { IsPresent: true } target) layer = target.Layer;
        if (!output.CanSeek)
        {
            // verified before a byte is shown: the copy waits in a file only this process can open
            using var spool = PrivateTempFile.Create();
            long n = Copy(load, source, layer, spool, ct);
            spool.Position = 0;
            spool.CopyTo(output);
            return n;
        }
        long origin = output.Position;
        try
        {
            return Copy(load, source, layer, output, ct);
        }
        catch
        {
            output.SetLength(origin);
            throw;
        }
    }

    private static long Copy(ImageLoad load, string source, int layer, Stream output, CancellationToken ct)
    {
        var sink = new OneFile(source, output);
        VerifiedLayers.Read(load, [layer], _ => sink, ct);
        if (sink.Written < 0) throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Path_ContentMissing, "/" + PathText.Escape(source)), layer, load.Model.Layers[layer].Digest);
        return sink.Written;
    }

    /// <summary>Takes the bytes of one path; the layer's last entry of the name is the one the merge kept (a tar may carry a name twice).</summary>
    private sealed class OneFile(string path, Stream output) : IContentSink
    {
        private readonly long _origin = output.Position;

        public long Written { get; private set; } = -1;

        public Stream? Open(string entryPath)
        {
            if (entryPath != path) return null;
            output.Position = _origin;
            output.SetLength(_origin);
            Written = 0;
            return new Counting(this, output);
        }

        public void Add(in RawEntry entry) { }

        private sealed class Counting(OneFile owner, Stream inner) : WriteOnlyForwardStream
        {
            public override void Flush() => inner.Flush();

            public override void Write(byte[] buffer, int offset, int count)
            {
                inner.Write(buffer, offset, count);
                owner.Written += count;
            }
        }
    }
}
