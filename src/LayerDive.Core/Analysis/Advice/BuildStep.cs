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
        // a RUN with build arguments (|N K=V ... CMD): a value may be a token, whatever shell follows; never shown
        if (body.StartsWith('|')) return "RUN " + WithoutArgumentValues(body);
        if (run)
        {
            if (body.StartsWith(Shell, StringComparison.Ordinal)) return "RUN " + body[Shell.Length..].Trim();
            return s;
        }
        return s;
    }

    /// <summary>
    /// The command of <c>|N K=V ... CMD</c> (the shell dropped when it is <c>/bin/sh -c</c>): the build
    /// arguments are not in the Dockerfile's line, and a value may be a token.
    /// </summary>
    private static string WithoutArgumentValues(string body)
    {
        int at = body.IndexOf(' ');
        if (at < 0 || !int.TryParse(body.AsSpan(1, at - 1), out int count)) return "";
        for (int i = 0; i < count && at < body.Length; i++)
        {
            int eq = body.IndexOf('=', at);
            if (eq < 0) return "";
            // a value ends at the next argument (NAME=) or at the command (a path or the exec form)
            at = i + 1 < count ? NextArgument(body, eq + 1) : NextCommand(body, eq + 1);
        }
        var command = body[Math.Min(at, body.Length)..].Trim();
        return command.StartsWith(Shell, StringComparison.Ordinal) ? command[Shell.Length..].Trim() : command;
    }

    private static int NextArgument(string body, int from)
    {
        for (int i = from; i < body.Length; i++)
            if (body[i] == ' ' && i + 1 < body.Length && System.Text.RegularExpressions.Regex.IsMatch(body.AsSpan(i + 1), @"^[A-Za-z_][A-Za-z0-9_]*="))
                return i;
        return body.Length;
    }

    private static int NextCommand(string body, int from)
    {
        for (int i = from; i < body.Length; i++)
            if (body[i] == ' ' && i + 1 < body.Length && body[i + 1] is '/' or '[')
                return i;
        return body.Length;
    }

    /// <summary>The command of a RUN line, or null for any other.</summary>
    public static string? RunCommand(string line) => line.StartsWith("RUN ", StringComparison.Ordinal) ? line[4..].Trim() : null;

    /// <summary>True for a COPY or ADD line.</summary>
    public static bool IsCopy(string line) => line.StartsWith("COPY ", StringComparison.Ordinal) || line.StartsWith("ADD ", StringComparison.Ordinal);
}
