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

    /// <summary>A key the code asks for and the resources lack would print the key itself: none may be missing.</summary>
    [Fact]
    public void Every_text_the_code_asks_for_is_in_the_resources()
    {
        var en = XDocument.Load(Path.Combine(Paths.RepoRoot, "src", "LayerDive.Core", "Resources", "Strings.resx")).Root!.Elements("data")
            .Select(d => (string)d.Attribute("name")!).ToHashSet();
        var asked = Directory.GetFiles(Path.Combine(Paths.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"Text\.(?:Get|Format)\(""([^""]+)""").Select(m => (File: Path.GetFileName(f), Key: m.Groups[1].Value)))
            .ToList();
        Assert.True(asked.Count > 100, $"only {asked.Count} texts found: the pattern no longer matches the code");
        // a key built from a prefix ("Key." + id) is checked where its ids are (below)
        Assert.Empty(asked.Where(a => !a.Key.EndsWith('.') && !en.Contains(a.Key)).Select(a => $"{a.File}: {a.Key}"));
    }

    [Fact]
    public void Every_text_has_its_russian_with_the_same_placeholders()
    {
        var dir = Path.Combine(Paths.RepoRoot, "src", "LayerDive.Core", "Resources");
        Dictionary<string, string> Read(string file) => XDocument.Load(Path.Combine(dir, file)).Root!.Elements("data")
            .ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Element("value")!);
        var en = Read("Strings.resx");
        var ru = Read("Strings.ru.resx");
        Assert.Equal(en.Keys.Order(), ru.Keys.Order());
        foreach (var (key, text) in en)
            Assert.True(Regex.Matches(text, @"\{\d\}").Select(m => m.Value).Order().SequenceEqual(Regex.Matches(ru[key], @"\{\d\}").Select(m => m.Value).Order()), key);
        foreach (var k in LayerDive.Ui.KeyMap.Defaults)
        {
            Assert.True(en.ContainsKey("Key." + k.Id), k.Id);
            if (k.InStatusBar) Assert.True(en.ContainsKey("Short." + k.Id), k.Id);
        }
    }
}
