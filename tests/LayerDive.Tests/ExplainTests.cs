using System.Text.Json;
using LayerDive.Core.Analysis;
using LayerDive.Samples;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>docs/explorer.md: explain names the right layer and marker for every rule, and agrees with the merged tree.</summary>
public sealed class ExplainTests
{
    private static readonly Lazy<LayerDive.Core.Model.ImageModel> Sample = new(() => Images.Load(Paths.Sample));

    // from samples/LayerDive.Samples/SampleImage.cs
    [Theory]
    [InlineData("var/log/apt/history.log", 2, StepKind.WhitedOut, "var/log/apt/.wh.history.log")]
    [InlineData("var/cache/apt/archives/app_1.0_amd64.deb", 2, StepKind.AncestorWhitedOut, "var/cache/apt/.wh.archives")]
    [InlineData("etc/app/defaults.json", 3, StepKind.CutOffByOpaque, "etc/app/.wh..wh..opq")]
    [InlineData("var/run/daemon.pid", 6, StepKind.AncestorReplaced, "var/run")]
    public void Hidden_paths_name_the_layer_and_the_marker(string path, int layer, StepKind kind, string marker)
    {
        var e = Explainer.Explain(Sample.Value, path)!;
        Assert.False(e.Visible);
        Assert.Equal(layer, e.SinceLayer);
        var last = e.Steps[^1];
        Assert.Equal((layer, kind, marker), (last.Layer, last.Kind, last.Marker));
        Assert.Equal(0, e.VisibleBytes);
        Assert.Equal(e.StoredBytes, e.RemovableBytes);
    }

    [Fact]
    public void Modified_copied_up_and_visible_paths_say_what_changed()
    {
        var tool = Explainer.Explain(Sample.Value, "/usr/bin/tool")!;
        Assert.True(tool.Visible);
        Assert.Equal(0, tool.SinceLayer);
        Assert.Equal((5, StepKind.Modified), (tool.Steps[1].Layer, tool.Steps[1].Kind));
        Assert.Contains("mode 0755 -> 4755", Explainer.Describe(tool)[3]);
        Assert.Equal(3000 * 2, tool.StoredBytes);
        Assert.Equal(3000, tool.RemovableBytes);

        var config = Explainer.Explain(Sample.Value, "etc/app/config.json")!;
        Assert.Equal([StepKind.Added, StepKind.CutOffByOpaque, StepKind.ReAdded], config.Steps.Select(s => s.Kind));
        Assert.Equal(4, config.SinceLayer);

        var lib = Explainer.Explain(Sample.Value, "usr/lib/app/libapp.so")!;
        Assert.Equal(StepKind.CopiedUp, lib.Steps[^1].Kind);
    }

    [Fact]
    public void Explain_agrees_with_the_merged_tree_for_every_path()
    {
        var images = new List<string> { Paths.Sample };
        var tricky = Path.Combine(Paths.GeneratedCorpus, "tricky", "oci");
        if (Directory.Exists(tricky)) images.Add(tricky);
        foreach (var image in images)
        {
            var model = Images.Load(image);
            foreach (var node in model.AllNodes().Where(n => !n.IsRoot))
            {
                var e = Explainer.Explain(model, node.Path)!;
                Assert.True(e.Visible == node.IsVisibleAt(model.TopLayer), $"{image}: {node.Path}");
                Assert.Equal(node.History.Length, e.Steps.Count);
            }
        }
        if (images.Count == 1) Assert.Skip("checked on the sample only: the generated corpus (tricky) is not present");
    }

    [Fact]
    public void The_command_prints_text_or_json_and_says_when_no_layer_wrote_the_path()
    {
        var text = Tool.Run("explain", Paths.Sample, "/etc/app/defaults.json");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("Hidden since layer 3: cut off by opaque dir (/etc/app/.wh..wh..opq).", text.Stdout);
        var json = Tool.Run("explain", Paths.Sample, "/etc/motd", "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.True(doc.RootElement.GetProperty("visible").GetBoolean());
        Assert.Equal("size, content", doc.RootElement.GetProperty("steps")[1].GetProperty("changed").GetString());
        var none = Tool.Run("explain", Paths.Sample, "/no/such/thing");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no layer of layerdive/sample:latest ever wrote /no/such/thing", none.Stderr);
    }

    [Fact]
    public void The_e_key_explains_the_selected_row()
    {
        using var ui = new UiHarness(Paths.Sample);
        ui.Press(Key.Tab);
        while (ui.Window.Tree.Current!.Node.Path != "etc/motd") ui.Press(Key.CursorDown);
        ui.Press(Key.E);
        Assert.True(ui.Window.ExplainVisible);
        Assert.Contains("Explain /etc/motd", ui.Screen);
        Assert.Contains("size 33 -> 41, content changed", ui.Screen);
        ui.Press(Key.Esc);
        Assert.False(ui.Window.ExplainVisible);
    }

    [Fact]
    public void Deleted_and_added_again_is_said_so()
    {
        var image = new ImageBuilder()
            .Layer("a", l => l.File("f", "1"))
            .Layer("rm f", l => l.Whiteout("f"))
            .Layer("add f", l => l.File("f", "22"));
        var e = Explainer.Explain(Reference.Load(image), "f")!;
        Assert.Equal([StepKind.Added, StepKind.WhitedOut, StepKind.ReAdded], e.Steps.Select(s => s.Kind));
        Assert.Equal(".wh.f", e.Steps[1].Marker);
        Assert.Equal(2, e.SinceLayer);
    }
}
