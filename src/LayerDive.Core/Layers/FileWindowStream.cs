using Microsoft.Win32.SafeHandles;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Layers;

/// <summary>
/// A window [offset, offset+length) of a file read with positional reads on a shared handle,
/// so that several windows of one file can be read in parallel.
/// </summary>
internal sealed class FileWindowStream(SafeFileHandle handle, long offset, long length) : ReadOnlyForwardStream
{
    private long _position;

    public override long Length => length;

    public override int Read(Span<byte> buffer)
    {
        long left = length - _position;
        if (left <= 0) return 0;
        if (buffer.Length > left) buffer = buffer[..(int)left];
        int n = RandomAccess.Read(handle, buffer, offset + _position);
        if (n == 0) throw new EndOfStreamException(Strings.Archive_MemberCut);
        _position += n;
        return n;
    }
}

