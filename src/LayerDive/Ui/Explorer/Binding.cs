using Terminal.Gui.Input;
using LayerDive.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// One key binding: the command it runs, the configuration key that rebinds it (dive's <c>keybinding.*</c>,
/// or LayerDive's own under <c>layerdive.keybinding.*</c>), the pane it works in, and its keys as dive
/// spells them; whether the status bar reminds of it.
/// </summary>
public sealed record Binding(UiCommand Command, string ConfigKey, Pane Pane, string Spelling, bool InStatusBar = true)
{
    /// <summary>The keys, parsed from <see cref="Spelling"/> (dive's: <c>ctrl+f, ctrl+slash</c>).</summary>
    public IReadOnlyList<Key> Keys { get; init; } = KeySpelling.ParseAll(Spelling);

    /// <summary>What the key does, in the chosen language.</summary>
    public string Action => UiText.Lookup(UiStrings.ResourceManager, "Key_" + Command);

    /// <summary>The status bar's label (null for the keys that need no reminder).</summary>
    public string? Short => InStatusBar ? UiText.Lookup(UiStrings.ResourceManager, "Short_" + Command) : null;

    /// <summary>The keys as the help lists them: <c>^F, ^/</c>.</summary>
    public string Shown => string.Join(", ", Keys.Select(KeySpelling.Display));

    /// <summary>The first key, as the status bar shows it (dive shows the first of a list).</summary>
    public string First => Keys.Count > 0 ? KeySpelling.Display(Keys[0]) : "";
}
