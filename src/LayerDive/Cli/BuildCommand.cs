using System.CommandLine;
using System.Diagnostics;
using LayerDive.Core;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive build [docker build arguments]</c>, as <c>dive build</c>: builds with <c>docker build</c>
/// (<c>podman build</c> with <c>--source podman</c>), the image id written to a temporary
/// <c>--iidfile</c>, then opens the image as <c>layerdive IMAGE</c> would (the explorer, or CI mode).
/// LayerDive's own options (<c>--ci</c>, the rules, <c>--json</c>, ...) may stand anywhere; every
/// other argument goes to the build. A context with a Containerfile and no Dockerfile gets <c>-f</c>.
/// </summary>
internal static class BuildCommand
{
    public static Command Create(Func<string[], int> analyse, CliContext context)
    {
        var cmd = new Command("build", "Build with docker build (podman build with --source podman), then open the image as layerdive IMAGE does; other arguments go to the build")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        var args = new Argument<string[]>("ARGS") { Arity = ArgumentArity.ZeroOrMore, Description = "docker build's arguments (-t TAG, -f FILE, CONTEXT, ...)" };
        cmd.Arguments.Add(args);
        cmd.SetAction(p => Run(p, analyse, context));
        return cmd;
    }

    /// <summary>LayerDive's options of the root command that take a value, and those that do not, as they may follow <c>build</c>.</summary>
    private static readonly HashSet<string> OursWithValue = ["--ci-config", "--lowestEfficiency", "--lowest-efficiency", "--highestWastedBytes", "--highest-wasted-bytes",
        "--highestUserWastedPercent", "--highest-user-wasted-percent", "--metrics", "--json", "-j", "--ci-format", "--ci-output", "--source", "--lang", "--image", "--platform"];
    private static readonly HashSet<string> OursFlag = ["--ci", "--no-verify", "--quiet", "-q", "--no-color", "--insecure", "--ignore-errors", "-i"];

    private static int Run(ParseResult p, Func<string[], int> analyse, CliContext context)
    {
        // every token after "build", as typed: LayerDive's options apart, the rest for the build
        var tokens = p.Tokens.SkipWhile(t => t.Value != "build").Skip(1).Select(t => t.Value).ToList();
        var ours = new List<string>();
        var build = new List<string>();
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            var name = t.Split('=', 2)[0];
            if (OursFlag.Contains(t)) ours.Add(t);
            else if (OursWithValue.Contains(name))
            {
                ours.Add(t);
                if (!t.Contains('=') && i + 1 < tokens.Count) ours.Add(tokens[++i]);
            }
            else build.Add(t);
        }
        int source = ours.IndexOf("--source");
        bool podman = source >= 0 && source + 1 < ours.Count && ours[source + 1] == "podman";
        string engine = podman ? "podman" : "docker";
        AddContainerfile(build, context.WorkingDirectory);

        var iidFile = Path.Combine(Path.GetTempPath(), "layerdive-iid-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            context.Out.WriteLine(Strings.Build_Started);
            var psi = new ProcessStartInfo(engine) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = context.WorkingDirectory };
            psi.ArgumentList.Add("build");
            psi.ArgumentList.Add("--iidfile");
            psi.ArgumentList.Add(iidFile);
            foreach (var a in build) psi.ArgumentList.Add(a);
            foreach (var variable in new[] { "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_BUILDKIT", "CONTAINER_HOST", "PATH", "HOME" })
                if (context.GetEnvironment(variable) is { } value) psi.Environment[variable] = value;
            Process process;
            try
            {
                process = Process.Start(psi)!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return ErrorReport.Error(context.Error, "build", Text.Fill(Strings.Build_EngineNotInstalled, engine));
            }
            using (process)
            {
                // the build's own output goes to stderr: stdout stays the report's
                process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (context.Error) context.Error.WriteLine(e.Data); };
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (context.Error) context.Error.WriteLine(e.Data); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    return ErrorReport.Error(context.Error, "build", Text.Fill(Strings.Build_Failed, engine, process.ExitCode));
                }
            }
            var id = File.Exists(iidFile) ? File.ReadAllText(iidFile).Trim() : "";
            if (id.Length == 0)
            {
                return ErrorReport.Error(context.Error, "build", Text.Fill(Strings.Build_NoImageId, engine));
            }
            return analyse([$"{engine}://{id}", .. ours]);
        }
        finally
        {
            File.Delete(iidFile);
        }
    }

    /// <summary>Without -f, a context that has a Containerfile and no Dockerfile builds from the Containerfile (as podman does).</summary>
    private static void AddContainerfile(List<string> build, string workingDirectory)
    {
        if (build.Any(a => a is "-f" or "--file" || a.StartsWith("--file=", StringComparison.Ordinal) || a.StartsWith("-f", StringComparison.Ordinal) && a.Length > 2)) return;
        // the context: the last argument that is a folder (option values such as a tag are not)
        var contextDir = build.LastOrDefault(a => !a.StartsWith('-') && Directory.Exists(Path.GetFullPath(a, workingDirectory))) is { } last
            ? Path.GetFullPath(last, workingDirectory) : workingDirectory;
        if (File.Exists(Path.Combine(contextDir, "Dockerfile"))) return;
        var containerfile = Path.Combine(contextDir, "Containerfile");
        if (File.Exists(containerfile)) build.InsertRange(0, ["-f", containerfile]);
    }
}
