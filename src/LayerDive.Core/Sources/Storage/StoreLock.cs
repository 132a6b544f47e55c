using LayerDive.Core.Interop;
using Microsoft.Win32.SafeHandles;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Storage;

/// <summary>
/// A shared lock on one of a store's lock files (<c>layers.lock</c>, <c>images.lock</c>), the fcntl
/// byte-range lock containers-storage's own readers take: while it is held, podman and buildah cannot
/// write that part of the store (they wait for a write lock), and while one of them writes, this waits.
/// An open-file-description lock (F_OFD_SETLK), so two layers read at once each hold their own; a
/// writer that keeps the lock longer than the wait is refused with one line. Linux only; elsewhere, and
/// where the store has no lock file, nothing is locked.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly SafeFileHandle _file;

    private StoreLock(SafeFileHandle file) => _file = file;

    /// <summary>How long a writer may keep the store (LAYERDIVE_STORE_WAIT, seconds; 30 by default).</summary>
    public static TimeSpan Wait(SourceOptions options) =>
        options.Env("LAYERDIVE_STORE_WAIT") is { } s && double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(30);

    /// <summary>Takes the shared lock on the store's file <paramref name="relative"/>, waiting up to <paramref name="wait"/> for a writer; null when there is nothing to lock.</summary>
    /// <exception cref="ImageException">A writer kept the lock for the whole wait, or the lock file is a link or no regular file.</exception>
    public static StoreLock? Shared(Store store, string relative, TimeSpan wait)
    {
        if (!OperatingSystem.IsLinux()) return null;
        // O_RDONLY: a read lock needs no more; opened as every file of the store is (no link, no named pipe)
        var opened = store.Open(relative, missingIsError: false);
        if (opened is null) return null;
        var file = opened.Value.Handle!;
        var until = DateTime.UtcNow + wait;
        while (true)
        {
            var fl = new Libc.Flock { Type = Libc.ReadLock, Whence = 0, Start = 0, Length = 0, Pid = 0 };
            if (Libc.Fcntl(file, Libc.OfdSetLock, ref fl) == 0) return new StoreLock(file);
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is not (Libc.EAgain or Libc.EAccess or Libc.EIntr))
            {
                file.Dispose();
                return null; // locks not supported here (an old kernel, a file system without them)
            }
            if (DateTime.UtcNow >= until)
            {
                file.Dispose();
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Storage_Locked, store.Full(relative), (int)wait.TotalSeconds));
            }
            Thread.Sleep(50);
        }
    }

    public void Dispose() => _file.Dispose();
}
