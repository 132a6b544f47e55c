using System.Globalization;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Ui.Viewer;
using YamlDotNet.RepresentationModel;
using LayerDive.Core.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The explorer's settings: dive's configuration files (<c>--config</c>,
/// <c>./.dive.yaml</c>, <c>./.dive/config.yaml</c>, <c>~/.dive.yaml</c>, <c>$XDG_CONFIG_HOME/dive/config.yaml</c>,
/// each <c>$XDG_CONFIG_DIRS/dive/config.yaml</c>; merged, the first that sets a key wins), then
/// <c>DIVE_*</c> variables (<c>DIVE_KEYBINDING_QUIT</c>) over them, and LayerDive's own keys under
/// <c>layerdive:</c> in the same files and in <c>LAYERDIVE_*</c> variables (<c>LAYERDIVE_THEME</c>).
/// </summary>
public sealed record ExplorerSettings
{
    public KeyMap Keys { get; init; } = KeyMap.Default;
    public IReadOnlySet<RowStatus> Hide { get; init; } = new HashSet<RowStatus>();
    public bool CollapseDirectories { get; init; }
    public bool ShowAttributes { get; init; } = true;
    public bool Aggregated { get; init; }
    /// <summary>The file tree's share of the screen's width (dive's <c>filetree.pane-width</c>); null: LayerDive's layout.</summary>
    public double? PaneWidth { get; init; }
    public string Theme { get; init; } = "dark";
    public string? Language { get; init; }
    /// <summary>The most bytes of one file the viewer copies (<c>layerdive.viewer-limit</c>): a longer file shows its first part.</summary>
    public long ViewerLimit { get; init; } = ViewerController.DefaultLimit;
    /// <summary>The configuration files read, most important first.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    private static readonly string[] Scalars =
    [
        "diff.hide", "filetree.collapse-dir", "filetree.pane-width", "filetree.show-attributes",
        "layer.show-aggregated-changes", "layerdive.theme", "layerdive.language", "layerdive.viewer-limit",
    ];

    /// <summary>Every key read: dive's and LayerDive's.</summary>
    public static IEnumerable<string> KnownKeys => Scalars.Concat(KeyMap.Defaults.Select(b => b.ConfigKey)).Distinct();

    /// <summary>The variable that sets a key: <c>DIVE_KEYBINDING_QUIT</c>, <c>LAYERDIVE_THEME</c>.</summary>
    public static string Variable(string key) =>
        (key.StartsWith("layerdive.", StringComparison.Ordinal) ? "LAYERDIVE_" + key["layerdive.".Length..] : "DIVE_" + key)
            .ToUpperInvariant().Replace('.', '_').Replace('-', '_');

    /// <summary>The configuration files in their order of precedence (those that exist).</summary>
    public static IReadOnlyList<string> Search(string? explicitFile, Func<string, string?> environment, string workingDirectory)
    {
        var files = new List<string>();
        if (explicitFile is not null)
        {
            var full = Path.GetFullPath(explicitFile, workingDirectory);
            if (!File.Exists(full)) throw new SettingsException(Text.Fill(Strings.Settings_FileMissing, explicitFile));
            files.Add(full);
        }
        var home = environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var configHome = environment("XDG_CONFIG_HOME") is { Length: > 0 } h ? h : Path.Combine(home, ".config");
        var configDirs = environment("XDG_CONFIG_DIRS") is { Length: > 0 } d ? d : "/etc/xdg";
        var candidates = new List<string>
        {
            Path.Combine(workingDirectory, ".dive.yaml"),
            Path.Combine(workingDirectory, ".dive", "config.yaml"),
            Path.Combine(home, ".dive.yaml"),
            Path.Combine(configHome, "dive", "config.yaml"),
        };
        candidates.AddRange(configDirs.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, "dive", "config.yaml")));
        foreach (var c in candidates)
        {
            var full = Path.GetFullPath(c);
            if (File.Exists(full) && !files.Contains(full)) files.Add(full);
        }
        return files;
    }

    /// <summary>
    /// Reads the settings from the files found from <paramref name="workingDirectory"/> and the home the
    /// <paramref name="environment"/> names; <paramref name="theme"/> and <paramref name="language"/> are the flags, which win over everything.
    /// </summary>
    public static ExplorerSettings Load(string? explicitFile, Func<string, string?> environment, string workingDirectory, string? theme = null, string? language = null)
    {
        var files = Search(explicitFile, environment, workingDirectory);
        // key -> (value, where it came from); the first file that sets a key wins, a variable wins over the files
        var values = new Dictionary<string, (string Value, string Origin)>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var (key, value) in Flatten(file))
                values.TryAdd(key, (value, file));
        foreach (var key in KnownKeys)
            if (environment(Variable(key)) is { } v)
                values[key] = (v, Variable(key));
        if (theme is not null) values["layerdive.theme"] = (theme, "--theme");
        if (language is not null) values["layerdive.language"] = (language, "--lang");

        var rebound = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var b in KeyMap.Defaults)
        {
            if (!values.TryGetValue(b.ConfigKey, out var v)) continue;
            try
            {
                // quit with no key at all would leave no way out of the explorer
                if (KeySpelling.ParseAll(v.Value).Count == 0 && b.Command == UiCommand.Quit)
                    throw Bad(b.ConfigKey, v, Strings.Settings_QuitUnbound);
            }
            catch (FormatException ex)
            {
                throw Bad(b.ConfigKey, v, Text.Fill(Strings.Settings_NotAKey, ex.Message));
            }
            rebound[b.ConfigKey] = v.Value;
        }
        var settings = new ExplorerSettings { Keys = rebound.Count == 0 ? KeyMap.Default : KeyMap.With(rebound), Files = files };
        if (values.TryGetValue("diff.hide", out var hide))
        {
            var hidden = new HashSet<RowStatus>();
            foreach (var item in hide.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                hidden.Add(item.ToLowerInvariant() switch
                {
                    "added" => RowStatus.Added,
                    "removed" => RowStatus.Removed,
                    "modified" => RowStatus.Modified,
                    "unmodified" => RowStatus.Unmodified,
                    _ => throw Bad("diff.hide", hide, Strings.Settings_NotHideList),
                });
            }
            settings = settings with { Hide = hidden };
        }
        settings = settings with
        {
            CollapseDirectories = Bool("filetree.collapse-dir", false),
            ShowAttributes = Bool("filetree.show-attributes", true),
            Aggregated = Bool("layer.show-aggregated-changes", false),
        };
        if (values.TryGetValue("filetree.pane-width", out var width))
        {
            if (!double.TryParse(width.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) || !(w > 0 && w < 1))
                throw Bad("filetree.pane-width", width, Strings.Settings_NotWidth);
            settings = settings with { PaneWidth = w };
        }
        if (values.TryGetValue("layerdive.theme", out var t))
        {
            var name = t.Value.Trim().ToLowerInvariant();
            if (!Palette.Themes.Contains(name)) throw Bad("layerdive.theme", t, Text.Fill(Strings.Settings_NotOneOf, string.Join(", ", Palette.Themes)));
            settings = settings with { Theme = name };
        }
        if (values.TryGetValue("layerdive.language", out var l))
        {
            var name = l.Value.Trim().ToLowerInvariant();
            if (!Text.Languages.Contains(name)) throw Bad("layerdive.language", l, Text.Fill(Strings.Settings_NotOneOf, string.Join(", ", Text.Languages)));
            settings = settings with { Language = name };
        }
        if (values.TryGetValue("layerdive.viewer-limit", out var limit))
        {
            // go-humanize's sizes, as the CI rules read them: 256MiB, 1GB, 1000000
            if (CiRules.ParseBytes(limit.Value.Trim()) is not { } bytes || !(bytes >= 1 && bytes < 1e18))
                throw Bad("layerdive.viewer-limit", limit, Strings.Settings_NotSize);
            settings = settings with { ViewerLimit = (long)bytes };
        }
        return settings;

        bool Bool(string key, bool fallback)
        {
            if (!values.TryGetValue(key, out var v)) return fallback;
            // as viper reads a boolean (strconv.ParseBool), and YAML's yes/no
            return v.Value.Trim().ToLowerInvariant() switch
            {
                "true" or "t" or "1" or "yes" or "on" => true,
                "false" or "f" or "0" or "no" or "off" => false,
                _ => throw Bad(key, v, Strings.Settings_NotBool),
            };
        }
    }

    private static SettingsException Bad(string key, (string Value, string Origin) v, string reason) =>
        new(Text.Fill(Strings.Settings_Invalid, v.Origin, key, v.Value, reason));

    /// <summary>The file's keys, dotted and in lower case (<c>keybinding.quit</c>), each with its value; a list is joined with commas.</summary>
    private static IEnumerable<(string Key, string Value)> Flatten(string file)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(File.ReadAllText(file)));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SettingsException(Text.Fill(Strings.Settings_NotYaml, file, ex.Message.ReplaceLineEndings(" ")));
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root) yield break;
        var stack = new Stack<(string Prefix, YamlMappingNode Node)>();
        stack.Push(("", root));
        while (stack.Count > 0)
        {
            var (prefix, node) = stack.Pop();
            foreach (var (k, v) in node.Children)
            {
                if (k is not YamlScalarNode { Value: { } name }) continue;
                var key = prefix + name.ToLowerInvariant();
                switch (v)
                {
                    case YamlMappingNode m: stack.Push((key + ".", m)); break;
                    case YamlScalarNode s: yield return (key, s.Value ?? ""); break;
                    case YamlSequenceNode seq: yield return (key, string.Join(",", seq.Children.OfType<YamlScalarNode>().Select(x => x.Value))); break;
                }
            }
        }
    }
}
