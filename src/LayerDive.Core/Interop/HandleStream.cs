using Microsoft.Win32.SafeHandles;

namespace LayerDive.Core.Interop;

/// <summary>
/// A file read from its start through its handle, which it owns: on Linux with read(2) alone (a
/// store's layer holds tens of thousands of files, and the runtime's file streams add an fstat and two
/// flocks to each), elsewhere through the runtime's positional reads.
/// </summary>
internal sealed unsafe class HandleStream(SafeFileHandle handle, long length) : Layers.ReadOnlyForwardStream
{
    private long _position;

    public override long Length => length;

    public override int Read(Span<byte> buffer)
    {
        int n = Read(handle, buffer, _position);
        _position += n;
        return n;
    }

    /// <summary>Reads from <paramref name="handle"/> at <paramref name="position"/>, which on Linux is where its own offset stands (read(2) moves it).</summary>
    public static int Read(SafeFileHandle handle, Span<byte> buffer, long position)
    {
        if (buffer.IsEmpty) return 0;
        if (!OperatingSystem.IsLinux()) return RandomAccess.Read(handle, buffer, position);
        while (true)
        {
            nint n;
            fixed (byte* b = buffer) n = Libc.Read(handle, b, buffer.Length);
            if (n >= 0) return (int)n;
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Libc.EIntr) throw new IOException(Libc.Error(errno));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) handle.Dispose();
        base.Dispose(disposing);
    }
}
