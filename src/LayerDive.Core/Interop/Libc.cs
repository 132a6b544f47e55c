using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LayerDive.Core.Interop;

/// <summary>
/// Every call LayerDive makes into the C library itself (Linux), in one place: opening files beneath a
/// folder (<c>openat2</c>, else <c>openat</c> and <c>readlinkat</c> one component at a time), reading
/// them, their type and size (<c>statx</c>), the store's locks (<c>fcntl</c>) and overlay's opaque
/// marker (<c>lgetxattr</c>). A descriptor comes back as a <see cref="SafeFileHandle"/>, closed when it
/// is disposed (on Linux the runtime takes any descriptor from 0 up as valid, so even 0 is closed).
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int AtFdCwd = -100;

    // open(2) flags: the same on x86-64 and arm64 except O_DIRECTORY and O_NOFOLLOW
    public const int ReadOnly = 0, NoCtty = 0x100, NonBlock = 0x800, CloseOnExec = 0x80000, PathOnly = 0x200000;
    private static readonly bool Arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    public static readonly int Directory = Arm ? 0x4000 : 0x10000;
    public static readonly int NoFollow = Arm ? 0x8000 : 0x20000;

    // openat2(2)'s resolve flags
    public const ulong ResolveNoMagicLinks = 0x02, ResolveNoSymlinks = 0x04, ResolveBeneath = 0x08;

    // errno values (the same on every Linux architecture LayerDive runs on)
    public const int EPerm = 1, ENoEnt = 2, EIntr = 4, EAgain = 11, EAccess = 13, EXDev = 18, ENotDir = 20, EInval = 22, ENoSys = 38, ELoop = 40;

    // statx(2): the type and size are all LayerDive asks for; struct statx is laid out alike on every architecture
    public const int AtEmptyPath = 0x1000, AtSymlinkNoFollow = 0x100;
    public const uint StatxType = 0x1, StatxSize = 0x200;
    public const int StatxModeOffset = 28, StatxSizeOffset = 40, StatxBufferSize = 256;
    public const int TypeMask = 0xF000, TypeRegular = 0x8000, TypeDirectory = 0x4000, TypeLink = 0xA000;

    // fcntl(2): open-file-description locks, and the status flags
    public const int OfdSetLock = 37, GetStatusFlags = 3, SetStatusFlags = 4;
    public const short ReadLock = 0;

    private const long SysOpenat2 = 437; // the same number on every architecture (new system calls share one table)

    /// <summary>struct open_how.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>struct flock, as Linux lays it out on 64-bit machines.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true)]
    public static partial SafeFileHandle Open(byte* path, int flags);

    [LibraryImport(Library, EntryPoint = "openat", SetLastError = true)]
    public static partial SafeFileHandle OpenAt(SafeFileHandle directory, byte* path, int flags);

    /// <summary>openat2(2), which the C library does not wrap: through syscall(2).</summary>
    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    private static partial SafeFileHandle Syscall(long number, SafeFileHandle directory, byte* path, OpenHow* how, nuint size);

    public static SafeFileHandle OpenAt2(SafeFileHandle directory, byte* path, OpenHow* how) => Syscall(SysOpenat2, directory, path, how, (nuint)sizeof(OpenHow));

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(SafeFileHandle file, byte* buffer, nint count);

    [LibraryImport(Library, EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint ReadLinkAt(SafeFileHandle directory, byte* path, byte* buffer, nint size);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(SafeFileHandle directory, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(SafeFileHandle file, int command, ref Flock flock);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(SafeFileHandle file, int command, nint argument);

    // writing what extract makes, by the name's bytes (a name need not be UTF-8)
    [LibraryImport(Library, EntryPoint = "mkdir", SetLastError = true)]
    public static partial int Mkdir(byte* path, uint mode);

    [LibraryImport(Library, EntryPoint = "rename", SetLastError = true)]
    public static partial int Rename(byte* from, byte* to);

    [LibraryImport(Library, EntryPoint = "chmod", SetLastError = true)]
    public static partial int Chmod(byte* path, uint mode);

    [LibraryImport(Library, EntryPoint = "symlink", SetLastError = true)]
    public static partial int Symlink(byte* target, byte* path);

    [LibraryImport(Library, EntryPoint = "readlink", SetLastError = true)]
    public static partial nint Readlink(byte* path, byte* buffer, nint size);

    [LibraryImport(Library, EntryPoint = "lgetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint LGetXattr(string path, string name, ref byte value, nint size);

    /// <summary>The type bits and size of an open file (statx on its descriptor); false when it cannot tell.</summary>
    public static bool TypeAndSize(SafeFileHandle file, out int type, out long size)
    {
        byte* buffer = stackalloc byte[StatxBufferSize];
        byte empty = 0;
        if (Statx(file, &empty, AtEmptyPath | AtSymlinkNoFollow, StatxType | StatxSize, buffer) != 0)
        {
            (type, size) = (0, 0);
            return false;
        }
        type = *(ushort*)(buffer + StatxModeOffset) & TypeMask;
        size = *(long*)(buffer + StatxSizeOffset);
        return true;
    }

    /// <summary>The text of the last call's errno.</summary>
    public static string Error(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
