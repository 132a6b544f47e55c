using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>Explanations and the explorer read in English or Russian, by --lang or LANG.</summary>
public sealed class LanguageTests
{
    private static readonly string Opaque = Path.Combine(Paths.RepoRoot, "samples", "lessons", "opaque-directory.oci.tar");

    [Fact]
    public void Explain_speaks_russian_when_asked()
    {
        var ru = Tool.Run("explain", Opaque, "/app/main.py", "--lang", "ru");
        Assert.Equal(0, ru.ExitCode);
        Assert.Contains("Скрыт начиная со слоя 1: отрезан opaque-каталогом (/app/.wh..wh..opq).", ru.StdoutLines);
        Assert.Contains(ru.StdoutLines, l => l.StartsWith("  слой 0   добавлен", StringComparison.Ordinal));

        var byEnvironment = Tool.RunWith(new Dictionary<string, string> { ["LANG"] = "ru_RU.UTF-8" }, null, "explain", Opaque, "/app/main.py");
        Assert.Equal(ru.Stdout, byEnvironment.Stdout);

        var en = Tool.RunWith(new Dictionary<string, string> { ["LANG"] = "ru_RU.UTF-8" }, null, "explain", Opaque, "/app/main.py", "--lang", "en");
        Assert.Contains("Hidden since layer 1: cut off by opaque dir (/app/.wh..wh..opq).", en.StdoutLines); // --lang wins over LANG
        Assert.Equal(2, Tool.Run("explain", Opaque, "/app/main.py", "--lang", "fr").ExitCode);
    }

    [Fact]
    public void The_explorer_follows_the_same_choice()
    {
        var before = CultureInfo.CurrentUICulture;
        try
        {
            LayerDive.Core.Text.Use("ru");
            using var ui = new UiHarness(Paths.Sample);
            Assert.Contains("Слои", ui.Lines[0]);
            Assert.Contains("Файлы после слоя 0", ui.Lines[0]);
            ui.Press(new Key('?'));
            Assert.Contains("изменения этого слоя", ui.Screen);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }

    /// <summary>Errors come from the resource files too (issue 13): a damaged image told in Russian.</summary>
    [Fact]
    public void Errors_speak_russian_when_asked()
    {
        using var dir = new TempDir();
        var image = new LayerDive.Samples.ImageBuilder().Layer("base", l => l.File("a", "a\n")).Layer("cut", l => l.File("b", "b\n"));
        image.TamperBlob = (n, blob) => n == 1 ? blob[..^8] : blob;
        var path = dir.File("cut.tar");
        image.WriteOciArchive(path);
        var ru = Tool.Run("ls", path, "--lang", "ru");
        Assert.Equal(2, ru.ExitCode);
        Assert.Matches(@"^layerdive: error: .*: слой 1 \(sha256:[0-9a-f]{12}\): оборван: gzip: поток обрывается внутри первого члена \(нет хвоста с CRC и размером\)$", Assert.Single(ru.StderrLines));
        var en = Tool.Run("ls", path, "--lang", "en");
        Assert.Matches(@"^layerdive: error: .*: layer 1 \(sha256:[0-9a-f]{12}\): truncated: gzip: the stream ends inside its first member \(no CRC and size trailer\)$", Assert.Single(en.StderrLines));
        Assert.Equal("layerdive: error: /no/such/image.tar: нет такого файла или каталога", Assert.Single(Tool.Run("ls", "/no/such/image.tar", "--lang", "ru").StderrLines));

        // and warnings: a whiteout that hides nothing
        var orphan = new LayerDive.Samples.ImageBuilder().Layer("base", l => l.Dir("etc").File("etc/a", "a\n")).Layer("rm", l => l.Whiteout("etc/ghost"));
        var orphanPath = dir.File("orphan.tar");
        orphan.WriteOciArchive(orphanPath);
        var warned = Tool.Run("ls", orphanPath, "--lang", "ru");
        Assert.Equal(0, warned.ExitCode);
        Assert.Equal($"layerdive: warning: {orphanPath}: слой 1: etc/ghost: whiteout .wh.ghost ничего не скрывает: пути нет в слоях ниже", Assert.Single(warned.StderrLines));
    }

    /// <summary>The two resource sets: Core's texts (explanations, errors, progress) and the executable's (the explorer and its viewer).</summary>
    private static readonly (string Folder, string Name, string Accessor)[] Sets =
    [
        (Path.Combine(Paths.RepoRoot, "src", "LayerDive.Core", "Resources"), "Strings", @"(?<!\w)Text"),
        (Path.Combine(Paths.RepoRoot, "src", "LayerDive", "Resources"), "UiStrings", @"(?<!\w)UiText"),
    ];

    private static Dictionary<string, string> Read(string folder, string file) => XDocument.Load(Path.Combine(folder, file)).Root!.Elements("data")
        .ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Element("value")!);

    /// <summary>A key the code asks for and the resources lack would print the key itself: none may be missing.</summary>
    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 50)]
    public void Every_text_the_code_asks_for_is_in_the_resources(int set, int atLeast)
    {
        var (folder, name, accessor) = Sets[set];
        var en = Read(folder, name + ".resx");
        var asked = Directory.GetFiles(Path.Combine(Paths.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), accessor + @"\.(?:Get|Format)\(""([^""]+)""").Select(m => (File: Path.GetFileName(f), Key: m.Groups[1].Value)))
            .ToList();
        Assert.True(asked.Count > atLeast, $"only {asked.Count} texts found: the pattern no longer matches the code");
        // a key built from a prefix ("Key." + command) is checked where its names are (below)
        Assert.Empty(asked.Where(a => !a.Key.EndsWith('.') && !en.ContainsKey(a.Key)).Select(a => $"{a.File}: {a.Key}"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Every_text_has_its_russian_with_the_same_placeholders(int set)
    {
        var (folder, name, _) = Sets[set];
        var en = Read(folder, name + ".resx");
        var ru = Read(folder, name + ".ru.resx");
        Assert.Equal(en.Keys.Order(), ru.Keys.Order());
        foreach (var (key, text) in en)
            Assert.True(Regex.Matches(text, @"\{\d\}").Select(m => m.Value).Order().SequenceEqual(Regex.Matches(ru[key], @"\{\d\}").Select(m => m.Value).Order()), key);
    }

    /// <summary>The explorer's texts built from a name: every command's help and status label, every pane, every reason for waste.</summary>
    [Fact]
    public void Every_text_built_from_a_name_is_in_the_resources()
    {
        var (folder, name, _) = Sets[1];
        var en = Read(folder, name + ".resx");
        foreach (var k in LayerDive.Ui.Explorer.KeyMap.Defaults)
        {
            Assert.True(en.ContainsKey("Key." + k.Command), k.Command.ToString());
            if (k.InStatusBar) Assert.True(en.ContainsKey("Short." + k.Command), k.Command.ToString());
        }
        foreach (var pane in new[] { LayerDive.Ui.Explorer.Pane.Layers, LayerDive.Ui.Explorer.Pane.Tree, LayerDive.Ui.Explorer.Pane.Viewer })
            Assert.True(en.ContainsKey("Ui.Pane." + pane), pane.ToString());
        foreach (var reason in Enum.GetValues<LayerDive.Core.Analysis.WasteReason>())
            Assert.True(en.ContainsKey("Ui.Waste." + reason), reason.ToString());
    }
}
