using System.CommandLine;
using LayerDive.Core.Analysis.Advice;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive advise IMAGE [--format text|json|markdown]</c>: what to change in the build, finding by
/// finding, with the bytes each change saves (secrets first, then the largest saving).
/// </summary>
internal static class AdviseCommand
{
    public static Command Create(SharedOptions shared, CliContext context)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var format = new Option<string>("--format", "-f") { Description = "text, json or markdown", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "markdown");
        var cmd = new Command("advise", "What to change in the build, with the bytes each change saves: removed-later files, copy-ups, rewrites, package caches, build-only content, duplicates, secrets") { image, format };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, context.Error, img =>
        {
            // the source stays open: a file whose name may be a secret is read back for its content marker
            using var load = CommandLine.Start(img, shared, p, context.Error, showProgress: true);
            var advice = Advisor.Analyze(load.Model, load);
            var stdout = context.Out;
            switch (p.GetValue(format))
            {
                case "json":
                    using (var json = new JsonOutput(stdout)) AdviceReport.WriteJson(json.Writer, advice);
                    break;
                case "markdown":
                    AdviceReport.WriteMarkdown(load.Model, advice, stdout);
                    break;
                default:
                    AdviceReport.WriteText(load.Model, advice, stdout);
                    break;
            }
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
