using System.Text;
using Microsoft.Win32.SafeHandles;

namespace LayerDive.Core.Interop;

/// <summary>How links met on the way to a file are taken.</summary>
internal enum Links
{
    /// <summary>Any symbolic link, in any component, is refused (a store's files are never links).</summary>
    Refused,

    /// <summary>A relative link is followed while it stays inside the folder; one that leaves it (by "..", an absolute target or /proc's magic links) is refused.</summary>
    Inside,
}

/// <summary>What a path beneath a folder came to.</summary>
internal enum Found
{
    Ok,
    Missing,
    /// <summary>A symbolic link where <see cref="Links.Refused"/> refuses them.</summary>
    Link,
    /// <summary>The path leads outside the folder.</summary>
    Outside,
    /// <summary>Not a regular file where a file is read (a named pipe, a device, a socket, a folder), or not a folder where one is opened.</summary>
    WrongKind,
    /// <summary>Another error (permissions, I/O): <see cref="Opened.Errno"/> says which.</summary>
    Failed,
}

/// <summary>A file opened beneath a folder, with its size; or why it was not.</summary>
internal readonly record struct Opened(Found Found, SafeFileHandle? Handle, long Size, int Errno)
{
    public string Error => Libc.Error(Errno);
}

/// <summary>
/// A folder the user named, held open, under which every file is opened by a path that must stay
/// beneath it: a store or layout names its files, and a hostile one may name a link to the host's
/// files, a ".." path, a named pipe (an open that never returns) or a device. On Linux each path is
/// resolved by the kernel in one call (<c>openat2</c> with <c>RESOLVE_BENEATH</c>, and
/// <c>RESOLVE_NO_SYMLINKS</c> where links are refused); where that call is missing (kernels before
/// 5.6) the path is walked one component at a time with <c>O_NOFOLLOW</c>, links read and judged
/// here. A file is opened with <c>O_NONBLOCK</c>, so a named pipe cannot block the open, and its type
/// is checked on the open descriptor: anything but a regular file is refused. Elsewhere than Linux,
/// a path with a link in any component is refused.
/// </summary>
internal sealed unsafe class Folder : IDisposable
{
    private readonly SafeFileHandle? _handle; // null off Linux: paths are checked through the runtime
    private static bool s_noOpenat2;
    [ThreadStatic] private static byte[]? t_path;

    private Folder(string path, SafeFileHandle? handle) => (Path, _handle) = (path, handle);

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>The folder at <paramref name="path"/>, as the user named it (links in that path are the user's own and followed).</summary>
    /// <exception cref="IOException">It cannot be opened (<see cref="DirectoryNotFoundException"/> when it is not there or not a folder).</exception>
    public static Folder Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!OperatingSystem.IsLinux())
            return Directory.Exists(full) ? new Folder(full, null) : throw new DirectoryNotFoundException(full);
        var bytes = Encoding.UTF8.GetBytes(full + "\0");
        SafeFileHandle handle;
        fixed (byte* p = bytes) handle = Libc.Open(p, Libc.ReadOnly | Libc.Directory | Libc.CloseOnExec);
        if (!handle.IsInvalid) return new Folder(full, handle);
        int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        handle.Dispose();
        throw errno is Libc.ENoEnt or Libc.ENotDir ? new DirectoryNotFoundException(Libc.Error(errno)) : new IOException(Libc.Error(errno));
    }

    /// <summary>The regular file <paramref name="relative"/> (UTF-8, '/'-separated), opened for reading, and its size.</summary>
    public Opened OpenFile(ReadOnlySpan<byte> relative, Links links)
    {
        if (_handle is null) return ManagedOpen(Encoding.UTF8.GetString(relative), links);
        var handle = Resolve(relative, Libc.ReadOnly | Libc.NonBlock | Libc.NoCtty | Libc.CloseOnExec, links, out var found, out int errno);
        if (handle is null) return new Opened(found, null, 0, errno);
        if (!Libc.TypeAndSize(handle, out int type, out long size) || type != Libc.TypeRegular)
        {
            handle.Dispose();
            return new Opened(Found.WrongKind, null, 0, 0);
        }
        return new Opened(Found.Ok, handle, size, 0);
    }

    /// <inheritdoc cref="OpenFile(ReadOnlySpan{byte}, Links)"/>
    public Opened OpenFile(string relative, Links links) => OpenFile(Encoding.UTF8.GetBytes(relative), links);

    /// <summary>The folder <paramref name="relative"/> beneath this one.</summary>
    public Found OpenFolder(string relative, Links links, out Folder? folder, out int errno)
    {
        folder = null;
        errno = 0;
        var full = System.IO.Path.Combine(Path, relative);
        if (_handle is null)
        {
            var found = ManagedWalk(relative, links);
            if (found == Found.Ok && !Directory.Exists(full)) found = File.Exists(full) ? Found.WrongKind : Found.Missing;
            if (found == Found.Ok) folder = new Folder(full, null);
            return found;
        }
        var handle = Resolve(Encoding.UTF8.GetBytes(relative), Libc.ReadOnly | Libc.Directory | Libc.CloseOnExec, links, out var result, out errno);
        if (handle is null) return result == Found.Missing && errno == Libc.ENotDir && Look(relative, links, out _, out _) == Found.Ok ? Found.WrongKind : result;
        folder = new Folder(full, handle);
        return Found.Ok;
    }

    /// <summary>What <paramref name="relative"/> is (its type bits and size), without opening it for reading.</summary>
    public Found Look(string relative, Links links, out int type, out long size)
    {
        (type, size) = (0, 0);
        if (_handle is null)
        {
            var found = ManagedWalk(relative, links);
            var full = System.IO.Path.Combine(Path, relative);
            if (found != Found.Ok) return found;
            if (Directory.Exists(full)) type = Libc.TypeDirectory;
            else if (File.Exists(full)) (type, size) = (Libc.TypeRegular, new FileInfo(full).Length);
            else return Found.Missing;
            return Found.Ok;
        }
        // O_PATH: nothing is opened for reading, so neither a named pipe nor a device is touched
        using var handle = Resolve(Encoding.UTF8.GetBytes(relative), Libc.PathOnly | Libc.CloseOnExec, links, out var result, out _);
        if (handle is null) return result;
        return Libc.TypeAndSize(handle, out type, out size) ? Found.Ok : Found.Failed;
    }

    public void Dispose() => _handle?.Dispose();

    // ---------------- Linux ----------------

    /// <summary>Opens <paramref name="relative"/> with <paramref name="flags"/>, staying beneath the folder; null and why when it cannot.</summary>
    private SafeFileHandle? Resolve(ReadOnlySpan<byte> relative, int flags, Links links, out Found found, out int errno)
    {
        if (relative.IsEmpty || relative[0] == (byte)'/' || relative.Contains((byte)0))
        {
            (found, errno) = (relative.IsEmpty ? Found.Missing : Found.Outside, 0);
            return null;
        }
        if (!s_noOpenat2)
        {
            var how = new Libc.OpenHow
            {
                Flags = (ulong)flags,
                Resolve = Libc.ResolveBeneath | Libc.ResolveNoMagicLinks | (links == Links.Refused ? Libc.ResolveNoSymlinks : 0),
            };
            int length = relative.Length + 1;
            var path = t_path is { } b && b.Length >= length ? b : t_path = new byte[Math.Max(length, 512)];
            relative.CopyTo(path);
            path[relative.Length] = 0;
            for (int tries = 0; ; tries++)
            {
                SafeFileHandle handle;
                fixed (byte* p = path) handle = Libc.OpenAt2(_handle!, p, &how);
                if (!handle.IsInvalid)
                {
                    (found, errno) = (Found.Ok, 0);
                    return handle;
                }
                errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                handle.Dispose();
                // EAGAIN: a rename raced the check of a ".." (the kernel asks to try again)
                if (errno is Libc.EAgain or Libc.EIntr && tries < 8) continue;
                break;
            }
            if (errno is not (Libc.ENoSys or Libc.EPerm))
            {
                found = errno switch
                {
                    Libc.ENoEnt or Libc.ENotDir => Found.Missing,
                    Libc.ELoop => links == Links.Refused ? Found.Link : Found.Outside,
                    Libc.EXDev => Found.Outside,
                    _ => Found.Failed,
                };
                return null;
            }
            // no openat2 (an old kernel, or a seccomp filter that refuses what it does not know): walk
            bool missing = errno == Libc.ENoSys;
            var walked = Walk(relative, flags, links, out found, out errno);
            if (missing || walked is not null) s_noOpenat2 = true;
            return walked;
        }
        return Walk(relative, flags, links, out found, out errno);
    }

    /// <summary>
    /// The path one component at a time, each opened with O_NOFOLLOW relative to the last: a link is
    /// refused, or read and its target walked in its place while it stays beneath the folder.
    /// </summary>
    private SafeFileHandle? Walk(ReadOnlySpan<byte> relative, int flags, Links links, out Found found, out int errno)
    {
        var pending = new Stack<byte[]>();
        Push(pending, relative);
        var opened = new List<SafeFileHandle>(); // the folders walked into, innermost last
        int hops = 0;
        try
        {
            while (pending.Count > 0)
            {
                var part = pending.Pop();
                if (part is [(byte)'.', (byte)'.'])
                {
                    if (opened.Count == 0)
                    {
                        (found, errno) = (Found.Outside, 0);
                        return null;
                    }
                    opened[^1].Dispose();
                    opened.RemoveAt(opened.Count - 1);
                    continue;
                }
                var top = opened.Count == 0 ? _handle! : opened[^1];
                bool last = pending.Count == 0;
                var name = new byte[part.Length + 1];
                part.CopyTo(name, 0);
                SafeFileHandle handle;
                fixed (byte* p = name)
                    handle = Libc.OpenAt(top, p, (last ? flags : Libc.PathOnly | Libc.Directory | Libc.CloseOnExec) | Libc.NoFollow);
                errno = handle.IsInvalid ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
                if (!handle.IsInvalid)
                {
                    // O_PATH with O_NOFOLLOW opens a link itself: tell it by its type
                    bool isLink = last && (flags & Libc.PathOnly) != 0 && Libc.TypeAndSize(handle, out int type, out _) && type == Libc.TypeLink;
                    if (!isLink)
                    {
                        if (last)
                        {
                            found = Found.Ok;
                            return handle;
                        }
                        opened.Add(handle);
                        continue;
                    }
                }
                handle.Dispose();
                // O_NOFOLLOW on a link: ELOOP, or ENOTDIR where a folder is asked for
                if (errno is not (0 or Libc.ELoop or Libc.ENotDir))
                {
                    found = errno == Libc.ENoEnt ? Found.Missing : Found.Failed;
                    return null;
                }
                var target = ReadLink(top, name);
                if (target is null)
                {
                    found = errno == Libc.ENotDir ? Found.Missing : Found.Failed;
                    return null;
                }
                if (links == Links.Refused)
                {
                    (found, errno) = (Found.Link, Libc.ELoop);
                    return null;
                }
                if (target.Length == 0 || target[0] == (byte)'/' || ++hops > 40)
                {
                    (found, errno) = (Found.Outside, Libc.EXDev);
                    return null;
                }
                Push(pending, target);
            }
            // the path named the folder itself
            (found, errno) = (Found.WrongKind, 0);
            return null;
        }
        finally
        {
            foreach (var h in opened) h.Dispose();
        }
    }

    /// <summary>Pushes the components of <paramref name="path"/> (none empty or ".") so that the first is popped first.</summary>
    private static void Push(Stack<byte[]> pending, ReadOnlySpan<byte> path)
    {
        var parts = new List<byte[]>();
        foreach (var range in path.Split((byte)'/'))
            if (path[range] is not ([] or [(byte)'.'])) parts.Add(path[range].ToArray());
        for (int i = parts.Count - 1; i >= 0; i--) pending.Push(parts[i]);
    }

    /// <summary>The target of the link <paramref name="name"/> (NUL-terminated) in <paramref name="folder"/>; null when it is no link.</summary>
    private static byte[]? ReadLink(SafeFileHandle folder, byte[] name)
    {
        var buffer = new byte[4096];
        nint n;
        fixed (byte* p = name)
        fixed (byte* b = buffer)
            n = Libc.ReadLinkAt(folder, p, b, buffer.Length);
        return n < 0 ? null : buffer[..(int)n];
    }

    // ---------------- elsewhere ----------------

    /// <summary>Every component checked through the runtime: no "..", no link.</summary>
    private Found ManagedWalk(string relative, Links links)
    {
        var current = Path;
        foreach (var part in relative.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") return Found.Outside;
            current = System.IO.Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null) return links == Links.Refused ? Found.Link : Found.Outside;
            if (!info.Exists) return Found.Missing;
        }
        return Found.Ok;
    }

    private Opened ManagedOpen(string relative, Links links)
    {
        var found = ManagedWalk(relative, links);
        var full = System.IO.Path.Combine(Path, relative);
        if (found == Found.Ok && !File.Exists(full)) found = Found.WrongKind;
        if (found != Found.Ok) return new Opened(found, null, 0, 0);
        var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        return new Opened(Found.Ok, handle, RandomAccess.GetLength(handle), 0);
    }
}
