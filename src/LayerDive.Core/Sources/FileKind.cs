using LayerDive.Core.Interop;

namespace LayerDive.Core.Sources;

/// <summary>
/// Whether a path is a regular file, a directory or something else (a named pipe, a device, a
/// socket), without opening it: opening a named pipe waits for a writer, which may never come. .NET
/// tells files from directories only, so this asks Linux's <c>statx</c>.
/// </summary>
internal static class FileKind
{
    public enum Kind { Missing, Regular, Directory, Other }

    private static bool s_unavailable;

    public static unsafe Kind Of(string path)
    {
        if (!OperatingSystem.IsLinux() || s_unavailable)
            return Directory.Exists(path) ? Kind.Directory : File.Exists(path) ? Kind.Regular : Kind.Missing;
        byte* buffer = stackalloc byte[Libc.StatxBufferSize];
        try
        {
            if (Libc.Statx(Libc.AtFdCwd, path, 0, Libc.StatxType, buffer) != 0)
                return Directory.Exists(path) ? Kind.Directory : File.Exists(path) ? Kind.Regular : Kind.Missing;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unavailable = true; // an older libc: files and directories as .NET tells them
            return Of(path);
        }
        return (*(ushort*)(buffer + Libc.StatxModeOffset) & Libc.TypeMask) switch
        {
            Libc.TypeRegular => Kind.Regular,
            Libc.TypeDirectory => Kind.Directory,
            _ => Kind.Other,
        };
    }
}
