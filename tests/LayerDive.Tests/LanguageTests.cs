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

    /// <summary>The commands' own lines (a rule's value, build's failure, extract's summary, the usage hint) come from the resources too.</summary>
    [Fact]
    public void The_commands_own_messages_speak_russian_when_asked()
    {
        var rule = Tool.Run(Opaque, "--ci", "--lowestEfficiency", "1.2", "--lang", "ru");
        Assert.Equal(2, rule.ExitCode);
        Assert.Equal("layerdive: error: правило lowestEfficiency: 1.2 вне допустимого диапазона 0..1", Assert.Single(rule.StderrLines));

        using var dir = new TempDir();
        var extracted = Tool.Run("extract", Opaque, "/app", "-o", dir.File("en"));
        var counts = Regex.Match(extracted.StdoutLines[0], @"^extracted (\d+) files \((.+)\), (\d+) directories, (\d+) symlinks to ");
        Assert.True(counts.Success, extracted.Stdout);
        var ru = Tool.Run("extract", Opaque, "/app", "-o", dir.File("ru"), "--lang", "ru");
        Assert.Equal(0, ru.ExitCode);
        Assert.Equal($"извлечено в {dir.File("ru")}: файлов {counts.Groups[1]} ({counts.Groups[2]}), каталогов {counts.Groups[3]}, символических ссылок {counts.Groups[4]}", ru.StdoutLines[0]);

        var usage = Tool.RunWith(new Dictionary<string, string> { ["LANG"] = "ru_RU.UTF-8" }, null, "ls", Opaque, "--layer", "x");
        Assert.Equal(2, usage.ExitCode);
        Assert.Equal("Как пользоваться: «layerdive --help».", usage.StderrLines[^1]);
        Assert.Equal("Run 'layerdive --help' for usage.", Tool.Run("ls", Opaque, "--layer", "x").StderrLines[^1]);

        // a build that fails (an empty context: docker stops before it needs a daemon) is named with the engine's exit code
        if (!Scripts.OnPath("docker"))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("docker is not installed (CI=true: .ci/run installs it)");
            Assert.Skip("docker is not installed (apt-get install docker.io)");
        }
        var context = Directory.CreateDirectory(dir.File("context")).FullName;
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + dir.File("no-engine.sock"), ["HOME"] = dir.Path };
        var failedEn = Tool.RunWith(env, dir.Path, "build", context);
        Assert.Equal(2, failedEn.ExitCode);
        Assert.Matches(@"^layerdive: error: build: docker build failed \(exit [1-9]\d*\)$", failedEn.StderrLines[^1]);
        var failedRu = Tool.RunWith(env, dir.Path, "build", context, "--lang", "ru");
        Assert.Matches(@"^layerdive: error: build: команда «docker build» завершилась с ошибкой \(код выхода [1-9]\d*\)$", failedRu.StderrLines[^1]);
        Assert.Equal("Сборка образа...", failedRu.StdoutLines[0]);
    }

    /// <summary>
    /// The words a source puts into a message (which document, what a JSON value is, which stream, after
    /// which member) are translated with it. The Russian is put together from Strings.ru.resx, as the
    /// code puts it together; the English is today's, unchanged.
    /// </summary>
    [Fact]
    public void A_sources_own_words_speak_russian_too()
    {
        var ru = Read(Path.Combine(Paths.RepoRoot, "src", "LayerDive.Core", "Resources", "Strings.ru.resx"));
        using var dir = new TempDir();

        // a docker archive whose config is a JSON string: "config" and "a string" are both the source's words
        var stringConfig = dir.File("string-config.tar");
        LayerDive.Samples.ImageBuilder.WriteTar(stringConfig, [
            ("manifest.json", "[{\"Config\":\"config.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[]}]"u8.ToArray()),
            ("config.json", "\"not a config\""u8.ToArray())]);
        var russian = Tool.Run("ls", stringConfig, "--lang", "ru");
        Assert.Equal(2, russian.ExitCode);
        Assert.Equal($"layerdive: error: {stringConfig}: " + string.Format(CultureInfo.InvariantCulture, ru["Image_ConfigNotObject"], ru["Image_ConfigDocument"], ru["Json_KindString"]),
            Assert.Single(russian.StderrLines));
        Assert.Equal($"layerdive: error: {stringConfig}: config is a string, not an image config", Assert.Single(Tool.Run("ls", stringConfig, "--lang", "en").StderrLines));

        // standard input cut 100 bytes into the second member's ustar header: the stream and the member before the cut are named
        var first = new byte[700];
        Array.Fill(first, (byte)' ');
        var whole = dir.File("two-members.tar");
        LayerDive.Samples.ImageBuilder.WriteTar(whole, [("first.json", first), ("second.json", "{}"u8.ToArray())]);
        var cut = dir.File("cut.tar");
        File.WriteAllBytes(cut, File.ReadAllBytes(whole)[..(512 + (first.Length + 511) / 512 * 512 + 100)]);
        var options = new LayerDive.Core.Sources.SourceOptions { StandardInput = () => File.OpenRead(cut) };
        var ct = TestContext.Current.CancellationToken;
        var before = CultureInfo.CurrentUICulture;
        try
        {
            LayerDive.Core.Text.Use("ru");
            var inRussian = Assert.Throws<LayerDive.Core.ImageException>(() => LayerDive.Core.Sources.SourceCatalog.Open("-", options, ct).Dispose());
            // the template's last placeholder is the tar reader's own words: everything before it is ours
            Assert.StartsWith(string.Format(CultureInfo.InvariantCulture, ru["Stream_Damaged"], ru["Stream_StandardInput"], string.Format(CultureInfo.InvariantCulture, ru["Stream_After"], "first.json"), ""), inRussian.Message);
            LayerDive.Core.Text.Use("en");
            var inEnglish = Assert.Throws<LayerDive.Core.ImageException>(() => LayerDive.Core.Sources.SourceCatalog.Open("-", options, ct).Dispose());
            Assert.StartsWith("standard input is cut off or damaged after 'first.json': ", inEnglish.Message);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }

    /// <summary>Every English resource file under src/ (Core's texts, and the executable's: the explorer and its viewer) with its Russian one.</summary>
    private static IEnumerable<(string English, string Russian)> ResourceFiles() =>
        Directory.GetFiles(Path.Combine(Paths.RepoRoot, "src"), "*.resx", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/") && Path.GetFileNameWithoutExtension(f).IndexOf('.') < 0)
            .Select(f => (f, Path.ChangeExtension(f, ".ru.resx")));

    private static Dictionary<string, string> Read(string file) => XDocument.Load(file).Root!.Elements("data")
        .ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Element("value")!);

    // The code reads its texts through the classes MSBuild generates (Strings.Registry_TokenRefused,
    // UiStrings.Ui_SearchNoMatch): a key it asks for and the resources lack fails the build, so no test looks
    // for it. What the build cannot see is checked here: the Russian of every key, the names, and the keys
    // the code builds at run time.

    [Fact]
    public void Every_text_has_its_russian_with_the_same_placeholders()
    {
        var files = ResourceFiles().ToList();
        Assert.Equal(2, files.Count); // Core's Strings and the executable's UiStrings
        foreach (var (english, russian) in files)
        {
            var en = Read(english);
            var ru = Read(russian);
            Assert.Equal(en.Keys.Order(), ru.Keys.Order());
            foreach (var (key, text) in en)
                Assert.True(Regex.Matches(text, @"\{\d\}").Select(m => m.Value).Order().SequenceEqual(Regex.Matches(ru[key], @"\{\d\}").Select(m => m.Value).Order()), key);
        }
    }

    /// <summary>Keys name the condition, area first (Registry_TokenRefused), and each names one text in all of src/.</summary>
    [Fact]
    public void Keys_are_named_area_underscore_condition()
    {
        var keys = ResourceFiles().SelectMany(f => Read(f.English).Keys).ToList();
        Assert.True(keys.Count > 400, $"only {keys.Count} keys found");
        Assert.All(keys, k => Assert.Matches("^[A-Z][A-Za-z0-9]*_[A-Z][A-Za-z0-9]*$", k));
        Assert.Empty(keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    /// <summary>The keys the code builds from a value at run time (an enum member, a command) exist for every value, in both languages.</summary>
    [Fact]
    public void Every_key_built_at_run_time_has_its_text()
    {
        var before = CultureInfo.CurrentUICulture;
        try
        {
            foreach (var language in LayerDive.Core.Text.Languages)
            {
                LayerDive.Core.Text.Use(language);
                // Text.Lookup and UiText.Lookup give back the key itself when the resources lack it
                foreach (var k in Enum.GetValues<LayerDive.Core.Analysis.StepKind>())
                    Assert.NotEqual("Step_" + k, LayerDive.Core.Analysis.Explainer.Verb(k));
                foreach (var k in Enum.GetValues<LayerDive.Core.Analysis.LayerKind>())
                    Assert.NotEqual("Kind_" + k, LayerDive.Core.Analysis.LayerKinds.Label(k));
                // every command's help text and status bar label, through the executable's class
                foreach (var b in LayerDive.Ui.Explorer.KeyMap.Defaults)
                {
                    Assert.NotEqual("Key_" + b.Command, b.Action);
                    if (b.InStatusBar) Assert.NotEqual("Short_" + b.Command, b.Short);
                }
                // a layer's short kind (Core's), why bytes are wasted and a pane's name (the explorer's)
                var core = LayerDive.Core.Resources.Strings.ResourceManager;
                Assert.All(Enum.GetValues<LayerDive.Core.Analysis.LayerKind>().Select(k => "Kind_Short" + k),
                    k => Assert.NotNull(core.GetString(k, CultureInfo.CurrentUICulture)));
                var explorer = LayerDive.Resources.UiStrings.ResourceManager;
                var keys = Enum.GetValues<LayerDive.Core.Analysis.WasteReason>().Select(r => "Ui_Waste" + r)
                    .Concat(new[] { LayerDive.Ui.Explorer.Pane.Layers, LayerDive.Ui.Explorer.Pane.Tree, LayerDive.Ui.Explorer.Pane.Viewer }.Select(p => "Ui_Pane" + p));
                Assert.All(keys, k => Assert.NotNull(explorer.GetString(k, CultureInfo.CurrentUICulture)));
            }
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }
}
