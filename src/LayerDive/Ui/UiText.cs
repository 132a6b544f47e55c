using System.Globalization;
using System.Resources;

namespace LayerDive.Ui;

/// <summary>
/// The explorer's and the viewer's texts, from Resources/UiStrings*.resx, in the language Core's texts
/// speak (the UI culture <see cref="Core.Text.Use"/> set from --lang, the configuration or LANG).
/// </summary>
public static class UiText
{
    private static readonly ResourceManager Strings = new("LayerDive.Resources.UiStrings", typeof(UiText).Assembly);

    public static string Get(string key) => Strings.GetString(key, CultureInfo.CurrentUICulture) ?? key;

    public static string Format(string key, params object?[] args) => string.Format(CultureInfo.InvariantCulture, Get(key), args);

    /// <summary>A text's placeholders filled: numbers and dates as the invariant culture writes them, whatever the language.</summary>
    internal static string Fill(string template, params object?[] args) => string.Format(CultureInfo.InvariantCulture, template, args);

    /// <summary>A text whose key is data (a binding's command after a prefix), in the current language; the key itself when there is none.</summary>
    internal static string Lookup(ResourceManager resources, string key) => resources.GetString(key, CultureInfo.CurrentUICulture) ?? key;
}
