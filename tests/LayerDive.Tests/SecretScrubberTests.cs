using System.Text;
using LayerDive.Core.Sources.Registry;

namespace LayerDive.Tests;

/// <summary>
/// What a registry may echo of a secret, and what is left once it is hidden: checked by decoding every
/// run of base64 in the result at every alignment and looking for the secret's bytes in it (not by
/// computing the forms the scrubber hides).
/// </summary>
public sealed class SecretScrubberTests
{
    private const string Secret = "Hostile-Pa55word";

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void The_secret_inside_a_longer_base64_text_is_hidden_at_every_alignment(int before, bool urlSafe)
    {
        var scrubber = new SecretScrubber();
        scrubber.Add(Secret);
        foreach (var after in new[] { 0, 1, 2, 5 })
        {
            var bytes = Encoding.UTF8.GetBytes(new string('u', before) + Secret + new string('z', after));
            var b64 = Convert.ToBase64String(bytes);
            if (urlSafe) b64 = b64.TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.True(DecodesTo(b64, Secret), "the test's own text must hold the secret");
            var shown = scrubber.Scrub($"denied: Basic {b64} (try again)");
            Assert.False(DecodesTo(shown, Secret), $"'{shown}' still holds the secret ({before} bytes before, {after} after)");
            Assert.StartsWith("denied: Basic ", shown);
        }
    }

    [Fact]
    public void The_secret_as_it_is_URL_encoded_and_JSON_escaped_is_hidden_and_other_text_kept()
    {
        const string secret = "id/tok+en=\"Secret\"-12345";
        var scrubber = new SecretScrubber();
        scrubber.Add(secret);
        foreach (var form in new[] { secret, Uri.EscapeDataString(secret), System.Net.WebUtility.UrlEncode(secret), System.Text.Json.JsonEncodedText.Encode(secret).ToString() })
            Assert.Equal("refresh_token=*** rejected", scrubber.Scrub($"refresh_token={form} rejected"));
        Assert.Equal("nothing secret here: 401 unauthorized", scrubber.Scrub("nothing secret here: 401 unauthorized"));
    }

    /// <summary>Whether any run of base64 characters in <paramref name="text"/>, decoded from any of its first four characters, holds <paramref name="secret"/>.</summary>
    private static bool DecodesTo(string text, string secret)
    {
        var wanted = Encoding.UTF8.GetBytes(secret);
        foreach (System.Text.RegularExpressions.Match run in System.Text.RegularExpressions.Regex.Matches(text, "[A-Za-z0-9+/_-]+"))
        {
            var standard = run.Value.Replace('-', '+').Replace('_', '/');
            for (int skip = 0; skip < 4 && skip < standard.Length; skip++)
            {
                var part = standard[skip..];
                // a last partial group of 2 or 3 characters is padded, as its writer would have; a lone one carries no byte
                part = part.Length % 4 == 1 ? part[..^1] : part.PadRight((part.Length + 3) / 4 * 4, '=');
                if (part.Length == 0) continue;
                var decoded = Convert.FromBase64String(part);
                if (decoded.AsSpan().IndexOf(wanted) >= 0) return true;
            }
        }
        return false;
    }
}
