using System.Runtime.InteropServices;

namespace LayerDive.Core.Interop;

/// <summary>The system's libzstd (libzstd.so.1): what <see cref="Layers.NativeZstd"/> decodes with where it loads.</summary>
internal static unsafe class Zstd
{
    public const string Library = "libzstd.so.1";

    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Src;
        public nuint Size;
        public nuint Pos;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Dst;
        public nuint Size;
        public nuint Pos;
    }

    [DllImport(Library)] public static extern nint ZSTD_createDStream();
    [DllImport(Library)] public static extern nuint ZSTD_freeDStream(nint stream);
    [DllImport(Library)] public static extern nuint ZSTD_initDStream(nint stream);
    [DllImport(Library)] public static extern nuint ZSTD_decompressStream(nint stream, OutBuffer* output, InBuffer* input);
    [DllImport(Library)] public static extern uint ZSTD_isError(nuint code);
    [DllImport(Library)] public static extern nint ZSTD_getErrorName(nuint code);
    [DllImport(Library)] public static extern nuint ZSTD_DCtx_setParameter(nint context, int parameter, int value);
}
