using System.Runtime.InteropServices;

namespace LayerDive.Core.Sources;

/// <summary>
/// Whether a path is a regular file, a directory or something else (a named pipe, a device, a
/// socket), without opening it: opening a named pipe waits for a writer, which may never come. .NET
/// tells files from directories only, so this asks Linux's <c>statx</c>, whose layout is the same
/// on every architecture (the file type is in <c>stx_mode</c>, a 16-bit field at byte 28).
/// </summary>
internal static partial class FileKind
{
    public enum Kind { Missing, Regular, Directory, Other }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    private static bool s_unavailable;

    public static unsafe Kind Of(string path)
    {
        if (!OperatingSystem.IsLinux() || s_unavailable)
            return Directory.Exists(path) ? Kind.Directory : File.Exists(path) ? Kind.Regular : Kind.Missing;
        byte* buffer = stackalloc byte[256];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
                return Directory.Exists(path) ? Kind.Directory : File.Exists(path) ? Kind.Regular : Kind.Missing;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unavailable = true; // an older libc: files and directories as .NET tells them
            return Of(path);
        }
        int type = *(ushort*)(buffer + ModeOffset) & 0xF000;
        return type switch
        {
            0x8000 => Kind.Regular,
            0x4000 => Kind.Directory,
            _ => Kind.Other,
        };
    }
}
