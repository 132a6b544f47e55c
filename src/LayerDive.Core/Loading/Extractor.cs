using LayerDive.Core;
using System.Text;
using System.Runtime.InteropServices;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Interop;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Loading;

/// <summary>What an extraction wrote and what it left out.</summary>
internal sealed record ExtractResult(int Files, int Directories, int Symlinks, long Bytes, IReadOnlyList<string> Skipped);

/// <summary>
/// Writes a path of the merged tree after a layer (a file, or a directory and everything visible under
/// it) into a folder. File contents are read again from the layers that last wrote them, streaming,
/// through the reader the merge uses, into a private folder inside the destination; only once every
/// layer read has verified (its blob digest and diff id those of the load) is anything put in place,
/// so a layer whose bytes changed leaves nothing behind. Everything lands under the folder: names are
/// normalised, no component on the way may be a symbolic link, and the image's own links are created
/// last so that nothing is written through them. Names are the bytes the tar held, also where they
/// are not UTF-8.
/// </summary>
internal static partial class Extractor
{
    public static ExtractResult Extract(ImageLoad load, string path, int layer, string destination, CancellationToken ct = default)
    {
        var model = load.Model;
        var top = model.Find(path) ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Path_NeverWritten, PathText.Escape(path)));
        if (!top.IsVisibleAt(layer)) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Path_AbsentAfterLayer, PathText.Escape(top.Path), layer));
        var root = Path.GetFullPath(destination);
        bool created = !Directory.Exists(root);
        Directory.CreateDirectory(root);

        // what to write: every visible path under the selected one, relative to its parent, parents
        // first; each relative path is built from its parent's (never from the root up, which costs a
        // deep tree its depth squared), and a subtree past the file system's path limit is skipped whole
        var items = new List<(string Relative, TreeNode Node, EntryAttributes Attributes, int FromLayer)>();
        var skipped = new List<string>();
        var stack = new Stack<(TreeNode Node, string Relative)>();
        stack.Push((top, top.IsRoot ? "" : top.Name));
        int limit = PathLimit - 1 - PathText.ByteCount(root) - 1; // the limit counts the closing NUL; a slash joins
        while (stack.Count > 0)
        {
            var (n, relative) = stack.Pop();
            bool longName = PathText.ByteCount(n.Name) > NameLimit;
            if (longName || PathText.ByteCount(relative) > limit)
            {
                int under = CountVisible(n, layer);
                string others = under > 1 ? Text.Fill(Strings.Extract_AndPathsUnder, under - 1) : "";
                skipped.Add(longName
                    ? Text.Fill(Strings.Extract_SkippedLongName, "/" + PathText.Escape(Shorten(n.Path)), others, NameLimit)
                    : Text.Fill(Strings.Extract_SkippedLongPath, "/" + PathText.Escape(Shorten(n.Path)), others, PathLimit));
                continue;
            }
            var state = n.StateAt(layer)!.Value;
            items.Add((relative, n, state.Attributes, state.Layer));
            if (state.Attributes.IsDirectory)
                foreach (var c in n.VisibleChildren(layer)) stack.Push((c, relative.Length == 0 ? c.Name : relative + "/" + c.Name));
        }

        // file contents by the layer that wrote them; a hardlink takes its target's bytes
        var wanted = new Dictionary<int, Dictionary<string, List<string>>>();
        foreach (var f in items.Where(i => i.Attributes.Type == FileType.File))
        {
            var source = f.Attributes.HardlinkTarget ?? f.Node.Path;
            int from = f.Attributes.HardlinkTarget is null ? f.FromLayer : SourceLayer(model, source, f.FromLayer);
            var byPath = wanted.TryGetValue(from, out var m) ? m : wanted[from] = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            (byPath.TryGetValue(source, out var targets) ? targets : byPath[source] = []).Add(f.Relative);
        }

        // the bytes wait in a private folder inside the destination (a rename away from their place)
        // until every layer read has verified
        var staging = Path.Combine(root, ".layerdive-extract-" + Guid.NewGuid().ToString("N")[..12]);
        bool done = false;
        try
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(staging);
            else Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var staged = new Dictionary<string, (string File, List<string> Targets)>(StringComparer.Ordinal);
            // each blob read once, in the source's order where it has one; a blob may be several layers
            Staging? sink = null;
            try
            {
                VerifiedLayers.Read(load, wanted.Keys, layers =>
                {
                    var byPath = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                    foreach (var l in layers)
                        if (wanted.TryGetValue(l, out var m))
                            foreach (var (source, targets) in m)
                                (byPath.TryGetValue(source, out var all) ? all : byPath[source] = []).AddRange(targets);
                    sink?.Close();
                    return sink = new Staging(staging, byPath, staged);
                }, ct);
            }
            finally { sink?.Close(); } // a read that failed inside an entry left its file open

            int dirs = 0, files = 0, links = 0;
            long bytes = 0;
            // parents come before their children: each directory is checked once, when it is made, and then
            // only the last component of a path below it needs a look
            foreach (var d in items.Where(i => i.Attributes.IsDirectory && i.Relative.Length > 0))
            {
                MakeDirectory(root, d.Relative);
                dirs++;
            }
            var placed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (file, targets) in staged.Values)
            {
                long length = new FileInfo(file).Length;
                for (int i = 1; i < targets.Count; i++)
                {
                    var copy = file + "." + i;
                    File.Copy(file, copy);
                    Place(root, copy, targets[i]);
                }
                Place(root, file, targets[0]);
                foreach (var t in targets) placed.Add(t);
                bytes += length * targets.Count;
            }
            foreach (var f in items.Where(i => i.Attributes.Type == FileType.File))
            {
                if (!placed.Contains(f.Relative)) { skipped.Add(Text.Fill(Strings.Extract_SkippedNoBytes, "/" + PathText.Escape(f.Node.Path))); continue; }
                files++;
                SetMode(root, f.Relative, f.Attributes.Mode & 0x1FF);
            }
            foreach (var sl in items.Where(i => i.Attributes.Type == FileType.Symlink))
            {
                if (string.IsNullOrEmpty(sl.Attributes.LinkTarget))
                {
                    // a link to nothing (a tar allows it; a file system does not)
                    skipped.Add(Text.Fill(Strings.Extract_SkippedEmptyLink, "/" + PathText.Escape(sl.Node.Path)));
                    continue;
                }
                MakeSymlink(root, sl.Relative, sl.Attributes.LinkTarget);
                links++;
            }
            foreach (var o in items.Where(i => i.Attributes.Type is FileType.CharDevice or FileType.BlockDevice or FileType.Fifo))
                skipped.Add(Text.Fill(Strings.Extract_SkippedSpecial, "/" + PathText.Escape(o.Node.Path), Reports.RootfsListing.TypeName(o.Attributes.Type)));
            done = true;
            return new ExtractResult(files, dirs, links, bytes, skipped);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            // a refused read leaves nothing: not even the folder, where this made it
            if (!done && created && Directory.Exists(root) && !Directory.EnumerateFileSystemEntries(root).Any()) Directory.Delete(root);
        }
    }

    /// <summary>Takes the bytes of the chosen paths of one blob into files of the staging folder (a later entry of a name replaces an earlier one).</summary>
    private sealed class Staging(string folder, Dictionary<string, List<string>> byPath, Dictionary<string, (string File, List<string> Targets)> staged) : IContentSink
    {
        private FileStream? _open;

        public Stream? Open(string path)
        {
            Close();
            if (!byPath.TryGetValue(path, out var targets)) return null;
            foreach (var t in targets)
                if (staged.Remove(t, out var earlier)) File.Delete(earlier.File);
            var file = Path.Combine(folder, staged.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8]);
            _open = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            staged[targets[0]] = (file, targets);
            return _open;
        }

        public void Add(in RawEntry entry) => Close();

        public void Close()
        {
            _open?.Dispose();
            _open = null;
        }
    }

    // ---- the file system, by the names' bytes ----
    // .NET hands a path to the system as UTF-8, and a name that is not UTF-8 (held as U+DC80+byte)
    // would become U+FFFD: such names go to libc as their own bytes.

    private static bool Raw(string relative) => !OperatingSystem.IsWindows() && PathText.HasRawBytes(relative);

    private static byte[] CPath(string root, string relative)
    {
        var bytes = PathText.ToBytes(relative.Length == 0 ? root : root.TrimEnd('/') + "/" + relative);
        return [.. bytes, 0];
    }

    private static unsafe void MakeDirectory(string root, string relative)
    {
        if (!Raw(relative))
        {
            Directory.CreateDirectory(Checked(root, relative));
            return;
        }
        var path = CPath(root, relative);
        RefuseLink(path, relative, root);
        fixed (byte* p = path)
            if (Libc.Mkdir(p, 0x1ED) != 0 && Marshal.GetLastPInvokeError() != EEXIST) throw Failed("mkdir", relative);
    }

    private static unsafe void Place(string root, string staged, string relative)
    {
        if (!Raw(relative))
        {
            File.Move(staged, Checked(root, relative), overwrite: true);
            return;
        }
        var to = CPath(root, relative);
        RefuseLink(to, relative, root);
        var from = CPath(staged, "");
        fixed (byte* f = from)
        fixed (byte* t = to)
            if (Libc.Rename(f, t) != 0) throw Failed("rename", relative);
    }

    private static unsafe void SetMode(string root, string relative, int mode)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!Raw(relative))
        {
            File.SetUnixFileMode(Path.Combine(root, relative), (UnixFileMode)mode);
            return;
        }
        var path = CPath(root, relative);
        fixed (byte* p = path)
            if (Libc.Chmod(p, (uint)mode) != 0) throw Failed("chmod", relative);
    }

    private static unsafe void MakeSymlink(string root, string relative, string target)
    {
        if (!Raw(relative) && (OperatingSystem.IsWindows() || !PathText.HasRawBytes(target)))
        {
            File.CreateSymbolicLink(Checked(root, relative), target);
            return;
        }
        var path = CPath(root, relative);
        RefuseLink(path, relative, root);
        byte[] to = [.. PathText.ToBytes(target), 0];
        fixed (byte* p = path)
        fixed (byte* t = to)
            if (Libc.Symlink(t, p) != 0) throw Failed("symlink", relative);
    }

    /// <summary>Refuses an existing symbolic link at the last component (readlink succeeds only on a link).</summary>
    private static unsafe void RefuseLink(byte[] path, string relative, string root)
    {
        byte* buffer = stackalloc byte[1];
        fixed (byte* p = path)
            if (Libc.Readlink(p, buffer, 1) >= 0)
                throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Extract_ThroughLink, PathText.Escape(relative), PathText.Escape(Path.Combine(root, relative))));
    }

    private const int EEXIST = 17;

    private static IOException Failed(string call, string relative) =>
        new($"{call} {PathText.Escape(relative)}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");


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
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Extract_ThroughLink, relative, full));
        return full;
    }

    /// <summary>The full path of <paramref name="relative"/> under <paramref name="root"/>, refusing anything that would leave it.</summary>
    public static string Safe(string root, string relative)
    {
        var norm = PathText.Normalize(relative, out _) ?? throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Extract_OutsideFolder, relative, root));
        var full = Path.GetFullPath(Path.Combine(root, norm));
        if (full != root && !full.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Extract_OutsideFolder, relative, root));
        // no existing component on the way may be a link (which could lead out of the folder)
        var check = root;
        foreach (var seg in norm.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            check = Path.Combine(check, seg);
            var info = new FileInfo(check);
            if (info.Exists || Directory.Exists(check))
                if ((File.GetAttributes(check) & System.IO.FileAttributes.ReparsePoint) != 0)
                    throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Extract_ThroughLink, relative, check));
        }
        return full;
    }
}
