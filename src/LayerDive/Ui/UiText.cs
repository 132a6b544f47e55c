using System.Globalization;
using System.Resources;

namespace LayerDive.Ui;

/// <summary>
/// The explorer's and the viewer's texts are read through the class MSBuild generates from
/// Resources/UiStrings*.resx (<c>UiStrings.Ui_SearchNoMatch</c>), so a key the code asks for and the file
/// lacks fails the build; they speak the language Core's texts speak (the UI culture
/// <see cref="Core.Text.Use"/> set from --lang, the configuration or LANG). This fills them in.
/// </summary>
public static class UiText
{
    /// <summary>A text's placeholders filled: numbers and dates as the invariant culture writes them, whatever the language.</summary>
    internal static string Fill(string template, params object?[] args) => string.Format(CultureInfo.InvariantCulture, template, args);

    /// <summary>A text whose key is data (a binding's command after a prefix), in the current language; the key itself when there is none.</summary>
    internal static string Lookup(ResourceManager resources, string key) => resources.GetString(key, CultureInfo.CurrentUICulture) ?? key;
}
