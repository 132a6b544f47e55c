using LayerDive.Core;
using System.Text;
using System.Formats.Tar;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;

namespace LayerDive.Core.Loading;

/// <summary>What an extraction wrote and what it left out.</summary>
public sealed record ExtractResult(int Files, int Directories, int Symlinks, long Bytes, IReadOnlyList<string> Skipped);

/// <summary>
/// Writes a path of the merged tree after a layer (a file, or a directory and everything visible under
/// it) into a folder. File contents are read again from the layers that last wrote them, streaming;
/// everything lands under the folder: names are normalised, no component on the way may be a symbolic
/// link, and the image's own links are created last so that nothing is written through them.
/// </summary>
public static class Extractor
{
    public static ExtractResult Extract(ImageLoad load, string path, int layer, string destination, CancellationToken ct = default)
    {
        var model = load.Model;
        var top = model.Find(path) ?? throw new ImageException(Text.Format("Error.NoLayerEverWrote", path));
        if (!top.IsVisibleAt(layer)) throw new ImageException(Text.Format("Error.DoesNotExistAfterLayer", top.Path, layer));
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);

        // what to write: every visible path under the selected one, relative to its parent, parents
        // first; each relative path is built from its parent's (never from the root up, which costs a
        // deep tree its depth squared), and a subtree past the file system's path limit is skipped whole
        string baseDir = top.IsRoot ? "" : PathText.Parent(top.Path);
        var items = new List<(string Relative, TreeNode Node, EntryAttributes Attributes, int FromLayer)>();
        var skipped = new List<string>();
        var stack = new Stack<(TreeNode Node, string Relative)>();
        stack.Push((top, top.IsRoot ? "" : top.Name));
        int limit = PathLimit - 1 - Encoding.UTF8.GetByteCount(root) - 1; // the limit counts the closing NUL; a slash joins
        while (stack.Count > 0)
        {
            var (n, relative) = stack.Pop();
            bool longName = Encoding.UTF8.GetByteCount(n.Name) > NameLimit;
            if (longName || Encoding.UTF8.GetByteCount(relative) > limit)
            {
                int under = CountVisible(n, layer);
                skipped.Add($"/{PathText.Escape(Shorten(n.Path))} ({(under > 1 ? $"and the {under - 1} paths under it: " : "")}" +
                    (longName ? $"its name is longer than the file system's {NameLimit}-byte limit)" : $"longer than the file system's {PathLimit}-byte path limit)"));
                continue;
            }
            var state = n.StateAt(layer)!.Value;
            items.Add((relative, n, state.Attributes, state.Layer));
            if (state.Attributes.IsDirectory)
                foreach (var c in n.VisibleChildren(layer)) stack.Push((c, relative.Length == 0 ? c.Name : relative + "/" + c.Name));
        }

        int dirs = 0, files = 0, links = 0;
        long bytes = 0;
        // parents come before their children: each directory is checked once, when it is made, and then
        // only the last component of a path below it needs a look
        foreach (var d in items.Where(i => i.Attributes.IsDirectory && i.Relative.Length > 0))
        {
            Directory.CreateDirectory(Checked(root, d.Relative));
            dirs++;
        }

        // file contents by the layer that wrote them; a hardlink takes its target's bytes
        var wanted = new Dictionary<int, Dictionary<string, List<string>>>();
        foreach (var f in items.Where(i => i.Attributes.Type == FileType.File))
        {
            var source = f.Attributes.HardlinkTarget ?? f.Node.Path;
            int from = f.Attributes.HardlinkTarget is null ? f.FromLayer : SourceLayer(model, source, f.FromLayer);
            var byPath = wanted.TryGetValue(from, out var m) ? m : wanted[from] = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            (byPath.TryGetValue(source, out var targets) ? targets : byPath[source] = []).Add(Checked(root, f.Relative));
        }
        // each blob read once, in the source's order where it has one; a blob may be several layers
        load.ReadLayers(wanted.Keys, (layers, blob) =>
        {
            var byPath = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var l in layers)
                if (wanted.TryGetValue(l, out var m))
                    foreach (var (source, targets) in m)
                        (byPath.TryGetValue(source, out var all) ? all : byPath[source] = []).AddRange(targets);
            var decompressed = Decompression.Open(Decompression.SniffAndRewind(blob, out var c), c);
            using var tar = new TarReader(decompressed);
            TarEntry? e;
            while ((e = tar.GetNextEntry()) is not null)
            {
                var name = PathText.Normalize(e.Name, out _);
                if (name is null || e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)
                    || !byPath.TryGetValue(name, out var targets)) continue;
                using (var output = new FileStream(targets[0], FileMode.Create, FileAccess.Write))
                    e.DataStream?.CopyTo(output);
                foreach (var other in targets.Skip(1)) File.Copy(targets[0], other, overwrite: true);
            }
        }, ct);
        foreach (var f in items.Where(i => i.Attributes.Type == FileType.File))
        {
            var target = Path.Combine(root, f.Relative);
            if (!File.Exists(target)) { skipped.Add("/" + f.Node.Path + " (its bytes were not found in its layer)"); continue; }
            files++;
            bytes += new FileInfo(target).Length;
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(target, (UnixFileMode)(f.Attributes.Mode & 0x1FF));
        }
        foreach (var s in items.Where(i => i.Attributes.Type == FileType.Symlink))
        {
            if (string.IsNullOrEmpty(s.Attributes.LinkTarget))
            {
                // a link to nothing (a tar allows it; a file system does not)
                skipped.Add($"/{s.Node.Path} (a symlink with an empty target: not created)");
                continue;
            }
            File.CreateSymbolicLink(Checked(root, s.Relative), s.Attributes.LinkTarget);
            links++;
        }
        foreach (var o in items.Where(i => i.Attributes.Type is FileType.CharDevice or FileType.BlockDevice or FileType.Fifo))
            skipped.Add($"/{o.Node.Path} ({Reports.RootfsListing.TypeName(o.Attributes.Type)}: not created)");
        return new ExtractResult(files, dirs, links, bytes, skipped);
    }

    /// <summary>The layer whose entry holds a hardlink target's bytes, as it stood in <paramref name="layer"/>.</summary>
    private static int SourceLayer(ImageModel model, string target, int layer) =>
        model.Find(target)?.StateAt(layer) is { IsPresent: true } s ? s.Layer : layer;

    /// <summary>PATH_MAX on Linux: the longest path a system call takes, its closing NUL included.</summary>
    private const int PathLimit = 4096;

    /// <summary>NAME_MAX: the longest name of one path component.</summary>
    private const int NameLimit = 255;

    private static int CountVisible(TreeNode top, int layer)
    {
        int count = 0;
        var stack = new Stack<TreeNode>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            count++;
            foreach (var c in n.VisibleChildren(layer)) stack.Push(c);
        }
        return count;
    }

    private static string Shorten(string path) => path.Length <= 80 ? path : path[..40] + "..." + path[^37..];

    /// <summary>
    /// The full path of <paramref name="relative"/> (a name the tree normalised, built below a checked
    /// parent) under <paramref name="root"/>, refusing an existing link in its last component.
    /// </summary>
    private static string Checked(string root, string relative)
    {
        var full = Path.Combine(root, relative);
        if ((File.Exists(full) || Directory.Exists(full)) && (File.GetAttributes(full) & System.IO.FileAttributes.ReparsePoint) != 0)
            throw new ImageException(Text.Format("Error.WouldBeWrittenThroughTheLink", relative, full));
        return full;
    }

    /// <summary>The full path of <paramref name="relative"/> under <paramref name="root"/>, refusing anything that would leave it.</summary>
    public static string Safe(string root, string relative)
    {
        var norm = PathText.Normalize(relative, out _) ?? throw new ImageException(Text.Format("Error.WouldBeWrittenOutside", relative, root));
        var full = Path.GetFullPath(Path.Combine(root, norm));
        if (full != root && !full.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new ImageException(Text.Format("Error.WouldBeWrittenOutside", relative, root));
        // no existing component on the way may be a link (which could lead out of the folder)
        var check = root;
        foreach (var seg in norm.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            check = Path.Combine(check, seg);
            var info = new FileInfo(check);
            if (info.Exists || Directory.Exists(check))
                if ((File.GetAttributes(check) & System.IO.FileAttributes.ReparsePoint) != 0)
                    throw new ImageException(Text.Format("Error.WouldBeWrittenThroughTheLink", relative, check));
        }
        return full;
    }
}
