using System.Diagnostics;

namespace LayerDive.Tests;

/// <summary>The built command run by a shell script, as a CI job runs it (tests/pipeline/ci-mode.sh).</summary>
public sealed class PipelineTests
{
    [Fact]
    public async Task Ci_mode_in_a_shell_pipeline()
    {
        var script = Path.Combine(Paths.RepoRoot, "tests", "pipeline", "ci-mode.sh");
        var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
        Assert.True(File.Exists(dll), dll);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add($"dotnet {dll}");
        psi.ArgumentList.Add(Paths.PublicCorpus);
        using var p = Process.Start(psi)!;
        var ct = TestContext.Current.CancellationToken;
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var errors = await p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var text = await output;
        Assert.True(p.ExitCode == 0, text + errors);
        Assert.Contains("ci-mode.sh: 0 failed", text);
    }
}
