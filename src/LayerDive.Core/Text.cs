using System.Globalization;
using System.Resources;

namespace LayerDive.Core;

/// <summary>
/// The language of the texts people read (explanations, errors, the explorer): English, or Russian
/// (the course LayerDive teaches in), chosen by --lang or LANG. The texts themselves are read through
/// the classes MSBuild generates from Resources/Strings*.resx (<c>Strings.Registry_TokenRefused</c>),
/// in the current UI culture, so a key the code asks for and the file lacks fails the build.
/// </summary>
internal static class Text
{
    public static readonly string[] Languages = ["en", "ru"];

    /// <summary>A text's placeholders filled: numbers and dates as the invariant culture writes them, whatever the language.</summary>
    internal static string Fill(string template, params object?[] args) => string.Format(CultureInfo.InvariantCulture, template, args);

    /// <summary>A text whose key is data (an enum member's name after a prefix), in the current language; the key itself when there is none.</summary>
    internal static string Lookup(ResourceManager resources, string key) => resources.GetString(key, CultureInfo.CurrentUICulture) ?? key;

    /// <summary>The language asked for: --lang first, else LANG/LC_ALL/LC_MESSAGES ("ru_RU.UTF-8" is Russian), else English.</summary>
    public static string Choose(string? option, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(option)) return option;
        foreach (var name in new[] { "LC_ALL", "LC_MESSAGES", "LANG" })
            if (environment(name) is { Length: >= 2 } value)
                return value.StartsWith("ru", StringComparison.OrdinalIgnoreCase) ? "ru" : "en";
        return "en";
    }

    /// <summary>Makes <paramref name="language"/> the culture of the texts on this thread and the work it starts.</summary>
    public static void Use(string language) =>
        CultureInfo.CurrentUICulture = language == "ru" ? new CultureInfo("ru") : CultureInfo.InvariantCulture;
}
