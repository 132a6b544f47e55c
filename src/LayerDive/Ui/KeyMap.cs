using LayerDive.Core;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;

namespace LayerDive.Ui;

/// <summary>Where a key works: the pane (or the viewer) that has the user's attention.</summary>
[Flags]
public enum Pane
{
    Layers = 1,
    Tree = 2,
    Viewer = 4,
    /// <summary>Both panes (not the viewer, which has keys of its own).</summary>
    Any = Layers | Tree,
    All = Layers | Tree | Viewer,
}

/// <summary>What the explorer is taking keys for: one mode at a time.</summary>
public enum InputMode
{
    Normal,
    Filter,
    Search,
    ExtractTo,
    Viewer,
}

/// <summary>
/// One key binding: the action it runs (<see cref="Id"/>), its keys, the pane it works in, the toggle whose
/// state the status bar shows, and the configuration key that rebinds it (dive's <c>keybinding.*</c>, or
/// LayerDive's own under <c>layerdive.keybinding.*</c>).
/// </summary>
public sealed record KeyBinding(string Id, string ConfigKey, string Spelling, Pane Pane, string? Toggle = null, bool InStatusBar = true)
{
    /// <summary>The keys, parsed from <see cref="Spelling"/> (dive's: <c>ctrl+f, ctrl+slash</c>).</summary>
    public IReadOnlyList<Key> Keys { get; init; } = KeySpelling.ParseAll(Spelling);

    /// <summary>What the key does, in the chosen language.</summary>
    public string Action => Text.Get("Key." + Id);

    /// <summary>The status bar's label (null for the keys that need no reminder).</summary>
    public string? Short => InStatusBar ? Text.Get("Short." + Id) : null;

    /// <summary>The keys as the help lists them: <c>^F, ^/</c>.</summary>
    public string Shown => string.Join(", ", Keys.Select(KeySpelling.Display));

    /// <summary>The first key, as the status bar shows it (dive shows the first of a list).</summary>
    public string First => Keys.Count > 0 ? KeySpelling.Display(Keys[0]) : "";
}

/// <summary>
/// The explorer's key table: dive's defaults (so muscle memory carries over) and LayerDive's additions,
/// each rebindable from the configuration. The explorer dispatches from it, and the status bar and the
/// help overlay read it: what they show is what is bound.
/// </summary>
public sealed class KeyMap
{
    /// <summary>Every binding with its default keys, as dive spells them.</summary>
    public static readonly IReadOnlyList<KeyBinding> Defaults =
    [
        new("Quit", "keybinding.quit", "ctrl+c, q", Pane.Any),
        new("Switch", "keybinding.toggle-view", "tab", Pane.Any),
        new("Filter", "keybinding.filter-files", "ctrl+f, ctrl+slash", Pane.Any),
        new("CloseFilter", "keybinding.close-filter-files", "esc", Pane.Any, InStatusBar: false),
        new("Help", "layerdive.keybinding.help", "?", Pane.All),
        new("Up", "keybinding.up", "up, k", Pane.All, InStatusBar: false),
        new("Down", "keybinding.down", "down, j", Pane.All, InStatusBar: false),
        new("PageUp", "keybinding.page-up", "pgup, u", Pane.All, InStatusBar: false),
        new("PageDown", "keybinding.page-down", "pgdn, d", Pane.All, InStatusBar: false),
        new("LayerChanges", "keybinding.compare-layer", "ctrl+l", Pane.Layers, "layer"),
        new("Aggregated", "keybinding.compare-all", "ctrl+a", Pane.Layers, "aggregate"),
        new("Parent", "keybinding.left", "left, h", Pane.Tree, InStatusBar: false),
        new("Expand", "keybinding.right", "right, l", Pane.Tree, InStatusBar: false),
        new("View", "layerdive.keybinding.view", "enter", Pane.Tree),
        new("Fold", "keybinding.toggle-collapse-dir", "space", Pane.Tree),
        new("FoldAll", "keybinding.toggle-collapse-all-dir", "ctrl+space", Pane.Tree),
        new("Added", "keybinding.toggle-added-files", "ctrl+a", Pane.Tree, "added"),
        new("Removed", "keybinding.toggle-removed-files", "ctrl+r", Pane.Tree, "removed"),
        new("Modified", "keybinding.toggle-modified-files", "ctrl+m", Pane.Tree, "modified"),
        new("Unmodified", "keybinding.toggle-unmodified-files", "ctrl+u", Pane.Tree, "unmodified"),
        new("Attributes", "keybinding.toggle-filetree-attributes", "ctrl+b", Pane.Tree, "attributes"),
        new("Sort", "keybinding.toggle-sort-order", "ctrl+o", Pane.Tree, "size"),
        new("Wrap", "keybinding.toggle-wrap-tree", "ctrl+p", Pane.Tree, "wrap"),
        new("Extract", "keybinding.extract-file", "ctrl+e", Pane.Tree),
        new("Explain", "layerdive.keybinding.explain", "e", Pane.Tree),
        new("Waste", "layerdive.keybinding.waste", "w", Pane.Tree),
        new("Search", "layerdive.keybinding.search", "/", Pane.Tree | Pane.Viewer),
        new("SearchNext", "layerdive.keybinding.search-next", "n", Pane.Tree | Pane.Viewer, InStatusBar: false),
        new("SearchPrevious", "layerdive.keybinding.search-previous", "shift+n", Pane.Tree | Pane.Viewer, InStatusBar: false),
        new("Config", "layerdive.keybinding.image-config", "i", Pane.Any),
        new("Problems", "layerdive.keybinding.problems", "!", Pane.Any),
        new("ViewerDiff", "layerdive.keybinding.viewer-diff", "tab", Pane.Viewer),
        new("ViewerHex", "layerdive.keybinding.viewer-hex", "x", Pane.Viewer),
        new("ViewerTop", "layerdive.keybinding.viewer-top", "home, g", Pane.Viewer, InStatusBar: false),
        new("ViewerEnd", "layerdive.keybinding.viewer-end", "end, shift+g", Pane.Viewer, InStatusBar: false),
        new("ViewerClose", "layerdive.keybinding.viewer-close", "esc, q", Pane.Viewer),
    ];

    /// <summary>dive's defaults and LayerDive's, unchanged.</summary>
    public static KeyMap Default { get; } = new(Defaults);

    public KeyMap(IReadOnlyList<KeyBinding> bindings)
    {
        All = bindings;
        // a pane's own binding wins over one that works everywhere (ctrl+a: aggregated in the layers pane, added in the tree)
        _order = [.. bindings.OrderBy(b => System.Numerics.BitOperations.PopCount((uint)b.Pane))];
    }

    private readonly IReadOnlyList<KeyBinding> _order;

    public IReadOnlyList<KeyBinding> All { get; }

    /// <summary>The table with the given bindings' keys replaced (configuration key -> dive's spelling).</summary>
    /// <exception cref="FormatException">A spelling that names no key.</exception>
    public static KeyMap With(IReadOnlyDictionary<string, string> rebound) =>
        new([.. Defaults.Select(b => rebound.TryGetValue(b.ConfigKey, out var s) ? b with { Spelling = s, Keys = KeySpelling.ParseAll(s) } : b)]);

    public KeyBinding Get(string id) => All.First(b => b.Id == id);

    /// <summary>The binding a key runs in a pane, if any.</summary>
    public KeyBinding? Find(Key key, Pane pane) =>
        _order.FirstOrDefault(b => (b.Pane & pane) != 0 && b.Keys.Any(k => k == key));

    /// <summary>True when <paramref name="key"/> is one of the binding's keys.</summary>
    public bool Is(string id, Key key) => Get(id).Keys.Any(k => k == key);
}

/// <summary>Keys as dive's configuration spells them (awesome-gocui/keybinding): <c>ctrl+c</c>, <c>pgup</c>, <c>shift+n</c>, <c>q</c>.</summary>
public static class KeySpelling
{
    private static readonly Dictionary<string, KeyCode> Named = new(StringComparer.OrdinalIgnoreCase)
    {
        ["up"] = KeyCode.CursorUp, ["arrowup"] = KeyCode.CursorUp,
        ["down"] = KeyCode.CursorDown, ["arrowdown"] = KeyCode.CursorDown,
        ["left"] = KeyCode.CursorLeft, ["arrowleft"] = KeyCode.CursorLeft,
        ["right"] = KeyCode.CursorRight, ["arrowright"] = KeyCode.CursorRight,
        ["pgup"] = KeyCode.PageUp, ["pageup"] = KeyCode.PageUp,
        ["pgdn"] = KeyCode.PageDown, ["pagedown"] = KeyCode.PageDown,
        ["home"] = KeyCode.Home, ["end"] = KeyCode.End,
        ["insert"] = KeyCode.Insert, ["delete"] = KeyCode.Delete,
        ["backspace"] = KeyCode.Backspace, ["tab"] = KeyCode.Tab,
        ["enter"] = KeyCode.Enter, ["esc"] = KeyCode.Esc, ["escape"] = KeyCode.Esc,
        ["space"] = KeyCode.Space,
        ["f1"] = KeyCode.F1, ["f2"] = KeyCode.F2, ["f3"] = KeyCode.F3, ["f4"] = KeyCode.F4,
        ["f5"] = KeyCode.F5, ["f6"] = KeyCode.F6, ["f7"] = KeyCode.F7, ["f8"] = KeyCode.F8,
        ["f9"] = KeyCode.F9, ["f10"] = KeyCode.F10, ["f11"] = KeyCode.F11, ["f12"] = KeyCode.F12,
    };

    /// <summary>Punctuation by name, as dive's defaults spell <c>ctrl+slash</c>.</summary>
    private static readonly Dictionary<string, char> Punctuation = new(StringComparer.OrdinalIgnoreCase)
    {
        ["slash"] = '/', ["backslash"] = '\\', ["tilde"] = '~', ["underscore"] = '_',
        ["comma"] = ',', ["plus"] = '+', ["minus"] = '-',
    };

    /// <summary>A comma-separated list of keys; a list of nothing binds nothing.</summary>
    /// <exception cref="FormatException">A key that does not parse.</exception>
    public static IReadOnlyList<Key> ParseAll(string spelling)
    {
        var keys = new List<Key>();
        // "," alone and a trailing "," are the comma key; elsewhere a comma separates keys
        var parts = spelling.Trim() == "," ? [","] : spelling.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0);
        foreach (var part in parts) keys.Add(Parse(part));
        return keys;
    }

    /// <summary>One key: modifiers <c>ctrl+</c>, <c>alt+</c>, <c>shift+</c> (any case) before a named key or one character.</summary>
    public static Key Parse(string spelling)
    {
        var s = spelling.Trim();
        bool ctrl = false, alt = false, shift = false;
        while (true)
        {
            int plus = s.IndexOf('+', 1 < s.Length ? 1 : 0);
            if (plus <= 0 || plus == s.Length - 1) break;
            var mod = s[..plus].ToLowerInvariant();
            if (mod == "ctrl" || mod == "control") ctrl = true;
            else if (mod == "alt" || mod == "meta") alt = true;
            else if (mod == "shift") shift = true;
            else throw new FormatException($"'{mod}' is not a modifier (ctrl, alt, shift)");
            s = s[(plus + 1)..];
        }
        Key key;
        if (Named.TryGetValue(s, out var code)) key = new Key(code);
        else if (Punctuation.TryGetValue(s, out var p)) key = new Key(p);
        else if (s.EnumerateRunes().Count() == 1)
        {
            var rune = s.EnumerateRunes().First();
            // a letter with ctrl/alt is its key (ctrl+A = ctrl+a); alone, its case says whether shift is held
            if (rune.IsAscii && char.IsAsciiLetter((char)rune.Value))
            {
                char c = (char)rune.Value;
                key = new Key((KeyCode)char.ToUpperInvariant(c));
                if (char.IsAsciiLetterUpper(c) && !ctrl && !alt) shift = true;
            }
            else key = new Key(rune.ToString());
        }
        else throw new FormatException($"'{s}' is not a key");
        if (shift) key = key.WithShift;
        if (ctrl) key = key.WithCtrl;
        if (alt) key = key.WithAlt;
        return key;
    }

    /// <summary>A key for the status bar and the help: <c>^F</c>, <c>q</c>, <c>N</c>, <c>Space</c>, <c>PgUp</c>, <c>M-x</c>.</summary>
    public static string Display(Key key)
    {
        var code = key.NoCtrl.NoAlt.NoShift.KeyCode;
        string? named = code switch
        {
            KeyCode.CursorUp => "Up",
            KeyCode.CursorDown => "Down",
            KeyCode.CursorLeft => "Left",
            KeyCode.CursorRight => "Right",
            KeyCode.PageUp => "PgUp",
            KeyCode.PageDown => "PgDn",
            KeyCode.Space => "Space",
            KeyCode.Tab => "Tab",
            KeyCode.Enter => "Enter",
            KeyCode.Esc => "Esc",
            KeyCode.Home => "Home",
            KeyCode.End => "End",
            KeyCode.Backspace => "Backspace",
            KeyCode.Delete => "Delete",
            KeyCode.Insert => "Insert",
            >= KeyCode.F1 and <= KeyCode.F12 => "F" + (code - KeyCode.F1 + 1),
            _ => null,
        };
        string name;
        if (named is not null) name = (key.IsShift ? "Shift+" : "") + named;
        else if (code is >= KeyCode.A and <= KeyCode.Z)
        {
            // ^A as dive and every terminal write it; a letter alone (or with alt) in its case
            char letter = (char)code;
            name = key.IsCtrl || key.IsShift ? letter.ToString() : char.ToLowerInvariant(letter).ToString();
        }
        else name = char.ConvertFromUtf32((int)code);
        return (key.IsCtrl ? "^" : "") + (key.IsAlt ? "M-" : "") + name;
    }
}
