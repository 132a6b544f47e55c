using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;

namespace LayerDive.Tests;

/// <summary>
/// Every real archive and layout of ../shared/corpus/public opens. Expected names, layer counts and
/// paths were read from the archives with GNU tar and Python's tarfile/json, not from LayerDive.
/// </summary>
public sealed class CorpusTests
{
    public static TheoryData<string, string, int, string, string> PublicImages => new()
    {
        // file, image name, layers, platform, a path in the merged tree
        { "containers-image__docker_archive_fixtures_almostempty.tar", "emptyimage:latest", 1, "linux/amd64", "emptyfile" },
        { "dive__.data_test-docker-image.tar", "dive-test:latest", 14, "linux/amd64", "root/saved.txt" },
        { "dive__.data_test-kaniko-image.tar", "dive-test:kaniko-latest", 14, "linux/amd64", "root/saved.txt" },
        { "dive__.data_test-oci-gzip-image.tar", "", 1, "linux/arm64", "README.md" },
        { "dive__.data_test-oci-zstd-image.tar", "", 1, "linux/arm64", "README.md" },
        { "dive__.data_test-oci-uncompressed-image.tar", "", 1, "linux/arm64", "README.md" },
        { "dive__.data_test-oci-estargz-image.tar", "", 1, "linux/arm64", "README.md" },
        { "dockle__pkg_deckoder_extractor_docker_testdata_symbolic.tar", "goodwithtech/dockle-test:v3", 9, "linux/amd64", "app/once-suid.txt" },
        { "dockle__pkg_scanner_testdata_scratch.tar", "scratchtest2:latest", 1, "linux/amd64", "credentials.json" },
        { "fanal__test_testdata_alpine-310.tar.gz", "alpine:3.10", 1, "linux/amd64", "etc/alpine-release" },
        { "fanal__test_testdata_alpine-311.tar.gz", "alpine:3.11", 1, "linux/amd64", "bin/busybox" },
        { "go-containerregistry__pkg_v1_layout_testdata_test_index", "1", 1, "linux/amd64", "foo" },
        { "go-containerregistry__pkg_v1_mutate_testdata_overwritten_file.tar", "bazel/pkg/v1/mutate:overwritten_file", 3, "linux/amd64", "" },
        { "go-containerregistry__pkg_v1_mutate_testdata_source_image_with_empty_layer_history.tar", "bazel/pkg/v1/mutate:source_image", 1, "linux/amd64", "bar" },
        { "go-containerregistry__pkg_v1_mutate_testdata_whiteout_dir.tar", "localhost:5000/whiteout:latest", 4, "linux/amd64", "a/baz" },
        { "go-containerregistry__pkg_v1_mutate_testdata_whiteout_image.tar", "bazel/pkg/v1/mutate:whiteout_image", 3, "linux/amd64", "" },
        { "go-containerregistry__pkg_v1_tarball_testdata_hello-world-v25.tar", "", 1, "linux/arm64", "hello" },
        { "go-containerregistry__pkg_v1_tarball_testdata_no_manifest.tar", "bazel/v1/tarball:test_image", 1, "linux/amd64", "foo/hey" },
        { "go-containerregistry__pkg_v1_tarball_testdata_test_bundle.tar", "test_image_2", 1, "linux/amd64", "bat" },
        { "go-containerregistry__pkg_v1_tarball_testdata_test_link.tar", "bazel/v1/tarball:test_image_1", 1, "linux/amd64", "foo" },
        { "jib__jib-core_src_integration-test_resources_core_busybox-docker.tar", "busybox:latest", 1, "linux/amd64", "bin/getconf" },
        { "jib__jib-core_src_integration-test_resources_core_busybox-jib.tar", "localhost:5000/jib-core:jib-base-image", 2, "linux/amd64", "hello" },
        { "jib__jib-core_src_test_resources_core_extraction_docker-save.tar", "extraction.test:latest", 2, "linux/amd64", "thisis/thejibcache/layers" },
        { "jib__jib-core_src_test_resources_core_extraction_jib-image.tar", "extraction.test:latest", 2, "linux/amd64", "thisis/thejibcache/layers" },
        { "moby__integration-cli_testdata_emptyLayer.tar", "matthughes/library-centos:6-2015.03.20", 3, "linux/amd64", "tmp/foo" },
        { "regclient__testdata_testrepo", "b1", 1, "linux/amd64", "base.txt" },
        { "skopeo__systemtest_testdata_docker-two-images.tar.xz", "example.com/empty:latest", 1, "linux/amd64", "empty" },
        { "stereoscope__pkg_image_oci_testdata_multiplatform_oci_dir", "docker.io/library/multi-platform:latest", 1, "linux/amd64", "linux/amd64/README.md" },
        { "stereoscope__pkg_image_oci_testdata_valid-oci.tar", "sample:latest", 1, "linux/amd64", "README.md" },
    };

    [Theory]
    [MemberData(nameof(PublicImages))]
    public void Every_public_image_opens_verifies_and_lists(string file, string name, int layers, string platform, string knownPath)
    {
        var path = Paths.Public(file);
        Assert.True(File.Exists(path) || Directory.Exists(path), $"{path} is missing: the tests read ../shared beside the repository");
        var model = Images.Load(path);
        if (name.Length > 0) Assert.Equal(name, model.Name);
        Assert.Equal(layers, model.Layers.Count);
        Assert.Equal(platform, model.Config.Platform);
        if (knownPath.Length > 0) Assert.True(model.Visible(knownPath), $"{knownPath} should be in the merged tree");
        Assert.All(model.Layers.Where(l => l.ExpectedDiffId is not null), l => Assert.True(l.Verified));

        var ls = Tool.Run("ls", path, "--quiet");
        Assert.Equal(0, ls.ExitCode);
        Assert.Empty(ls.Stderr);
    }

    [Fact]
    public void Null_manifest_is_one_clear_error_and_exit_2()
    {
        var path = Paths.Public("go-containerregistry__pkg_v1_tarball_testdata_null_manifest.tar");
        var r = Tool.Run("ls", path);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.Equal($"layerdive: error: {path}: manifest.json is null, not a list of images", line);
        Assert.Empty(r.Stdout);
    }

    [Fact]
    public void Dive_test_image_applies_its_whiteouts()
    {
        // layer 9 of dive's test image is `rm -rf /root/example/`: a directory whiteout
        var m = Images.Load(Paths.Public("dive__.data_test-docker-image.tar"));
        Assert.True(m.Visible("root/example/somefile1.txt", 8));
        Assert.False(m.Visible("root/example"));
        Assert.Contains(m.Layers[9].Whiteouts, w => w.HiddenPath == "root/example" && w.HidDirectory);
        Assert.Equal("RUN rm -rf /root/example/", m.Layers[9].CreatedBy.Replace("/bin/sh -c ", "RUN "));
    }

    [Fact]
    public void EStargz_table_of_contents_is_metadata_not_a_file()
    {
        var m = Images.Load(Paths.Public("dive__.data_test-oci-estargz-image.tar"));
        Assert.True(m.Layers[0].EStargz);
        Assert.Null(m.Find("stargz.index.json"));
        Assert.True(m.Visible("README.md"));
    }

    [Fact]
    public void Layer_compressions_are_told_by_their_bytes()
    {
        Compression Of(string f) => Images.Load(Paths.Public(f)).Layers[0].Compression;
        Assert.Equal(Compression.Gzip, Of("dive__.data_test-oci-gzip-image.tar"));
        Assert.Equal(Compression.Zstd, Of("dive__.data_test-oci-zstd-image.tar"));
        Assert.Equal(Compression.None, Of("dive__.data_test-oci-uncompressed-image.tar"));
        Assert.Equal(Compression.Gzip, Of("dive__.data_test-kaniko-image.tar"));
    }

    [Fact]
    public void Several_images_in_one_archive_can_be_picked_and_the_others_are_named()
    {
        var path = Paths.Public("skopeo__systemtest_testdata_docker-two-images.tar.xz");
        var first = Tool.Run("ls", path);
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("example.com/empty/but:different", first.Stderr);
        var other = Images.Load(path, new LoadOptions { Source = new() { Image = "example.com/empty/but:different" } });
        Assert.Equal("example.com/empty/but:different", other.Name);
        var missing = Tool.Run("ls", path, "--image", "nope:1");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no image matches 'nope:1'", missing.Stderr);
    }

    [Fact]
    public void Multi_platform_index_picks_the_platform_asked_for()
    {
        var dir = Paths.Public("stereoscope__pkg_image_oci_testdata_multiplatform_oci_dir");
        var arm = Images.Load(dir, new LoadOptions { Source = new() { Platform = "linux/arm64" } });
        Assert.True(arm.Visible("linux/arm64/README.md"));
        Assert.False(arm.Visible("linux/amd64/README.md"));
        var platforms = Tool.Run("platforms", dir);
        Assert.Equal(0, platforms.ExitCode);
        Assert.Contains(platforms.StdoutLines, l => l.StartsWith("linux/amd64 ", StringComparison.Ordinal));
        Assert.Contains(platforms.StdoutLines, l => l.StartsWith("linux/arm64 ", StringComparison.Ordinal));
        var none = Tool.Run("ls", dir, "--platform", "linux/s390x");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no image for platform linux/s390x", none.Stderr);
    }

    [Fact]
    public void Artifacts_and_referrers_are_listed_but_never_analysed()
    {
        var dir = Paths.Public("regclient__testdata_testrepo");
        var r = Tool.Run("platforms", dir);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("(artifact", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("linux/arm/v7 ", StringComparison.Ordinal));
        var v7 = Images.Load(dir, new LoadOptions { Source = new() { Image = "b1", Platform = "linux/arm/v7" } });
        Assert.Equal("linux/arm/v7", v7.Config.Platform);
    }
}
