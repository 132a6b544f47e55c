namespace LayerDive.Cli;

/// <summary>Where a run reads and writes: its outputs, its environment, its working directory.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, Func<string, string?> GetEnvironment, string WorkingDirectory, bool IsTerminal = false)
{
    /// <summary>Standard output as bytes (<c>cat</c>: a file's bytes, unchanged); <see cref="Out"/> is flushed before it is opened.</summary>
    public Func<Stream>? RawOut { get; init; }
}
