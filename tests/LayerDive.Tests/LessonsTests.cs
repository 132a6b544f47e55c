using LayerDive.Core.Analysis;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>Every lesson of samples/lessons: committed as generated, and teaching what samples/README.md says.</summary>
public sealed class LessonsTests
{
    public static TheoryData<string> Names => new(Lessons.All.Select(l => l.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_lesson_is_committed_as_its_generator_writes_it(string name)
    {
        using var dir = new TempDir();
        var lesson = Lessons.All.Single(l => l.Name == name);
        lesson.Build().WriteOciArchive(dir.File("x.tar"), "lesson/" + name + ":latest");
        Assert.Equal(File.ReadAllBytes(dir.File("x.tar")), File.ReadAllBytes(Path.Combine(Paths.RepoRoot, "samples", "lessons", name + ".oci.tar")));
    }

    [Theory]
    [InlineData("file-whiteout", "/app/config.ini", false, StepKind.WhitedOut, "app/.wh.config.ini")]
    [InlineData("directory-whiteout", "/app/cache/a.bin", false, StepKind.AncestorWhitedOut, "app/.wh.cache")]
    [InlineData("opaque-directory", "/app/main.py", false, StepKind.CutOffByOpaque, "app/.wh..wh..opq")]
    [InlineData("dir-to-file", "/app/cache/b.bin", false, StepKind.AncestorReplaced, "app/cache")]
    [InlineData("chmod-copy-up", "/app/main.py", true, StepKind.Modified, null)]
    [InlineData("hardlink-across-layers", "/app/cache/a.bin", false, StepKind.WhitedOut, "app/cache/.wh.a.bin")]
    [InlineData("container-layer", "/app/config.ini", false, StepKind.WhitedOut, "app/.wh.config.ini")]
    public void Each_lesson_teaches_its_rule(string name, string path, bool visible, StepKind last, string? marker)
    {
        var model = Images.Load(Path.Combine(Paths.RepoRoot, "samples", "lessons", name + ".oci.tar"));
        var e = Explainer.Explain(model, path)!;
        Assert.Equal(visible, e.Visible);
        Assert.Equal((last, marker), (e.Steps[^1].Kind, e.Steps[^1].Marker));
        Assert.Empty(model.Problems);
        switch (name)
        {
            case "opaque-directory":
                Assert.True(model.Visible("app/VERSION"));
                Assert.Equal(["app", "app/VERSION", "etc", "etc/hostname"], model.VisiblePaths());
                break;
            case "chmod-copy-up":
                Assert.Equal(15, e.RemovableBytes);
                break;
            case "container-layer":
                // the top layer is the container's: deleted there, and the opaque directory keeps only what the container wrote
                Assert.Equal(LayerKind.Container, LayerKinds.Of(model)[^1]);
                Assert.Equal(1, e.ContainerLayer);
                Assert.Contains("Deleted in the container's layer", string.Join('\n', Explainer.Describe(e)));
                Assert.Equal((StepKind.CutOffByOpaque, "app/cache/.wh..wh..opq"), (Explainer.Explain(model, "/app/cache/a.bin")!.Steps[^1].Kind, Explainer.Explain(model, "/app/cache/a.bin")!.Steps[^1].Marker));
                Assert.True(model.Visible("app/cache/c.bin"));
                Assert.True(model.Visible("app/out.log"));
                break;
            case "hardlink-across-layers":
                Assert.Equal((4000L, 2000L), (e.StoredBytes, e.VisibleBytes)); // the layer-1 copy lives on as /app/a.link
                Assert.Equal(2000, OverlayMetrics.Compute(model).RemovableBytes);
                break;
        }
    }
}
