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
}
