using System.CommandLine;
using System.CommandLine.Completions;

namespace LayerDive.Cli;

/// <summary>
/// Shell completion: <c>layerdive completion bash|zsh|fish</c> prints a script that asks the command
/// itself what completes the line (System.CommandLine's <c>[suggest:POSITION]</c> directive), so
/// commands, options, option values and local image archives complete from the one definition.
/// </summary>
internal static class Completion
{
    public const string ImageDescription = "The image: an archive or OCI layout, - for standard input, a name in Docker or Podman, or a registry reference";

    private static readonly string[] ArchiveEndings = [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.bz2"];

    /// <summary>An IMAGE argument whose completions are the archives and folders beside the word typed.</summary>
    public static Argument<T> Image<T>(Argument<T> argument)
    {
        argument.CompletionSources.Add(context => LocalImages(context.WordToComplete));
        // help names an argument by its completions when it has no help name: the working folder's files
        argument.HelpName ??= argument.Name;
        return argument;
    }

    private static IEnumerable<CompletionItem> LocalImages(string word)
    {
        string folder = word.Contains('/') ? word[..(word.LastIndexOf('/') + 1)] : "";
        string prefix = word[folder.Length..];
        string directory = folder.Length == 0 ? "." : folder;
        if (!Directory.Exists(directory)) yield break;
        IEnumerable<string> entries;
        try { entries = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var name in entries)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || (name.StartsWith('.') && !prefix.StartsWith('.'))) continue;
            var full = Path.Combine(directory, name);
            if (Directory.Exists(full)) yield return new CompletionItem(folder + name + "/");
            else if (ArchiveEndings.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase))) yield return new CompletionItem(folder + name);
        }
    }

    public static Command Create(TextWriter stdout)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var cmd = new Command("completion", "Print a completion script: source <(layerdive completion bash); zsh: layerdive completion zsh > \"${fpath[1]}/_layerdive\"; fish: layerdive completion fish | source") { shell };
        cmd.SetAction(p =>
        {
            stdout.Write(p.GetValue(shell) switch
            {
                "zsh" => Zsh,
                "fish" => Fish,
                _ => Bash,
            });
            return CommandLine.ExitOk;
        });
        return cmd;
    }

    private const string Bash = """
        # layerdive completion for bash: source <(layerdive completion bash)
        _layerdive_complete() {
            local IFS=$'\n' item
            local line=${COMP_LINE:0:$COMP_POINT} cur=${COMP_WORDS[COMP_CWORD]}
            COMPREPLY=()
            # the command's own suggestions, those that start with the word typed
            for item in $(layerdive "[suggest:${#line}]" "$line" 2>/dev/null); do
                [[ $item == "$cur"* ]] && COMPREPLY+=("$item")
            done
            # a folder completes on into its contents
            if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then compopt -o nospace 2>/dev/null; fi
        }
        complete -o default -F _layerdive_complete layerdive

        """;

    private const string Zsh = """
        #compdef layerdive
        # layerdive completion for zsh: layerdive completion zsh > "${fpath[1]}/_layerdive"
        _layerdive() {
            local -a items
            items=("${(@f)$(layerdive "[suggest:${#LBUFFER}]" "$LBUFFER" 2>/dev/null)}")
            items=(${(M)items:#${PREFIX}*})
            compadd -S '' -- ${items:#*/}
            compadd -S '' -q -- ${(M)items:#*/}
        }
        compdef _layerdive layerdive

        """;

    private const string Fish = """
        # layerdive completion for fish: layerdive completion fish | source
        function __layerdive_complete
            set -l line (commandline -cp)
            set -l word (commandline -ct)
            layerdive "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null | string match -- "$word*"
        end
        complete -c layerdive -f -a '(__layerdive_complete)'

        """;
}
