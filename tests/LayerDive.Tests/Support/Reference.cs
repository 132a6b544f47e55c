using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Samples;

namespace LayerDive.Tests.Support;

/// <summary>
/// The reference merge: `umoci unpack` of the same image, listed by ../shared/tools/corpus_tools.py
/// (the script that made the corpus ground truth), compared line by line with our listing.
/// </summary>
public static class Reference
{
    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "umoci needs Linux";
        if (Environment.UserName != "root") return "umoci unpack needs root to keep owners and device nodes";
        if (!Scripts.OnPath("umoci")) return "umoci is not installed (apt-get install umoci)";
        if (!Scripts.OnPath("python3")) return "python3 is not installed";
        if (!File.Exists(Paths.CorpusTools)) return $"{Paths.CorpusTools} is missing";
        return null;
    });

    /// <summary>Skips the test, saying why, when umoci cannot run here.</summary>
    public static void RequireUmoci()
    {
        if (Missing.Value is { } why) Assert.Skip($"reference comparison skipped: {why}");
    }

    /// <summary>umoci's merged root filesystem of the image, in the ground-truth columns.</summary>
    public static string[] UmociListing(ImageBuilder image)
    {
        RequireUmoci();
        using var dir = new TempDir();
        var layout = dir.File("oci");
        image.WriteOciLayout(layout, "t");
        var bundle = dir.File("bundle");
        Run("umoci", "unpack", "--image", layout + ":t", bundle);
        var tsv = dir.File("rootfs.tsv");
        Run("python3", Paths.CorpusTools, "rootfs", Path.Combine(bundle, "rootfs"), tsv);
        return File.ReadAllLines(tsv);
    }

    /// <summary>Our merged root filesystem after the top layer, in the same columns.</summary>
    public static string[] OurListing(ImageBuilder image, LayerCompression compression = LayerCompression.Gzip)
    {
        using var dir = new TempDir();
        var layout = dir.File("oci");
        image.WriteOciLayout(layout, "t", compression);
        var model = Images.Load(layout, new LoadOptions { FileSha256 = true });
        var w = new StringWriter { NewLine = "\n" };
        RootfsListing.Write(model, model.TopLayer, w);
        return w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Asserts that our merge equals umoci's, field by field, naming the first difference.</summary>
    public static void AssertSameAsUmoci(ImageBuilder image)
    {
        var expected = UmociListing(image);
        var actual = OurListing(image);
        var header = expected[0].Split('\t');
        var exp = expected.Skip(1).ToDictionary(l => l.Split('\t')[0]);
        var act = actual.Skip(1).ToDictionary(l => l.Split('\t')[0]);
        Assert.Equal(exp.Keys.Order(StringComparer.Ordinal), act.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, line) in exp)
        {
            var e = line.Split('\t');
            var a = act[path].Split('\t');
            for (int i = 1; i < header.Length; i++)
            {
                Assert.True(e[i] == a[i], $"{path}: {header[i]} is {a[i]}, umoci has {e[i]}");
            }
        }
        Assert.Equal(expected, actual); // and the same order
    }

    public static ImageModel Load(ImageBuilder image, LayerCompression compression = LayerCompression.Gzip, bool verify = true)
    {
        using var dir = new TempDir();
        var layout = dir.File("oci");
        image.WriteOciLayout(layout, "t", compression);
        return Images.Load(layout, new LoadOptions { Verify = verify });
    }

    public static string Run(string file, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.Exec(file, args);
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout;
    }

}
