using System.Formats.Tar;
using System.Runtime.InteropServices;

namespace LayerDive.Core.Sources.Engines;

/// <summary>
/// A tar of an overlay upper directory, as the layer it is: entries in path order, a 0/0 character
/// device as the whiteout <c>.wh.NAME</c>, a directory with the opaque xattr followed by <c>.wh..wh..opq</c>,
/// and a file linked more than once inside the folder as a hard link to the first path met.
/// </summary>
internal static partial class UpperDirLayer
{
    public static void Write(string upper, TarWriter tar, CancellationToken ct)
    {
        var root = Path.GetFullPath(upper);
        var linked = new Dictionary<ulong, string>(); // inode -> the first path written for it (one folder: one filesystem)
        var stack = new Stack<string>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var dir = stack.Pop();
            var children = new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
            // depth first in name order: push in reverse so the first name comes out first
            var subdirs = new List<string>();
            foreach (var info in children)
            {
                var relative = Path.GetRelativePath(root, info.FullName).Replace('\\', '/');
                bool isDir = (info.Attributes & FileAttributes.Directory) != 0 && info.LinkTarget is null;
                if (isDir)
                {
                    tar.WriteEntry(info.FullName, relative + "/");
                    if (Opaque(info.FullName)) tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, Layers.OverlayMarkers.OpaqueFor(relative)));
                    subdirs.Add(info.FullName);
                    continue;
                }
                if (Whiteout(info))
                {
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, Layers.OverlayMarkers.WhiteoutFor(relative)));
                    continue;
                }
                if (info is FileInfo && info.LinkTarget is null && Links(info.FullName) is { Count: > 1, Inode: var inode })
                {
                    if (linked.TryGetValue(inode, out var target))
                    {
                        var entry = new PaxTarEntry(TarEntryType.HardLink, relative) { LinkName = target };
                        var meta = new FileInfo(info.FullName);
                        entry.Mode = (UnixFileMode)((int)meta.UnixFileMode);
                        entry.ModificationTime = meta.LastWriteTimeUtc;
                        tar.WriteEntry(entry);
                        continue;
                    }
                    linked[inode] = relative;
                }
                tar.WriteEntry(info.FullName, relative);
            }
            // the subdirectories' contents come after this directory's entries; nested order is still parents first
            for (int i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
        }
    }

    /// <summary>
    /// True for overlayfs's whiteout, a 0/0 character device. The runtime tells no device from an empty
    /// file, so an entry of length 0 that is no link is made into a tar entry (as the layer will hold
    /// it) and its type and numbers are read back from that.
    /// </summary>
    private static bool Whiteout(FileSystemInfo info)
    {
        if (info.LinkTarget is not null || info is not FileInfo { Length: 0 }) return false;
        using var scratch = new MemoryStream();
        using (var w = new TarWriter(scratch, TarEntryFormat.Pax, leaveOpen: true)) w.WriteEntry(info.FullName, "x");
        scratch.Position = 0;
        using var r = new TarReader(scratch);
        return r.GetNextEntry() is PosixTarEntry { EntryType: TarEntryType.CharacterDevice, DeviceMajor: 0, DeviceMinor: 0 };
    }

    /// <summary>A file's link count and inode (statx, no link followed); a count of 0 when it cannot be read.</summary>
    private static unsafe (uint Count, ulong Inode) Links(string path)
    {
        if (!OperatingSystem.IsLinux()) return (0, 0);
        byte* buffer = stackalloc byte[Interop.Libc.StatxBufferSize];
        const uint StatxNlink = 0x4, StatxIno = 0x100;
        if (Interop.Libc.Statx(Interop.Libc.AtFdCwd, path, Interop.Libc.AtSymlinkNoFollow, StatxNlink | StatxIno, buffer) != 0) return (0, 0);
        // struct statx: stx_nlink at 16, stx_ino at 32
        return (*(uint*)(buffer + 16), *(ulong*)(buffer + 32));
    }

    /// <summary>True when the directory has the overlay opaque xattr ("y"), trusted or user namespace.</summary>
    private static bool Opaque(string dir)
    {
        if (!OperatingSystem.IsLinux()) return false;
        Span<byte> value = stackalloc byte[8];
        foreach (var name in new[] { "trusted.overlay.opaque", "user.overlay.opaque" })
        {
            nint n = Interop.Libc.LGetXattr(dir, name, ref MemoryMarshal.GetReference(value), value.Length);
            if (n > 0 && value[0] == (byte)'y') return true;
        }
        return false;
    }
}
