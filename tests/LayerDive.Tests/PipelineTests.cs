namespace LayerDive.Tests;

/// <summary>
/// The built command run by shell scripts: a CI pipeline, and a user at a terminal (tmux). Each runs
/// twice: with the build the tests were compiled against (on the .NET runtime) and with the native
/// executable <c>dotnet publish</c> makes, the one users install and the benchmark measures.
/// </summary>
[Collection(nameof(SerialCollection))]
public sealed class PipelineTests(NativeBuild native) : IClassFixture<NativeBuild>
{
    [Theory]
    [InlineData("dotnet")]
    [InlineData("native")]
    public async Task Ci_mode_in_a_shell_pipeline(string build)
    {
        var (code, output) = await Scripts.Run("tests/pipeline/ci-mode.sh", await Command(build), Paths.PublicCorpus);
        Assert.True(code == 0, output);
        Assert.Contains("ci-mode.sh: 0 failed", output);
    }

    [Theory]
    [InlineData("dotnet")]
    [InlineData("native")]
    public async Task The_explorer_in_a_real_terminal(string build)
    {
        if (!Scripts.OnPath("tmux")) Assert.Skip("tmux is not installed (apt-get install tmux); .ci/run installs it");
        var (code, output) = await Scripts.Run("tests/ui/tmux.sh", await Command(build), Paths.Sample, Paths.Public("dive__.data_test-docker-image.tar"));
        Assert.True(code == 0, output);
        Assert.Contains("tmux.sh: 0 failed", output);
    }

    /// <summary>
    /// The native executable prints what the runtime build prints, byte for byte, on the paths where
    /// the two could part: native zstd, xz, eStargz, the Russian texts, errors. (The runtime build's
    /// output is what the other tests check against umoci and dive.)
    /// </summary>
    [Theory]
    [InlineData("ls", "dive__.data_test-oci-zstd-image.tar")]
    [InlineData("ls", "dive__.data_test-oci-estargz-image.tar", "--layer", "0")]
    [InlineData("ls", "skopeo__systemtest_testdata_docker-two-images.tar.xz", "--image", "example.com/empty/but:different")]
    [InlineData("explain", "--lang", "ru", "dive__.data_test-docker-image.tar", "/root/example/somefile1.txt")]
    [InlineData("history", "dive__.data_test-kaniko-image.tar")]
    [InlineData("overlay", "go-containerregistry__pkg_v1_mutate_testdata_whiteout_image.tar")]
    [InlineData("ls", "go-containerregistry__pkg_v1_tarball_testdata_null_manifest.tar")]
    public async Task The_native_executable_prints_what_the_runtime_build_prints(params string[] args)
    {
        args = [.. args.Select(a => a.Contains(".tar") ? Paths.Public(a) : a)];
        var expected = Tool.Run(args);
        var (code, stdout, stderr) = Scripts.Exec(await native.Command, args);
        Assert.Equal(expected.ExitCode, code);
        Assert.Equal(expected.Stdout, stdout);
        Assert.Equal(expected.Stderr, stderr);
    }

    private async Task<string> Command(string build) => build == "native" ? await native.Command : Scripts.Layerdive;
}
