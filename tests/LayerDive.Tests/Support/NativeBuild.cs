using System.Diagnostics;

namespace LayerDive.Tests.Support;

/// <summary>
/// The build users get: <c>dotnet publish src/LayerDive -c Release</c>, a native (ahead-of-time
/// compiled) executable. Published once, on first use, into a temporary folder removed with the fixture.
/// </summary>
public sealed class NativeBuild : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "layerdive-native-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Lazy<Task<string>> _published;

    public NativeBuild() => _published = new(Publish);

    /// <summary>The command that runs the native executable (throws with the publish log when it did not build).</summary>
    public Task<string> Command => _published.Value;

    private async Task<string> Publish()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Paths.RepoRoot };
        foreach (var a in new[] { "publish", "src/LayerDive", "-c", "Release", "-o", _dir, "-nologo" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var exe = Path.Combine(_dir, "layerdive");
        if (p.ExitCode != 0 || !File.Exists(exe))
            throw new InvalidOperationException($"dotnet publish failed ({p.ExitCode}):\n{await output}{errors}");
        // native: the publish folder holds no layerdive.dll to hand to a runtime
        if (File.Exists(Path.Combine(_dir, "layerdive.dll")))
            throw new InvalidOperationException("the published layerdive is not a native executable");
        return exe;
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
