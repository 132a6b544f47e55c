namespace LayerDive.Core.Analysis.Advice;

/// <summary>A layer's history entry as the Dockerfile line that made it.</summary>
public static class BuildStep
{
    private const string Nop = "/bin/sh -c #(nop) ", Shell = "/bin/sh -c ", BuildKit = " # buildkit";

    /// <summary>
    /// The Dockerfile line of a history's <c>created_by</c>: the legacy builder's <c>/bin/sh -c #(nop) </c>
    /// dropped from a metadata step or a COPY/ADD, its <c>/bin/sh -c CMD</c> written <c>RUN CMD</c>;
    /// BuildKit's <c>RUN /bin/sh -c CMD # buildkit</c> and <c>|N ARG=v /bin/sh -c CMD</c> (a RUN with
    /// build arguments) written <c>RUN CMD</c>; "" when the layer has no history.
    /// </summary>
    public static string Line(string createdBy)
    {
        var s = createdBy.Trim();
        if (s.EndsWith(BuildKit, StringComparison.Ordinal)) s = s[..^BuildKit.Length].TrimEnd();
        if (s.StartsWith(Nop, StringComparison.Ordinal)) return s[Nop.Length..].Trim();
        if (s.StartsWith(Shell, StringComparison.Ordinal)) return "RUN " + s[Shell.Length..].Trim();
        bool run = s.StartsWith("RUN ", StringComparison.Ordinal);
        var body = run ? s[4..].TrimStart() : s;
        if (run || body.StartsWith('|'))
        {
            int shell = body.IndexOf(Shell, StringComparison.Ordinal);
            if (shell >= 0 && (body.StartsWith('|') || shell == 0)) return "RUN " + body[(shell + Shell.Length)..].Trim();
            if (run) return s;
        }
        return s;
    }

    /// <summary>The command of a RUN line, or null for any other.</summary>
    public static string? RunCommand(string line) => line.StartsWith("RUN ", StringComparison.Ordinal) ? line[4..].Trim() : null;

    /// <summary>True for a COPY or ADD line.</summary>
    public static bool IsCopy(string line) => line.StartsWith("COPY ", StringComparison.Ordinal) || line.StartsWith("ADD ", StringComparison.Ordinal);
}
