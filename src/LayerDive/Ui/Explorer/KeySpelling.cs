using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using LayerDive.Core;
using LayerDive.Core.Resources;

namespace LayerDive.Ui.Explorer;

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
            else throw new FormatException(Text.Fill(Strings.Settings_NotAModifier, mod));
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
        else throw new FormatException(Text.Fill(Strings.Settings_KeyUnknown, s));
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
