using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Core;

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

    [Fact]
    public void Tree_order_is_segment_by_segment_in_byte_order()
    {
        // dive sorts a layer's new inefficiencies child-first with names sorted: the order of a walk,
        // segment by segment, each segment as its UTF-8 bytes ('/' ends a segment, so "a/x" comes before
        // "a-b" although '-' is below '/')
        string[] pieces = ["a", "b", "ab", "-", ".", "\u00e9", "\uffff", "\U0001F600", PathText.FromBytes([0xff]), PathText.FromBytes([0xc3])];
        var random = new Random(26);
        var paths = new List<string>();
        for (int n = 0; n < 3000; n++)
        {
            var segments = new string[random.Next(1, 4)];
            for (int s = 0; s < segments.Length; s++)
                segments[s] = string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => pieces[random.Next(pieces.Length)]));
            paths.Add(string.Join('/', segments));
        }
        static int Reference(string a, string b)
        {
            var (x, y) = (a.Split('/'), b.Split('/'));
            for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
            {
                int c = PathText.ToBytes(x[i]).AsSpan().SequenceCompareTo(PathText.ToBytes(y[i]));
                if (c != 0) return c;
            }
            return x.Length.CompareTo(y.Length);
        }
        for (int n = 0; n + 1 < paths.Count; n++)
            Assert.Equal(Math.Sign(Reference(paths[n], paths[n + 1])), Math.Sign(PathText.CompareTreeOrder(paths[n], paths[n + 1])));
        Assert.Equal(paths.Order(Comparer<string>.Create(Reference)), paths.Order(Comparer<string>.Create(PathText.CompareTreeOrder)));
    }
}
