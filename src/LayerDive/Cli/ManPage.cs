using System.CommandLine;
using System.CommandLine.Completions;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive man</c> (hidden): the manual page <c>layerdive.1</c> in roff, written from the command
/// definitions themselves (every visible command, its arguments, its options with their aliases and
/// descriptions), so the page the release archive ships cannot drift from what the executable accepts.
/// The sections no definition carries (environment, exit status, files) are written here, from docs/cli.md.
/// </summary>
internal static class ManPage
{
    public static Command Create(RootCommand root, CliContext context)
    {
        var cmd = new Command("man", "Print the manual page layerdive.1 (roff), made from the command definitions: layerdive man > layerdive.1; man -l layerdive.1") { Hidden = true };
        cmd.SetAction(_ =>
        {
            context.Out.Write(Render(root, Version, Date(context.GetEnvironment("SOURCE_DATE_EPOCH"))));
            return CommandLine.ExitOk;
        });
        return cmd;
    }

    private static string Version =>
        typeof(ManPage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    /// <summary>The page's date: SOURCE_DATE_EPOCH (the reproducible-builds convention) when set, else today.</summary>
    private static string Date(string? epoch) =>
        (long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds) : DateTimeOffset.UtcNow).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Render(RootCommand root, string version, string date)
    {
        var w = new StringBuilder();
        void Line(string roff) => w.Append(roff).Append('\n');
        string name = root.Name;

        Line($".TH {Escape(name.ToUpperInvariant())} 1 \"{date}\" \"LayerDive {Escape(version)}\" \"User Commands\"");
        Line(".SH NAME");
        // the root's description reads "LayerDive: what it does."; NAME wants "layerdive \- what it does"
        var summary = (root.Description ?? "").Trim().TrimEnd('.');
        if (summary.IndexOf(": ", StringComparison.Ordinal) is > 0 and var colon && !summary[..colon].Contains(' ')) summary = summary[(colon + 2)..];
        Line($"{Escape(name)} \\- {Escape(summary)}");

        Line(".SH SYNOPSIS");
        Line(Synopsis(name, root));
        foreach (var sub in Visible(root.Subcommands))
        {
            Line(".br");
            Line(Synopsis(name, sub));
        }

        Line(".SH DESCRIPTION");
        Line(Escape(root.Description ?? ""));
        foreach (var a in Visible(root.Arguments))
            Item(w, $"\\fI{Escape(ArgumentName(a))}\\fR", a.Description);

        Line(".SH COMMANDS");
        foreach (var sub in Visible(root.Subcommands))
            Command(w, name, sub);

        var recursive = Visible(root.Options).Where(o => o.Recursive).ToList();
        Line(".SH OPTIONS");
        Line(".SS Options of every command");
        foreach (var o in recursive) Option(w, o);
        Line(".SS Options of " + Escape(name) + " [\\fI" + string.Join(" ", Visible(root.Arguments).Select(a => Escape(ArgumentName(a)))) + "\\fR]");
        foreach (var o in Visible(root.Options).Where(o => !o.Recursive)) Option(w, o);

        w.Append(Fixed);
        return w.ToString();
    }

    /// <summary>One line: the program, the command, [options] (every command takes the shared ones), its arguments.</summary>
    private static string Synopsis(string program, Command cmd)
    {
        var words = new List<string> { $"\\fB{Escape(program)}\\fR" };
        if (cmd is not RootCommand) words.Add($"\\fB{Escape(cmd.Name)}\\fR");
        words.Add("[\\fIoptions\\fR]");
        foreach (var a in Visible(cmd.Arguments))
        {
            string arg = $"\\fI{Escape(ArgumentName(a))}\\fR" + (a.Arity.MaximumNumberOfValues > 1 ? "\\&..." : "");
            words.Add(a.Arity.MinimumNumberOfValues == 0 ? $"[{arg}]" : arg);
        }
        return string.Join(" ", words);
    }

    private static void Command(StringBuilder w, string program, Command cmd)
    {
        w.Append(".TP\n").Append(Synopsis(program, cmd)).Append('\n');
        w.Append(Escape(cmd.Description ?? "")).Append('\n');
        var arguments = Visible(cmd.Arguments).ToList();
        var options = Visible(cmd.Options).ToList();
        if (arguments.Count + options.Count > 0)
        {
            w.Append(".RS\n");
            foreach (var a in arguments)
                Item(w, $"\\fI{Escape(ArgumentName(a))}\\fR", a.Description);
            foreach (var o in options)
                Option(w, o);
            w.Append(".RE\n");
        }
        foreach (var sub in Visible(cmd.Subcommands))
            Command(w, program + " " + cmd.Name, sub);
    }

    private static void Option(StringBuilder w, Option o)
    {
        // the long name first, as --help shows it, then the aliases
        var names = new[] { o.Name }.Concat(o.Aliases.Order(StringComparer.Ordinal)).Select(n => $"\\fB{Escape(n)}\\fR");
        string head = string.Join(", ", names);
        if (ValueName(o) is { } value) head += " \\fI" + Escape(value) + "\\fR";
        string? description = o.Description;
        if (o.HasDefaultValue && o.ValueType != typeof(bool) && o.GetDefaultValue() is { } d && description is not null
            && !description.Contains("default", StringComparison.OrdinalIgnoreCase) && Convert.ToString(d, CultureInfo.InvariantCulture) is { Length: > 0 } shown)
            description += $" (default: {shown})";
        Item(w, head, description);
    }

    /// <summary>How the value is named: the accepted values where the definition lists them, else its help name, else none for a switch.</summary>
    private static string? ValueName(Option o)
    {
        if (o.Arity.MaximumNumberOfValues == 0 || o.ValueType == typeof(bool)) return null;
        var accepted = o.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
        if (accepted.Count > 0) return string.Join("|", accepted);
        var type = Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType;
        return o.HelpName ?? (type == typeof(int) || type == typeof(long) ? "N" : "VALUE");
    }

    private static void Item(StringBuilder w, string head, string? description)
    {
        w.Append(".TP\n").Append(head).Append('\n');
        w.Append(Escape(description ?? "")).Append('\n');
    }

    private static string ArgumentName(Argument a) => a.HelpName ?? a.Name;

    private static IEnumerable<T> Visible<T>(IEnumerable<T> symbols) where T : Symbol => symbols.Where(s => !s.Hidden);

    /// <summary>Text as roff prints it: backslashes and hyphens escaped, a line never starting as a request, non-ASCII as \[uXXXX].</summary>
    internal static string Escape(string text)
    {
        var s = new StringBuilder(text.Length + 16);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value == '\\') s.Append("\\e");
            else if (rune.Value == '-') s.Append("\\-");
            else if (rune.Value == '\n') s.Append(' ');
            else if (rune.Value < 32) continue;
            else if (rune.Value < 128) s.Append((char)rune.Value);
            else s.Append($"\\[u{rune.Value:X4}]");
        }
        // a line starting with . or ' would be read as a request
        if (s.Length > 0 && s[0] is '.' or '\'') s.Insert(0, "\\&");
        return s.ToString();
    }

    // What no command definition says: from docs/cli.md (exit codes, CI mode, configuration), docs/sources.md
    // (where images are found) and the variables the code reads.
    private const string Fixed = """
        .SH ENVIRONMENT
        .TP
        .B CI
        \fBtrue\fR, \fB1\fR or \fByes\fR turns CI mode on, as \fB\-\-ci\fR does.
        .TP
        .B DOCKER_HOST\fR, \fBDOCKER_CONTEXT\fR, \fBDOCKER_CONFIG\fR, \fBDOCKER_TLS_VERIFY\fR, \fBDOCKER_CERT_PATH
        Where the Docker Engine is found, as the docker command finds it: \fBDOCKER_HOST\fR, then \fBDOCKER_CONTEXT\fR, then the current context of \fI~/.docker/config.json\fR (or \fB$DOCKER_CONFIG\fR), then the default socket. The Docker CLI's configuration also gives registry credentials.
        .TP
        .B CONTAINER_HOST
        Podman's API (else \fI$XDG_RUNTIME_DIR/podman/podman.sock\fR, then \fI/run/podman/podman.sock\fR, else the \fBpodman image save\fR command).
        .TP
        .B REGISTRY_AUTH_FILE
        A containers-auth.json file with registry credentials (also read: \fI$XDG_RUNTIME_DIR/containers/auth.json\fR).
        .TP
        .B NO_COLOR
        No colour, as \fB\-\-no\-color\fR.
        .TP
        .B DIVE_*
        dive's configuration keys (the key upper-cased, \fB.\fR and \fB\-\fR as \fB_\fR, e.g. \fBDIVE_KEYBINDING_QUIT\fR); they win over the configuration files, and the options over both.
        .TP
        .B LAYERDIVE_THEME\fR, \fBLAYERDIVE_LANGUAGE\fR, \fBLAYERDIVE_VIEWER_LIMIT
        LayerDive's own configuration keys (\fBlayerdive.theme\fR, ...), as \fBDIVE_*\fR are dive's.
        .TP
        .B LAYERDIVE_REGISTRY_TIMEOUT
        Seconds any one wait on a registry may last (default 30).
        .TP
        .B LAYERDIVE_ENGINE_TIMEOUT
        Seconds an engine's JSON answer may take to arrive whole (default 60).
        .TP
        .B LAYERDIVE_STORE_WAIT
        Seconds to wait for a podman/buildah store's writer to let go of its lock (default 30).
        .TP
        .B LAYERDIVE_MANAGED_ZSTD
        \fB1\fR decodes zstd layers with the managed decoder built in instead of the system's libzstd.so.1 (which is optional: without it the managed decoder is used).
        .TP
        .B LAYERDIVE_MANAGED_GZIP
        \fB1\fR decodes gzip layers with the runtime's GZipStream instead of the member-by-member inflater.
        .TP
        .B LAYERDIVE_STATS
        \fB1\fR prints the run's wall and CPU time and peak memory on stderr.
        .TP
        .B LAYERDIVE_DEBUG
        Set (and not \fB0\fR), an unexpected failure ends with its stack trace instead of one line.
        .SH EXIT STATUS
        .TP
        .B 0
        Done; in CI mode, every rule passed.
        .TP
        .B 1
        CI mode: a rule failed.
        .TP
        .B 2
        The image, the configuration or the arguments could not be used. The reason is one line on stderr:
        \fBlayerdive: error:\fR \fIIMAGE\fR\fB: layer\fR \fIN\fR \fB(sha256:\fR...\fB):\fR what went wrong, and where.
        .SH FILES
        .TP
        .I .dive\-ci
        The CI rules (YAML, \fBrules.lowestEfficiency\fR, \fBrules.highestWastedBytes\fR, \fBrules.highestUserWastedPercent\fR), read from the working directory unless \fB\-\-ci\-config\fR names another file.
        .TP
        .I ./.dive.yaml\fR, \fI./.dive/config.yaml\fR, \fI~/.dive.yaml\fR, \fI$XDG_CONFIG_HOME/dive/config.yaml\fR, \fI$XDG_CONFIG_DIRS/dive/config.yaml
        dive's configuration, read after the file \fB\-\-config\fR names; the first file to set a key wins. LayerDive's own keys live under \fBlayerdive:\fR.
        .TP
        .I ~/.docker/config.json
        The Docker CLI's contexts and registry credentials (\fBauths\fR, \fBcredHelpers\fR, \fBcredsStore\fR).
        .TP
        .I ~/.docker/cli\-plugins/docker\-layerdive
        The link \fBlayerdive install\-docker\-plugin\fR makes, so that \fBdocker layerdive\fR \fIIMAGE\fR works.
        .SH SEE ALSO
        .BR docker (1),
        .BR podman (1),
        .BR skopeo (1),
        .BR umoci (1);
        dive, \%https://github.com/wagoodman/dive
        
        """;
}
