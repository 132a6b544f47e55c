using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;

namespace LayerDive.Tests;

public sealed class DiveMetricsReferenceTests
{
    [Fact]
    public void Dive_test_image_gives_dives_own_figures_to_the_last_digit()
    {
        // docs/metrics.md: what dive itself reports for its test image
        var dive = new DiveMetrics();
        Images.Load(Paths.Public("dive__.data_test-docker-image.tar"), new LoadOptions { Observers = [dive] });
        var r = dive.Result();
        Assert.Equal(1220598, r.SizeBytes);
        Assert.Equal(66237, r.UserSizeBytes);
        Assert.Equal(32025, r.WastedBytes);
        Assert.Equal(0.9844212134184309, r.Efficiency);
        Assert.Equal(0.4834911001404049, r.UserWastedPercent);
        Assert.Equal(
            [("/root/saved.txt", 2, 12810L), ("/root/example/somefile1.txt", 2, 12810L), ("/root/example/somefile3.txt", 2, 6405L)],
            r.Inefficiencies.Select(i => (i.Path, i.Count, i.CumulativeSize)));
    }
}
