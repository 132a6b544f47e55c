namespace LayerDive.Tests.Support;

/// <summary>The layerdive command run in-process, with its exit code and both outputs.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

public static class Tool
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = LayerDive.Cli.CommandLine.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>ImageLoader.Load with the test's cancellation token.</summary>
public static class Images
{
    public static LayerDive.Core.Model.ImageModel Load(string path, LayerDive.Core.Analysis.LoadOptions? options = null) =>
        LayerDive.Core.Analysis.ImageLoader.Load(path, options ?? new(), TestContext.Current.CancellationToken);
}
