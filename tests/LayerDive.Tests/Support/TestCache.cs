using System.Runtime.CompilerServices;

namespace LayerDive.Tests.Support;

/// <summary>
/// The layer cache of the runs the tests make (in process and as child processes): off, so that no
/// test writes to the real user's ~/.cache and no test's reads depend on another's; the tests of the
/// cache name a folder of their own. LAYERDIVE_TEST_CACHE=DIR runs the suite with the cache on in DIR
/// instead, and every test passes both ways: a test whose point is reading a blob's bytes (damaged,
/// cut, lied about on a second read, watched by strace) says --no-cache, as another test may have
/// kept its layers; a blob that is gone is an error with the cache too.
/// </summary>
public static class TestCache
{
    public static string Setting { get; } = Environment.GetEnvironmentVariable("LAYERDIVE_TEST_CACHE") is { Length: > 0 } dir ? dir : "off";

    [ModuleInitializer]
    internal static void Apply() => Environment.SetEnvironmentVariable("LAYERDIVE_CACHE", Setting);
}
