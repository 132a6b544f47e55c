using System.Runtime.CompilerServices;

namespace LayerDive.Tests.Support;

/// <summary>
/// The layer cache of the runs the tests make (in process and as child processes): off, so that no
/// test writes to the real user's ~/.cache and no test's reads depend on another's; the tests of the
/// cache name a folder of their own. LAYERDIVE_TEST_CACHE=DIR runs the suite with the cache on in DIR
/// instead: on 2026-12-06, 934 passed and 12 failed that way, every one a test that damages, cuts or
/// watches a layer blob another test had cached already (the cache rightly never reads it).
/// </summary>
public static class TestCache
{
    public static string Setting { get; } = Environment.GetEnvironmentVariable("LAYERDIVE_TEST_CACHE") is { Length: > 0 } dir ? dir : "off";

    [ModuleInitializer]
    internal static void Apply() => Environment.SetEnvironmentVariable("LAYERDIVE_CACHE", Setting);
}
