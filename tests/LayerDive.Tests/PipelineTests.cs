namespace LayerDive.Tests;

/// <summary>The built command run by shell scripts: a CI pipeline, and a user at a terminal (tmux).</summary>
public sealed class PipelineTests
{
    [Fact]
    public async Task Ci_mode_in_a_shell_pipeline()
    {
        var (code, output) = await Scripts.Run("tests/pipeline/ci-mode.sh", Scripts.Layerdive, Paths.PublicCorpus);
        Assert.True(code == 0, output);
        Assert.Contains("ci-mode.sh: 0 failed", output);
    }

    [Fact]
    public async Task The_explorer_in_a_real_terminal()
    {
        if (!Scripts.OnPath("tmux")) Assert.Skip("tmux is not installed (apt-get install tmux); .ci/run installs it");
        var (code, output) = await Scripts.Run("tests/ui/tmux.sh", Scripts.Layerdive, Paths.Sample, Paths.Public("dive__.data_test-docker-image.tar"));
        Assert.True(code == 0, output);
        Assert.Contains("tmux.sh: 0 failed", output);
    }
}
