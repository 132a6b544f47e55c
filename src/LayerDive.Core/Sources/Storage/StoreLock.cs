using System.Runtime.InteropServices;

namespace LayerDive.Core.Sources.Storage;

/// <summary>
/// A shared lock on one of a store's lock files (<c>layers.lock</c>, <c>images.lock</c>), the fcntl
/// byte-range lock containers-storage's own readers take: while it is held, podman and buildah cannot
/// write that part of the store (they wait for a write lock), and while one of them writes, this waits.
/// An open-file-description lock (F_OFD_SETLK), so two layers read at once each hold their own; a
/// writer that keeps the lock longer than the wait is refused with one line. Linux only; elsewhere, and
/// where the store has no lock file, nothing is locked.
/// </summary>
internal sealed partial class StoreLock : IDisposable
{
    private int _fd;

    private StoreLock(int fd) => _fd = fd;

    /// <summary>How long a writer may keep the store (LAYERDIVE_STORE_WAIT, seconds; 30 by default).</summary>
    public static TimeSpan Wait(SourceOptions options) =>
        options.Env("LAYERDIVE_STORE_WAIT") is { } s && double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(30);

    /// <summary>Takes the shared lock on <paramref name="path"/>, waiting up to <paramref name="wait"/> for a writer; null when there is nothing to lock.</summary>
    /// <exception cref="ImageException">A writer kept the lock for the whole wait.</exception>
    public static unsafe StoreLock? Shared(string path, TimeSpan wait)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(path)) return null;
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes) fd = Open(p, CloseOnExec); // O_RDONLY: a read lock needs no more
        if (fd < 0) return null; // unreadable lock file: the reads that follow will say what is wrong
        var until = DateTime.UtcNow + wait;
        while (true)
        {
            var fl = new Flock { Type = ReadLock, Whence = 0, Start = 0, Length = 0, Pid = 0 };
            if (Fcntl(fd, OfdSetLock, ref fl) == 0) return new StoreLock(fd);
            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (EAgain or EAccess or EIntr))
            {
                Close(fd);
                return null; // locks not supported here (an old kernel, a file system without them)
            }
            if (DateTime.UtcNow >= until)
            {
                Close(fd);
                throw new ImageException(Text.Format("Error.StorageLocked", path, (int)wait.TotalSeconds));
            }
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        if (_fd >= 0) Close(_fd);
        _fd = -1;
    }

    private const int CloseOnExec = 0x80000, OfdSetLock = 37, ReadLock = 0, EAgain = 11, EAccess = 13, EIntr = 4;

    /// <summary>struct flock, as Linux lays it out on 64-bit machines.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static unsafe partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref Flock flock);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
