using System.Runtime.InteropServices;

namespace LayerDive.Core.Interop;

/// <summary>
/// Whether OpenSSL can be loaded. On Linux the runtime hashes (SHA-256, SHA-512) and speaks TLS through
/// OpenSSL, which its crypto shim loads on first use; where no libssl is found the shim aborts the
/// process ("No usable version of libssl was found", SIGABRT), which no handler can catch. A minimal
/// container base may lack it, so a load asks here first and says so in one line.
/// </summary>
internal static class OpenSsl
{
    /// <summary>The sonames the shim tries (dotnet/runtime's opensslshim.c), newest first.</summary>
    private static readonly string[] Sonames = ["libssl.so.3", "libssl.so.1.1", "libssl.so.1.0.2", "libssl.so.1.0.0", "libssl.so.10", "libssl.so.1.0"];

    private static readonly Lazy<bool> s_available = new(Probe);

    /// <summary>True where a libssl the runtime takes can be loaded (always off Linux, where the OS provides the hashes).</summary>
    public static bool Available => s_available.Value;

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return true;
        // a version the user pins is the one the shim takes
        var pinned = Environment.GetEnvironmentVariable("CLR_OPENSSL_VERSION_OVERRIDE") ?? Environment.GetEnvironmentVariable("DOTNET_OPENSSL_VERSION_OVERRIDE");
        IEnumerable<string> names = pinned is { Length: > 0 } ? ["libssl.so." + pinned, .. Sonames] : Sonames;
        foreach (var name in names)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            NativeLibrary.Free(handle);
            return true;
        }
        return false;
    }
}
