using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;

namespace LayerDive.Tests;

/// <summary>
/// The images of ../shared/tools/make-corpus.sh in every form: `ls --format tsv` equals the umoci
/// ground truth (rootfs.tsv) with zero differing lines. Skipped, saying so, when the corpus is absent.
/// </summary>
public sealed class GeneratedCorpusTests
{
    public static TheoryData<string, string, string?> Forms => new()
    {
        { "tricky/oci", "tricky", null },
        { "tricky/tricky.oci-archive.tar", "tricky", null },
        { "tricky/tricky.docker-archive.tar", "tricky", null },
        { "tricky/oci-zstd", "tricky", null },
        { "tricky/tricky.oci-archive-zstd.tar", "tricky", null },
        { "tricky/oci-uncompressed", "tricky", null },
        { "tricky/tricky.oci-archive-uncompressed.tar", "tricky", null },
        { "multi/oci", "multi-amd64", "linux/amd64" },
        { "multi/oci", "multi-arm64", "linux/arm64" },
        { "multi/multi.oci-archive.tar", "multi-amd64", "linux/amd64" },
        { "multi/multi.oci-archive.tar", "multi-arm64", "linux/arm64" },
        { "multi/multi-arm64.docker-archive.tar", "multi-arm64", null },
        { "big/oci", "big", null },
        { "big/big.oci-archive.tar", "big", null },
        { "big/big.docker-archive.tar", "big", null },
        { "big/oci-zstd", "big", null },
        { "big/oci-uncompressed", "big", null },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void Merged_tree_equals_the_umoci_ground_truth(string form, string truth, string? platform)
    {
        var path = Path.Combine(Paths.GeneratedCorpus, form);
        var truthFile = Path.Combine(Paths.GeneratedCorpus, truth + ".rootfs.tsv");
        if (!File.Exists(truthFile) || !(File.Exists(path) || Directory.Exists(path)))
            Assert.Skip($"generated corpus not present ({path}); run: bash ../shared/tools/make-corpus.sh");

        var model = Images.Load(path, new LoadOptions { FileSha256 = true, Source = new() { Platform = platform } });
        var ours = new StringWriter { NewLine = "\n" };
        RootfsListing.Write(model, model.TopLayer, ours);
        var expected = File.ReadAllLines(truthFile);
        var actual = ours.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var missing = expected.Except(actual).Take(5).ToList();
        var extra = actual.Except(expected).Take(5).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{form}: {expected.Except(actual).Count()} lines only in the ground truth, {actual.Except(expected).Count()} only in ours\n"
            + string.Join('\n', missing.Select(l => "- " + l).Concat(extra.Select(l => "+ " + l))));
        Assert.Equal(expected, actual);
    }
}
