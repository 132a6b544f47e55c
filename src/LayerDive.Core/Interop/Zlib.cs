using System.Runtime.InteropServices;

namespace LayerDive.Core.Interop;

/// <summary>
/// The inflater GZipStream itself calls (zlib-ng, in the runtime's own System.IO.Compression.Native),
/// through the same exports: what <see cref="Layers.NativeGzip"/> drives member by member.
/// </summary>
internal static unsafe class Zlib
{
    public const string Library = "libSystem.IO.Compression.Native";

    // the runtime's PAL_ZStream (pal_zlib.h): the native side keeps its own z_stream and copies these in and out
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public byte* NextOut;
        public sbyte* Msg;
        public nint InternalState;
        public uint AvailIn;
        public uint AvailOut;
    }

    [DllImport(Library, EntryPoint = "CompressionNative_InflateInit2_")] public static extern int InflateInit2_(ZStream* stream, int windowBits);
    [DllImport(Library, EntryPoint = "CompressionNative_InflateReset2_")] public static extern int InflateReset2_(ZStream* stream, int windowBits);
    [DllImport(Library, EntryPoint = "CompressionNative_Inflate")] public static extern int Inflate(ZStream* stream, int flush);
    [DllImport(Library, EntryPoint = "CompressionNative_InflateEnd")] public static extern int InflateEnd(ZStream* stream);
}
