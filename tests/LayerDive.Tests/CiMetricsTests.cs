using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// docs/metrics.md on small images worked out by hand. Each layer's dive size is the sum of its tar header
/// sizes (directories, links and whiteout markers are 0). The base layer is etc/base, 10 bytes.
/// </summary>
public sealed class CiMetricsTests
{
    private const long Base = 10;
    private static readonly string K1 = new('k', 1000), K05 = new('h', 500);

    private static ImageBuilder WithBase() => new ImageBuilder().Layer("base", l => l.Dir("etc").File("etc/base", new string('b', (int)Base)));

    private static (DiveMetricsResult Dive, OverlayMetricsResult Overlay) Figures(ImageBuilder image)
    {
        using var dir = new TempDir();
        image.WriteOciLayout(dir.File("img"));
        var dive = new DiveMetrics();
        var model = Images.Load(dir.File("img"), new LoadOptions { Observers = [dive] });
        return (dive.Result(), OverlayMetrics.Compute(model));
    }

    [Fact]
    public void Copies_of_one_path_of_one_size_are_listed_in_layer_order_whatever_order_the_tree_gives()
    {
        // 40 layers each rewrite app/x with 1000 other bytes: 39 removable copies alike but for their layer
        var image = WithBase();
        for (int i = 1; i <= 40; i++)
        {
            var content = new string((char)('A' + i % 26), 1000);
            image.Layer($"COPY x {i}", l => l.Dir("app").File("app/x", content));
        }
        var (_, o) = Figures(image);
        Assert.Equal(39, o.Items.Count);
        Assert.Equal(Enumerable.Range(1, 39), o.Items.Select(i => i.StoredBy));
        Assert.All(o.Items, i => Assert.Equal(("app/x", 1000L, i.StoredBy + 1), (i.Path, i.Bytes, i.WastedBy)));
    }

    [Fact]
    public void A_file_written_twice_unchanged_is_waste_twice_for_dive_once_for_the_overlay()
    {
        var (d, o) = Figures(WithBase()
            .Layer("COPY x", l => l.Dir("app").File("app/x", K1))
            .Layer("COPY x again", l => l.Dir("app").File("app/x", K1)));
        // discoveries: /etc/base 10; /app/x 1000 and 1000
        Assert.Equal((double)(Base + 1000) / (Base + 2000), d.Efficiency);
        Assert.Equal(2000, d.WastedBytes); // every copy, the surviving one included (dive #684)
        Assert.Equal(Base + 2000, d.SizeBytes);
        Assert.Equal(2000, d.UserSizeBytes);
        Assert.Equal(1.0, d.UserWastedPercent);
        Assert.Equal(("/app/x", 2, 2000L), (d.Inefficiencies[0].Path, d.Inefficiencies[0].Count, d.Inefficiencies[0].CumulativeSize));
        var item = Assert.Single(o.Items);
        Assert.Equal(("app/x", 1000L, 1, 2, WasteReason.RewrittenUnchanged), (item.Path, item.Bytes, item.StoredBy, item.WastedBy, item.Reason));
        Assert.Equal(1000, o.RemovableBytes);
        Assert.Equal(0.5, o.RemovablePercent);
        Assert.Equal(1 - 1000.0 / (Base + 2000), o.OverlayEfficiency);
    }

    [Fact]
    public void A_file_copied_to_two_paths_is_not_waste()
    {
        var (d, o) = Figures(WithBase().Layer("cp", l => l.Dir("app").File("app/x", K1)).Layer("cp x y", l => l.Dir("app").File("app/y", K1)));
        Assert.Equal(1.0, d.Efficiency);
        Assert.Equal(0, d.WastedBytes);
        Assert.Empty(d.Inefficiencies);
        Assert.Equal(0, o.RemovableBytes);
    }

    [Fact]
    public void A_chmod_only_copy_up_stores_the_bytes_again()
    {
        var (d, o) = Figures(WithBase()
            .Layer("COPY x", l => l.Dir("app").File("app/x", K1, mode: 0x1A4))
            .Layer("chmod +x", l => l.Dir("app").File("app/x", K1, mode: 0x1ED)));
        Assert.Equal(2000, d.WastedBytes);
        Assert.Equal(WasteReason.Replaced, Assert.Single(o.Items).Reason);
        Assert.Equal(1000, o.RemovableBytes);
    }

    [Fact]
    public void A_file_whiteout_is_a_zero_sized_discovery_of_the_path()
    {
        var (d, o) = Figures(WithBase().Layer("COPY x", l => l.Dir("app").File("app/x", K1)).Layer("rm x", l => l.Dir("app").Whiteout("app/x")));
        // /app/x: 1000 then 0 (a whiteout of a file weighs nothing): cumulative 1000, minimum 0
        Assert.Equal((double)Base / (Base + 1000), d.Efficiency);
        Assert.Equal(1000, d.WastedBytes);
        Assert.Equal(1000, d.UserSizeBytes); // the whiteout layer's headers weigh 0
        Assert.Equal(1.0, d.UserWastedPercent);
        Assert.Equal(WasteReason.WhitedOut, Assert.Single(o.Items).Reason);
        Assert.Equal(1000, o.RemovableBytes);
    }

    [Fact]
    public void A_directory_whiteout_is_not_waste_for_dive_but_is_for_the_overlay()
    {
        var (d, o) = Figures(WithBase()
            .Layer("COPY app", l => l.Dir("app").File("app/x", K1).File("app/y", K05))
            .Layer("rm -rf /app", l => l.Whiteout("app")));
        // /app is discovered once (by the whiteout, sized 1500); /app/x and /app/y once each
        Assert.Equal(1.0, d.Efficiency);
        Assert.Equal(0, d.WastedBytes);
        Assert.Empty(d.Inefficiencies);
        Assert.Equal(1500, o.RemovableBytes);
        Assert.All(o.Items, i => Assert.Equal((1, 2, WasteReason.WhitedOut), (i.StoredBy, i.WastedBy, i.Reason)));
    }

    [Fact]
    public void An_opaque_directory_is_ignored_by_dive_and_counted_by_the_overlay()
    {
        var (d, o) = Figures(WithBase()
            .Layer("COPY app", l => l.Dir("app").File("app/x", K1))
            .Layer("rm -rf /app && mkdir /app && touch /app/new", l => l.Dir("app").Opaque("app").File("app/new", "0123456789")));
        Assert.Equal(1.0, d.Efficiency);
        Assert.Equal(0, d.WastedBytes);
        var item = Assert.Single(o.Items);
        Assert.Equal(("app/x", 1000L, WasteReason.Opaque), (item.Path, item.Bytes, item.Reason));
    }

    /// <summary>
    /// Removable items of one size go in the order string.CompareOrdinal gives their paths (names that are
    /// prefixes of one another, that sort around '/', above U+007F; with names above U+00FF and beyond the
    /// 16-bit range, and without), a path stored by several layers by the layer that stored it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Removable_items_of_one_size_go_by_path_then_by_layer(bool wide)
    {
        string[] names = ["a", "ab", "a-b", "a.b", "b", "\u00e9", "a\u00e9", "\u00ff", .. wide ? new[] { "\u0416", "\U0001F600" } : []];
        var files = (from d in names from f in names select $"{d}/{f}").ToList();
        var (_, o) = Figures(new ImageBuilder()
            .Layer("COPY", l => { foreach (var d in names) l.Dir(d); foreach (var f in files) l.File(f, "1"); })
            .Layer("COPY again", l => l.File("a/a", "2"))
            .Layer("COPY over", l => { foreach (var f in files) l.File(f, "3"); }));
        var expected = files.Order(StringComparer.Ordinal).SelectMany(f => f == "a/a" ? new[] { (f, 0), (f, 1) } : [(f, 0)]).ToList();
        Assert.Equal(expected, o.Items.Select(i => (i.Path, i.StoredBy)).ToList());
        Assert.All(o.Items, i => Assert.Equal(1, i.Bytes));
        // past the budget of written paths (none here), compared in the tree: the same order
        var reversed = o.Items.Reverse().ToList();
        Assert.Equal(expected, OverlayMetrics.ByPath(reversed, reversed[0].Node.Tree, pathBudget: 0).Select(i => (i.Path, i.StoredBy)).ToList());
    }

    [Fact]
    public void Hardlinked_content_counts_once_and_not_while_a_name_remains()
    {
        var (d, o) = Figures(WithBase()
            .Layer("COPY x; ln x y", l => l.Dir("app").File("app/x", K1).Hardlink("app/y", "app/x"))
            .Layer("rm x", l => l.Dir("app").Whiteout("app/x")));
        // dive: /app/x 1000 then 0 -> waste 1000; /app/y (a 0-byte header) once
        Assert.Equal(1000, d.WastedBytes);
        Assert.Equal((double)Base / (Base + 1000), d.Efficiency);
        // overlay: the bytes are still there under app/y
        Assert.Equal(0, o.RemovableBytes);
        Assert.Empty(o.Items);
    }

    [Fact]
    public void Hardlinked_content_gone_under_every_name_counts_once()
    {
        var (_, o) = Figures(WithBase()
            .Layer("COPY x; ln x y", l => l.Dir("app").File("app/x", K1).Hardlink("app/y", "app/x"))
            .Layer("rm -rf /app", l => l.Whiteout("app")));
        Assert.Equal(1000, o.RemovableBytes);
    }

    /// <summary>
    /// No user bytes: dive divides by zero, and so does LayerDive (a drop-in gives dive's verdicts): a
    /// user layer that only deletes a base file wastes the file's bytes over 0 user bytes, +Inf, and
    /// fails the rule; an image with no waste at all is NaN and passes.
    /// </summary>
    [Fact]
    public void No_user_bytes_divide_by_zero_as_dive_does()
    {
        var rules = CiRules.Resolve(null, null, new Dictionary<RuleName, string?>());
        var deleting = new ImageBuilder().Layer("base", l => l.File("a", K1)).Layer("rm a", l => l.Whiteout("a"));
        var (wasteful, _) = Figures(deleting);
        Assert.Equal(0, wasteful.UserSizeBytes);
        Assert.Equal(1000, wasteful.WastedBytes);
        Assert.True(double.IsPositiveInfinity(wasteful.UserWastedPercent));
        var results = CiRules.Evaluate(rules, new ImageFigures(wasteful, OverlayMetrics.Compute(Reference.Load(deleting))), MetricSet.Dive);
        Assert.Equal("too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=+Inf > threshold=0.1)",
            results.Single(r => r.Setting.Name == RuleName.HighestUserWastedPercent && r.Status == RuleStatus.Fail).Message);

        var (clean, _) = Figures(new ImageBuilder().Layer("only", l => l.File("a", K1)));
        Assert.True(double.IsNaN(clean.UserWastedPercent));
        results = CiRules.Evaluate(rules, new ImageFigures(clean, OverlayMetrics.Compute(Reference.Load(new ImageBuilder().Layer("only", l => l.File("a", K1))))), MetricSet.Dive);
        Assert.DoesNotContain(results, r => r.Status == RuleStatus.Fail);
    }

    [Fact]
    public void An_empty_image_is_perfectly_efficient()
    {
        var (d, o) = Figures(new ImageBuilder().Empty("CMD sh"));
        Assert.Equal((1.0, 0L, 0L), (d.Efficiency, d.SizeBytes, d.WastedBytes));
        Assert.True(double.IsNaN(d.UserWastedPercent)); // 0 / 0, as dive prints it
        Assert.Equal((0L, 1.0, 0.0), (o.RemovableBytes, o.OverlayEfficiency, o.RemovablePercent));
    }
}
