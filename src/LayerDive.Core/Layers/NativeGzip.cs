using System.Buffers;
using System.Runtime.InteropServices;
using LayerDive.Core.Interop;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Layers;

/// <summary>
/// gzip decoding that knows where each member ends. The runtime's <see cref="System.IO.Compression.GZipStream"/>
/// returns end of stream when its input runs out, whether or not the member reached its CRC and size
/// trailer (a layer cut short reads as a complete, shorter one), decodes the start of a partial second
/// member, and ignores bytes after the last member without a word. This drives the same inflater
/// (zlib-ng, in the runtime's own System.IO.Compression.Native, through the exports GZipStream itself
/// calls; the system's libz measured 1.7x slower on a 330 MB layer) member by member: zlib checks each
/// member's CRC and size, input ending inside a member is a truncation, and what follows the last
/// member is counted (<see cref="DecompressionStream.IgnoredBytes"/>) so the reader can say so, as gzip does.
/// </summary>
internal static unsafe class NativeGzip
{
    private const int GzipWindowBits = 31; // 15-bit window, gzip framing
    private const int Ok = 0, StreamEnd = 1, BufError = -5;


    private static readonly Lazy<bool> Loaded = new(Probe);

    /// <summary>False where the runtime's native library does not export the inflater (GZipStream is used then).</summary>
    public static bool Available => Loaded.Value;

    private static bool Probe()
    {
        if (Environment.GetEnvironmentVariable("LAYERDIVE_MANAGED_GZIP") is "1") return false;
        var z = (Zlib.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(Zlib.ZStream));
        try
        {
            if (Zlib.InflateInit2_(z, GzipWindowBits) != Ok) return false;
            Zlib.InflateEnd(z);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            NativeMemory.Free(z);
        }
    }

    /// <summary>A read-only stream decoding every gzip member of its input, strictly.</summary>
    public sealed class DecompressionStream : ReadOnlyForwardStream
    {
        private readonly Stream _inner;
        private Zlib.ZStream* _z;
        private byte[]? _input = ArrayPool<byte>.Shared.Rent(1 << 17);
        private int _inputLength, _inputPos;
        private bool _betweenMembers, _ended;

        public DecompressionStream(Stream inner)
        {
            _inner = inner;
            _z = (Zlib.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(Zlib.ZStream));
            if (Zlib.InflateInit2_(_z, GzipWindowBits) != Ok)
            {
                NativeMemory.Free(_z);
                _z = null;
                throw new OutOfMemoryException("gzip: cannot create an inflater");
            }
        }

        /// <summary>Bytes after the last member (read to the end once the stream has ended).</summary>
        public long IgnoredBytes { get; private set; }

        /// <summary>True when every ignored byte was zero: padding, which gzip ignores without a word.</summary>
        public bool IgnoredBytesAreZero { get; private set; } = true;

        /// <summary>The number of members decoded.</summary>
        public int Members { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty || _ended) return 0;
            ObjectDisposedException.ThrowIf(_input is null, this);
            while (true)
            {
                if (_betweenMembers)
                {
                    // a member ended: the input ends here, or a next member starts, or the rest is not gzip
                    if (!Fill(2))
                    {
                        if (_inputPos < _inputLength) CountIgnored(); // one odd byte
                        _ended = true;
                        return 0;
                    }
                    if (_input![_inputPos] != 0x1f || _input[_inputPos + 1] != 0x8b)
                    {
                        CountIgnored();
                        _ended = true;
                        return 0;
                    }
                    Check(Zlib.InflateReset2_(_z, GzipWindowBits));
                    _betweenMembers = false;
                }
                if (_inputPos == _inputLength && !Fill(1))
                    throw new CompressedStreamEndException(Members == 0
                        ? Strings.Gzip_EndsInFirstMember
                        : Text.Fill(Strings.Gzip_EndsInMember, Members + 1));
                int produced;
                int rc;
                fixed (byte* dst = buffer)
                fixed (byte* src = _input)
                {
                    _z->NextIn = src + _inputPos;
                    _z->AvailIn = (uint)(_inputLength - _inputPos);
                    _z->NextOut = dst;
                    _z->AvailOut = (uint)buffer.Length;
                    rc = Zlib.Inflate(_z, 0);
                    _inputPos = _inputLength - (int)_z->AvailIn;
                    produced = buffer.Length - (int)_z->AvailOut;
                    _z->NextIn = null;
                    _z->NextOut = null;
                }
                if (rc == StreamEnd)
                {
                    Members++;
                    _betweenMembers = true;
                }
                else if (rc != Ok && rc != BufError) Check(rc);
                if (produced > 0) return produced;
            }
        }

        /// <summary>Makes at least <paramref name="count"/> unread bytes available; false at the end of the input.</summary>
        private bool Fill(int count)
        {
            while (_inputLength - _inputPos < count)
            {
                if (_inputPos > 0)
                {
                    Buffer.BlockCopy(_input!, _inputPos, _input!, 0, _inputLength - _inputPos);
                    _inputLength -= _inputPos;
                    _inputPos = 0;
                }
                int n = _inner.Read(_input!, _inputLength, _input!.Length - _inputLength);
                if (n == 0) return false;
                _inputLength += n;
            }
            return true;
        }

        private void CountIgnored()
        {
            while (true)
            {
                var rest = _input.AsSpan(_inputPos, _inputLength - _inputPos);
                IgnoredBytes += rest.Length;
                if (IgnoredBytesAreZero && rest.ContainsAnyExcept((byte)0)) IgnoredBytesAreZero = false;
                _inputPos = _inputLength = 0;
                _inputLength = _inner.Read(_input!, 0, _input!.Length);
                if (_inputLength == 0) return;
            }
        }

        private void Check(int rc)
        {
            if (rc == Ok) return;
            string? detail = _z->Msg is null ? null : new string(_z->Msg);
            throw new InvalidDataException($"gzip: {detail ?? "inflate error " + rc}" + (Members > 0 ? $" (member {Members + 1})" : ""));
        }

        protected override void Dispose(bool disposing)
        {
            if (_z is not null)
            {
                Zlib.InflateEnd(_z);
                NativeMemory.Free(_z);
                _z = null;
            }
            if (_input is not null)
            {
                ArrayPool<byte>.Shared.Return(_input);
                _input = null;
            }
            base.Dispose(disposing);
        }
    }
}
