using System.Text;
using LayerDive.Core.Interop;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>
/// A small file of the user's settings (Docker's <c>config.json</c>, a context's <c>meta.json</c>,
/// <c>auth.json</c>), read whole but bounded: a named pipe there would block the open forever and
/// <c>/dev/zero</c> or a huge file would fill the memory, so it is opened without blocking, must be a
/// regular file, and may be <see cref="MaxSize"/> at most. Links in its path are the user's own and
/// followed.
/// </summary>
internal static class SettingsFile
{
    public const int MaxSize = 4 << 20;

    /// <exception cref="ImageException">Not a regular file, or larger than <see cref="MaxSize"/>.</exception>
    /// <exception cref="IOException">It cannot be opened or read.</exception>
    public static unsafe byte[] Read(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            Check(path, new FileInfo(path).Length);
            return File.ReadAllBytes(path);
        }
        var name = Encoding.UTF8.GetBytes(path + "\0");
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        fixed (byte* p = name)
            handle = Libc.Open(p, Libc.ReadOnly | Libc.NonBlock | Libc.CloseOnExec | Libc.NoCtty);
        using (handle)
        {
            if (handle.IsInvalid)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Libc.ENoEnt) throw new FileNotFoundException(path);
                throw new IOException($"{path}: {Libc.Error(errno)}");
            }
            if (!Libc.TypeAndSize(handle, out int type, out long size) || type != Libc.TypeRegular)
                throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Settings_FileNotRegular, path));
            Check(path, size);
            var bytes = new byte[size];
            using var stream = new HandleStream(handle, size);
            int n = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            // a file that grew while it was read is read as far as its size when opened; one that shrank is what it holds
            return n == bytes.Length ? bytes : bytes[..n];
        }
    }

    private static void Check(string path, long size)
    {
        if (size > MaxSize) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Settings_FileTooLarge, path, size, MaxSize >> 20));
    }
}
