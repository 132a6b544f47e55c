using System.Net;
using System.Text;
using System.Text.Json;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// Hides the secrets a client holds (a password, the user:password pair, identity and bearer tokens) in
/// text a peer sent before it is shown: a peer may echo what it received, as it is, URL- or JSON-encoded,
/// or in base64 at any alignment inside a longer base64 text (as in a Basic header).
/// </summary>
internal sealed class SecretScrubber
{
    /// <summary>Shorter forms are not hidden: three characters would match ordinary words.</summary>
    private const int MinLength = 4;
    private const string Hidden = "***";
    private readonly object _gate = new();
    private string[] _forms = [];

    public void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < MinLength) return;
        var forms = new HashSet<string>(StringComparer.Ordinal)
        {
            secret,
            Uri.EscapeDataString(secret),
            WebUtility.UrlEncode(secret),
            JsonEncodedText.Encode(secret).ToString(),
        };
        // whole, with its padding, as a header carries it; then the parts that survive any alignment
        forms.Add(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)));
        foreach (var b in Base64Forms(Encoding.UTF8.GetBytes(secret)))
        {
            forms.Add(b);
            forms.Add(b.Replace('+', '-').Replace('/', '_'));
        }
        lock (_gate)
            _forms = _forms.Concat(forms.Where(f => f.Length >= MinLength)).Distinct(StringComparer.Ordinal).OrderByDescending(f => f.Length).ToArray();
    }

    /// <summary>
    /// The base64 characters that depend on the secret alone, for each of the three alignments it may
    /// have inside a longer base64 text: after 0, 1 or 2 bytes, the first 0, 2 or 3 characters mix in
    /// what precedes it, and the last character of a partial group mixes in what follows.
    /// </summary>
    private static IEnumerable<string> Base64Forms(byte[] secret)
    {
        for (int before = 0; before < 3; before++)
        {
            var padded = new byte[before + secret.Length];
            secret.CopyTo(padded, before);
            var text = Convert.ToBase64String(padded);
            int skip = before switch { 0 => 0, 1 => 2, _ => 3 };
            int whole = padded.Length * 8 / 6;
            if (whole > skip) yield return text[skip..whole];
        }
    }

    public string Scrub(string text)
    {
        var forms = Volatile.Read(ref _forms);
        foreach (var f in forms)
            if (text.Contains(f, StringComparison.Ordinal)) text = text.Replace(f, Hidden, StringComparison.Ordinal);
        return text;
    }
}
