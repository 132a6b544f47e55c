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
        foreach (var k in LayerDive.Ui.KeyMap.All)
        {
            Assert.True(en.ContainsKey("Key." + k.Id), k.Id);
            if (k.InStatusBar) Assert.True(en.ContainsKey("Short." + k.Id), k.Id);
        }
    }
}
