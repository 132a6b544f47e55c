using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Merge;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Sources;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>The <c>layerdive</c> command: verbs, exit codes, and the one-line errors of docs/cli.md.</summary>
public static class CommandLine
{
    public const int ExitOk = 0;
    public const int ExitRuleFailed = 1;
    public const int ExitBadInput = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, new CliContext(stdout, stderr, Environment.GetEnvironmentVariable, Environment.CurrentDirectory,
            IsTerminal: !Console.IsOutputRedirected && !Console.IsInputRedirected) { RawOut = Console.OpenStandardOutput });

    public static int Run(string[] args, CliContext context)
    {
        if (args is [DockerPlugin.MetadataCommand])
        {
            context.Out.WriteLine(DockerPlugin.Metadata);
            return ExitOk;
        }
        if (DockerPlugin.Unwrap(args, context, out var unwrapped, out var plugin)) (args, context) = (unwrapped, plugin);
        var shared = new SharedOptions { Environment = context.GetEnvironment };
        var root = Root(context, shared);

        var parse = root.Parse(args);
        var culture = System.Globalization.CultureInfo.CurrentUICulture;
        Text.Use(Text.Choose(parse.Errors.Count == 0 ? parse.GetValue(shared.Lang) : null, context.GetEnvironment));
        try
        {
            return Invoke(parse, args, context);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentUICulture = culture; // an in-process run leaves its caller's language alone
        }
    }

    /// <summary>The command tree: the root (the explorer, CI mode) and every verb, as a run parses them and the manual page lists them.</summary>
    internal static RootCommand Root(CliContext context, SharedOptions shared)
    {
        var (stdout, stderr) = (context.Out, context.Error);
        var root = new RootCommand("LayerDive: look inside Docker/OCI images layer by layer, with a correct OverlayFS merge.");
        foreach (var o in shared.All) root.Options.Add(o);
        var imageArg = Completion.Image(new Argument<string?>("IMAGE") { Description = "An image: a name in Docker or Podman (nginx:1.27, docker://app:dev, podman://app), an archive (docker save, OCI archive, compressed or not), an OCI layout directory, a container (container://NAME), a podman/buildah store (containers-storage:[DRIVER@ROOT]NAME), or - for an archive on standard input; default: the bundled sample", Arity = ArgumentArity.ZeroOrOne });
        root.Arguments.Add(imageArg);
        var ci = new CiOptions();
        foreach (var o in ci.All) root.Options.Add(o);
        // dive's spellings: -v for the version; -i/--ignore-errors accepted, and changes nothing (dive stops on
        // file-tree path errors such as a whiteout for a missing path; LayerDive reports them as warnings)
        foreach (var version in root.Options.OfType<VersionOption>()) version.Aliases.Add("-v");
        root.Options.Add(new Option<bool>("--ignore-errors", "-i") { Description = "Accepted as dive accepts it; LayerDive never stops on what dive calls path errors (they are warnings)" });
        root.SetAction(p =>
        {
            var image = p.GetValue(imageArg) ?? Samples.DefaultImage();
            if (ci.Enabled(p, context))
                return CiCommand.Run(image, shared, ci, p, context);
            return Guard(image, stderr, img =>
            {
                var json = p.GetValue(ci.Json);
                if (json is null && context.IsTerminal)
                    return ExplorerCommand.Run(img, shared, p, context);
                if (json is null)
                {
                    if (!p.GetValue(shared.Quiet))
                        ErrorReport.Note(stderr, null, Strings.Cli_NoTerminalSummary);
                    return OverviewCommand.Run(img, shared, p, stdout, stderr);
                }
                var analysis = CiCommand.Analyse(img, shared, p, context, json);
                return OverviewCommand.Print(analysis.Model, stdout);
            });
        });

        root.Subcommands.Add(LsCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(HistoryCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(PlatformsCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(ExplainCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(AdviseCommand.Create(shared, context));
        root.Subcommands.Add(DiffCommand.Create(shared, context));
        root.Subcommands.Add(InspectCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(ExtractCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(CatCommand.Create(shared, context));
        root.Subcommands.Add(OverlayCommand.Create(shared, stdout, stderr));
        root.Subcommands.Add(ReportCommand.Create(shared, context));
        root.Subcommands.Add(CacheCommand.Create(shared, context));
        root.Subcommands.Add(ScanCommand.Create(shared, context));
        var install = new Command("install-docker-plugin", "Make 'docker layerdive IMAGE' work: link this executable into ~/.docker/cli-plugins");
        install.SetAction(_ => DockerPlugin.Install(context));
        root.Subcommands.Add(install);
        root.Subcommands.Add(Completion.Create(stdout));
        root.Subcommands.Add(BuildCommand.Create(analyseArgs => Invoke(root.Parse(analyseArgs), analyseArgs, context), context));
        root.Subcommands.Add(ManPage.Create(root, context));
        return root;
    }

    private static int Invoke(ParseResult parse, string[] args, CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Error);
        if (parse.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?" or "--version"))
        {
            foreach (var e in parse.Errors) ErrorReport.Error(stderr, null, e.Message);
            stderr.WriteLine(Strings.Cli_UsageHint);
            return ExitBadInput;
        }
        return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a command body, turning every failure into one line on stderr and exit code 2.</summary>
    internal static int Guard(string image, TextWriter stderr, Func<string, int> body)
    {
        try
        {
            return body(image);
        }
        catch (ImageException ex)
        {
            return Fail(ex.Describe());
        }
        catch (Ui.Explorer.SettingsException ex)
        {
            return Fail(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail(ex.Message);
        }
        catch (InvalidDataException ex)
        {
            // the data's fault by its type (a decoder's), where no reader placed it in a layer
            return Fail(Text.Fill(Strings.Cli_DamagedData, ex.Message));
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("LAYERDIVE_DEBUG") is null or "" or "0")
        {
            return Fail(Text.Fill(Strings.Cli_InternalError, ex.GetType().Name, ex.Message));
        }

        // one line, whatever bytes an image put in a name the message quotes
        int Fail(string message) => ErrorReport.Error(stderr, image, message);
    }

    /// <summary>Loads the image and prints the notes a user should see (which source, other images, warnings).</summary>
    internal static ImageModel Load(string image, SharedOptions shared, ParseResult p, TextWriter stderr, bool fileSha256 = false,
        IReadOnlyList<ILayerObserver>? observers = null, bool showProgress = false, string? platform = null)
    {
        using var load = Start(image, shared, p, stderr, fileSha256, observers, showProgress, platform);
        return load.Model;
    }

    /// <summary>Loads the image, keeping its source open for a second read (extraction); prints the notes.</summary>
    internal static ImageLoad Start(string image, SharedOptions shared, ParseResult p, TextWriter stderr, bool fileSha256 = false,
        IReadOnlyList<ILayerObserver>? observers = null, bool showProgress = false, string? platform = null)
    {
        using var progress = showProgress && !p.GetValue(shared.Quiet) ? new StderrProgress(image, stderr) : null;
        var options = shared.LoadOptions(p, fileSha256) with { Observers = observers ?? [], Progress = progress };
        if (!p.GetValue(shared.Quiet))
            options = options with { Source = options.Source with { Notice = text => { lock (stderr) ErrorReport.Note(stderr, image, text); } } };
        if (platform is not null) options = options with { Source = options.Source with { Platform = platform } };
        var load = ImageLoader.Start(image, options);
        try
        {
            load.Wait();
        }
        catch
        {
            load.Dispose();
            throw;
        }
        finally
        {
            progress?.Dispose();
        }
        var model = load.Model;
        if (!p.GetValue(shared.Quiet))
        {
            if (model.SourceNote is { } note)
                ErrorReport.Note(stderr, image, note);
            if (model.OtherImages.Count > 0)
                ErrorReport.Note(stderr, image, Text.Fill(Strings.Cli_OtherImages, model.Name, string.Join(", ", model.OtherImages)));
            const int max = 20;
            foreach (var problem in model.Problems.Take(max))
                ErrorReport.Warning(stderr, image, problem.ToString());
            if (model.Problems.Count > max)
                ErrorReport.Warning(stderr, image, Text.Fill(Strings.Cli_MoreWarnings, model.Problems.Count - max));
        }
        return load;
    }

    /// <summary>Checks a --layer value against the image; null = the top layer.</summary>
    internal static int LayerIndex(ImageModel model, int? requested)
    {
        int layer = requested ?? model.TopLayer; // -1 for an image without layers: the empty root
        if (requested is not null && (layer < 0 || layer > model.TopLayer))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Cli_NoSuchLayer, layer, model.Layers.Count, model.TopLayer));
        return layer;
    }
}
