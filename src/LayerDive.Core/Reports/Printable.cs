using System.Text;

namespace LayerDive.Core.Reports;

/// <summary>
/// Text from an image (a step's command, a label, a name a message quotes) made safe to print: every
/// control character, C0 and C1 alike (ESC, CSI, a newline), is written as an escape, so an image
/// cannot drive the user's terminal or break a one-line message in two.
/// </summary>
internal static class Printable
{
    /// <summary>The text with its control characters escaped (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\xNN</c>); unchanged when it has none.</summary>
    public static string OneLine(string text)
    {
        int first = 0;
        while (first < text.Length && !char.IsControl(text[first])) first++;
        if (first == text.Length) return text;
        var sb = new StringBuilder(text.Length + 8).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
