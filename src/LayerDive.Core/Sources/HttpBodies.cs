using LayerDive.Core.Sources.Registry;

namespace LayerDive.Core.Sources;

/// <summary>
/// The bodies of HTTP answers a source holds whole (a manifest, a token, an engine's JSON) and the
/// error texts it shows, read the one way every peer is read: bounded in size, bounded in time.
/// The caller says what a fault is called, so its message names the peer and what was asked.
/// </summary>
internal static class HttpBodies
{
    /// <summary>The part of an error answer read: a peer may send a page or a body without end.</summary>
    public const int MaxErrorText = 4 << 10;
    /// <summary>The characters of a peer's message shown, in one line ("..." where cut).</summary>
    public const int ShownErrorText = 200;

    /// <summary>
    /// A document's body, whole within <paramref name="timeout"/> after its headers (each read waits at most
    /// that long too), never more than <paramref name="limit"/> bytes held. A declared length past the limit
    /// is refused before a byte is read (<paramref name="tooLarge"/> gets it), a body that grows past it as
    /// it comes (<paramref name="tooLarge"/> gets null); a stall or a broken body is <paramref name="failed"/>
    /// with the reason, which names <paramref name="variable"/> when it is the time limit that ran out.
    /// </summary>
    public static byte[] ReadDocument(HttpResponseMessage response, int limit, TimeSpan timeout, string? variable,
        Func<long?, ImageException> tooLarge, Func<string, ImageException> failed, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > limit) throw tooLarge(declared);
        try
        {
            using var body = new TimedReadStream(response.Content.ReadAsStream(ct), timeout, whole: timeout, variable: variable);
            return CappedRead.All(body, limit, () => tooLarge(null));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw failed(ex.Message);
        }
    }

    /// <summary>
    /// The start of an error answer as text: the first <see cref="MaxErrorText"/> bytes that come within
    /// <paramref name="timeout"/> (what came before a stall or a break included; nothing when nothing came).
    /// </summary>
    public static string ReadErrorText(HttpResponseMessage response, TimeSpan timeout)
    {
        var buffer = new byte[MaxErrorText];
        int filled = 0;
        try
        {
            using var body = new TimedReadStream(response.Content.ReadAsStream(), timeout, whole: timeout);
            int n;
            while (filled < buffer.Length && (n = body.Read(buffer, filled, buffer.Length - filled)) > 0) filled += n;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException) { }
        return System.Text.Encoding.UTF8.GetString(buffer, 0, filled);
    }

    /// <summary>A peer's message in one line: its lines trimmed and joined by a space, cut to <see cref="ShownErrorText"/> characters.</summary>
    public static string OneLine(string text)
    {
        var line = string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length > ShownErrorText ? line[..ShownErrorText] + "..." : line;
    }
}
