using LayerDive.Core.Reports;

namespace LayerDive.Cli;

/// <summary>
/// The one writer of the lines that tell a user what stopped a run or what was odd:
/// <c>layerdive: error: SUBJECT: message</c> (a run that writes one exits 2), <c>layerdive: warning: ...</c>
/// and <c>layerdive: note: ...</c>. Each is one line whatever the text quotes: control characters are
/// escaped, so an image's bytes in a name cannot split a line or drive the terminal.
/// </summary>
internal static class ErrorReport
{
    /// <summary>Writes the error line and returns the exit code for it.</summary>
    public static int Error(TextWriter stderr, string? subject, string message)
    {
        Write(stderr, "error", subject, message);
        return CommandLine.ExitBadInput;
    }

    public static void Warning(TextWriter stderr, string? subject, string message) => Write(stderr, "warning", subject, message);

    public static void Note(TextWriter stderr, string? subject, string message) => Write(stderr, "note", subject, message);

    private static void Write(TextWriter stderr, string level, string? subject, string message) =>
        stderr.WriteLine(subject is null
            ? $"layerdive: {level}: {Printable.OneLine(message)}"
            : $"layerdive: {level}: {Printable.OneLine(subject)}: {Printable.OneLine(message)}");
}
