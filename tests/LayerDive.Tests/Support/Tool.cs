namespace LayerDive.Tests.Support;

/// <summary>The layerdive command run in-process, with its exit code and both outputs.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

public static class Tool
{
    /// <summary>Runs layerdive as a user's shell would, but with no CI variable: CI sets CI=true, which means CI mode.</summary>
    public static CliResult Run(params string[] args) => RunWith(new Dictionary<string, string>(), null, args);

    /// <summary>Runs layerdive with exactly <paramref name="environment"/> (and PATH/HOME from the process) in <paramref name="workingDirectory"/>.</summary>
    public static CliResult RunWith(IReadOnlyDictionary<string, string> environment, string? workingDirectory, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        string? Env(string name) => environment.TryGetValue(name, out var v) ? v : name is "PATH" or "HOME" or "LAYERDIVE_CACHE" ? Environment.GetEnvironmentVariable(name) : null;
        var context = new LayerDive.Cli.CliContext(stdout, stderr, Env, workingDirectory ?? Environment.CurrentDirectory);
        int code = LayerDive.Cli.CommandLine.Run(args, context);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>ImageLoader.Load with the test's cancellation token.</summary>
public static class Images
{
    public static LayerDive.Core.Model.ImageModel Load(string path, LayerDive.Core.Loading.LoadOptions? options = null) =>
        LayerDive.Core.Loading.ImageLoader.Load(path, options ?? new(), TestContext.Current.CancellationToken);
}

/// <summary>Keeps every progress report of a load (reports come from the load's threads).</summary>
public sealed class ProgressLog(List<LayerDive.Core.Loading.LoadProgress> reports) : IProgress<LayerDive.Core.Loading.LoadProgress>
{
    public void Report(LayerDive.Core.Loading.LoadProgress value)
    {
        lock (reports) reports.Add(value);
    }
}
