using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using LayerDive.Cli;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// release/archive.sh, as a user meets its output: the archive verifies against SHA256SUMS, unpacks
/// into one folder with fixed owners and times, runs from an empty folder, and its manual page renders
/// with <c>man -l</c> without a warning and names every command the command definitions have.
/// </summary>
[Collection(nameof(SerialCollection))]
public sealed class ReleaseArchiveTests(ReleaseArchiveTests.Build build) : IClassFixture<ReleaseArchiveTests.Build>
{
    private static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    private static string Top => $"layerdive-{Version}-linux-x64";

    [Fact]
    public async Task The_archive_verifies_against_SHA256SUMS_and_is_one_folder_owned_by_root_at_the_commit_date()
    {
        var out1 = await build.Output;
        string archive = Path.Combine(out1, Top + ".tar.gz");
        Assert.True(File.Exists(archive), $"no {archive}");

        // sha256sum -c, the way a user checks a download, and the digest computed here
        var check = Scripts.ExecIn(out1, "sha256sum", null, "-c", "SHA256SUMS");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains($"{Top}.tar.gz: OK", check.Stdout);
        string digest = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive)));
        Assert.Contains($"{digest}  {Top}.tar.gz\n", File.ReadAllText(Path.Combine(out1, "SHA256SUMS")));

        // the members as Python's tarfile reads them: one top folder, root's numeric ids, one mtime (the commit's)
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed (apt-get install python3): it reads the archive's headers");
        var listing = Scripts.Exec("python3", "-c",
            "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]):\n print(m.name, m.uid, m.gid, m.uname or '-', oct(m.mode), m.mtime, m.type.decode(), sep='\\t')", archive);
        Assert.True(listing.ExitCode == 0, listing.Stderr);
        var rows = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        var names = rows.Select(r => r[0]).ToList();
        var expected = new List<string> { Top, $"{Top}/README.md", $"{Top}/completions", $"{Top}/completions/_layerdive", $"{Top}/completions/layerdive.bash",
            $"{Top}/completions/layerdive.fish", $"{Top}/layerdive", $"{Top}/layerdive.1", $"{Top}/samples", $"{Top}/samples/sample.oci.tar" };
        if (File.Exists(Path.Combine(Paths.RepoRoot, "LICENSE"))) expected.Add($"{Top}/LICENSE");
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Equal(names.Order(StringComparer.Ordinal), names); // written in name order
        string commitDate = Scripts.ExecIn(Paths.RepoRoot, "git", null, "log", "-1", "--format=%ct").Stdout.Trim();
        foreach (var r in rows)
        {
            Assert.True(r[1] == "0" && r[2] == "0", $"{r[0]}: uid {r[1]} gid {r[2]}");
            if (commitDate.Length > 0) Assert.True(r[5] == commitDate, $"{r[0]}: mtime {r[5]}, the commit's {commitDate}");
            string mode = r[6] == "5" || r[0] == $"{Top}/layerdive" ? "0o755" : "0o644";
            Assert.True(r[4] == mode, $"{r[0]}: mode {r[4]}, expected {mode}");
        }

        // made again from the same tree: the same bytes
        Assert.Equal(File.ReadAllText(Path.Combine(out1, "SHA256SUMS")), File.ReadAllText(Path.Combine(await build.SecondOutput, "SHA256SUMS")));
    }

    /// <summary>
    /// The runtime needs OpenSSL for every hash, and its crypto shim aborts the process where no libssl
    /// loads. The archive's executable in a root holding only what <c>ldd</c> names (glibc) and the
    /// sample: without OpenSSL the load is one line and exit 2, not an abort; with libssl and libcrypto
    /// copied in, the same command lists the sample.
    /// </summary>
    [Fact]
    public async Task Without_OpenSSL_it_says_so_in_one_line_instead_of_aborting()
    {
        if (Environment.UserName != "root")
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("not root (CI=true: .ci/run runs as root): a chroot needs root");
            Assert.Skip("not root: a chroot needs root");
        }
        using var dir = new TempDir();
        var unpack = Scripts.ExecIn(dir.Path, "tar", null, "-xzf", Path.Combine(await build.Output, Top + ".tar.gz"));
        Assert.True(unpack.ExitCode == 0, unpack.Stderr);
        string exe = Path.Combine(dir.Path, Top, "layerdive");
        string root = Path.Combine(dir.Path, "root");
        // the libraries the executable links, each at the path the loader looks for it
        var ldd = Scripts.Exec("ldd", exe);
        Assert.True(ldd.ExitCode == 0, ldd.Stderr);
        var linked = Regex.Matches(ldd.Stdout, @"(/\S+\.so[.\d]*)").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains(linked, l => l.Contains("libc.so"));
        Assert.DoesNotContain(linked, l => l.Contains("libssl"));
        foreach (var lib in linked) CopyInto(root, lib);
        File.Copy(exe, Path.Combine(root, "layerdive"));
        File.Copy(Paths.Sample, Path.Combine(root, "sample.oci.tar"));
        Directory.CreateDirectory(Path.Combine(root, "proc"));
        Directory.CreateDirectory(Path.Combine(root, "tmp"));
        Assert.Equal(0, Scripts.Exec("chmod", "1777", Path.Combine(root, "tmp")).ExitCode);
        var mount = Scripts.Exec("mount", "-t", "proc", "proc", Path.Combine(root, "proc"));
        Assert.True(mount.ExitCode == 0, mount.Stderr);
        try
        {
            var without = Scripts.Exec("chroot", root, "/layerdive", "ls", "/sample.oci.tar");
            Assert.Equal(2, without.ExitCode);
            var line = Assert.Single(without.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("layerdive: error: /sample.oci.tar: ", line);
            Assert.Contains("libssl", line);
            Assert.Equal("", without.Stdout);

            // the same root with OpenSSL: the check lets the load go on, and the hashes work
            var ssl = Scripts.Exec("sh", "-c", "ldconfig -p | sed -n 's/.*libssl.so.3 (libc6,x86-64) => //p;s/.*libcrypto.so.3 (libc6,x86-64) => //p'");
            var openssl = ssl.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
            Assert.True(openssl.Count == 2, $"libssl.so.3 and libcrypto.so.3 not found by ldconfig: {ssl.Stdout}{ssl.Stderr}");
            foreach (var lib in openssl) CopyInto(root, lib);
            var with = Scripts.Exec("chroot", root, "/layerdive", "ls", "/sample.oci.tar");
            Assert.True(with.ExitCode == 0, with.Stderr);
            Assert.Equal(Tool.Run("ls", Paths.Sample).Stdout, with.Stdout);
        }
        finally
        {
            Scripts.Exec("umount", Path.Combine(root, "proc"));
        }
    }

    /// <summary>Copies a library (its target, where it is a link) to the same path under <paramref name="root"/>.</summary>
    private static void CopyInto(string root, string library)
    {
        string target = Path.Combine(root, library.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(new FileInfo(library).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? library, target, overwrite: true);
    }

    [Fact]
    public async Task Unpacked_in_an_empty_folder_it_runs_and_carries_its_completions_readme_and_licence()
    {
        using var dir = new TempDir();
        var unpack = Scripts.ExecIn(dir.Path, "tar", null, "-xzf", Path.Combine(await build.Output, Top + ".tar.gz"));
        Assert.True(unpack.ExitCode == 0, unpack.Stderr);
        string folder = Path.Combine(dir.Path, Top);
        string exe = Path.Combine(folder, "layerdive");
        Assert.Equal("\u007fELF"u8.ToArray(), File.ReadAllBytes(exe)[..4]);

        var version = Scripts.ExecIn(dir.Path, exe, null, "--version");
        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.StartsWith(Version, version.Stdout.Trim());

        // the bundled sample beside the executable, listed as the runtime build lists it
        var ls = Scripts.ExecIn(folder, exe, null, "ls", "samples/sample.oci.tar");
        var expected = Tool.Run("ls", Paths.Sample);
        Assert.True(ls.ExitCode == 0, ls.Stderr);
        Assert.Equal(expected.Stdout, ls.Stdout);
        Assert.NotEmpty(ls.Stdout);
        // named no image and not on a terminal, it summarises the sample it carries (samples/ beside it)
        var summary = Scripts.ExecIn(dir.Path, exe, null);
        Assert.True(summary.ExitCode == 0, summary.Stderr);
        Assert.Equal(Tool.Run().Stdout, summary.Stdout);

        // what `layerdive completion SHELL` prints, and valid in the shell it is for where that shell is here
        foreach (var (shell, file) in new[] { ("bash", "layerdive.bash"), ("zsh", "_layerdive"), ("fish", "layerdive.fish") })
        {
            string script = File.ReadAllText(Path.Combine(folder, "completions", file));
            Assert.False(string.IsNullOrWhiteSpace(script), file);
            Assert.Equal(Tool.Run("completion", shell).Stdout, script);
            if (Scripts.OnPath(shell))
            {
                var syntax = Scripts.Exec(shell, "-n", Path.Combine(folder, "completions", file));
                Assert.True(syntax.ExitCode == 0, $"{shell} -n {file}: {syntax.Stderr}");
            }
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(Paths.RepoRoot, "README.md")), File.ReadAllBytes(Path.Combine(folder, "README.md")));
        if (File.Exists(Path.Combine(Paths.RepoRoot, "LICENSE")))
            Assert.Equal(File.ReadAllBytes(Path.Combine(Paths.RepoRoot, "LICENSE")), File.ReadAllBytes(Path.Combine(folder, "LICENSE")));
    }

    [Fact]
    public async Task The_man_page_renders_without_warnings_and_names_every_command_and_option()
    {
        if (!Scripts.OnPath("man") || !Scripts.OnPath("groff"))
        {
            const string why = "man and groff are not installed (apt-get install man-db groff); .ci/run installs them";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
            Assert.Skip(why);
        }
        using var dir = new TempDir();
        var unpack = Scripts.ExecIn(dir.Path, "tar", null, "-xzf", Path.Combine(await build.Output, Top + ".tar.gz"), $"{Top}/layerdive.1");
        Assert.True(unpack.ExitCode == 0, unpack.Stderr);
        string page = Path.Combine(dir.Path, Top, "layerdive.1");

        // groff with every warning on, and man -l as a user runs it
        var lint = Scripts.Exec("groff", "-man", "-ww", "-z", "-t", page);
        Assert.True(lint.ExitCode == 0 && lint.Stderr.Length == 0, "groff -man -ww: " + lint.Stderr);
        var man = Scripts.Exec("man", new Dictionary<string, string> { ["MANWIDTH"] = "80", ["MANPAGER"] = "cat", ["PAGER"] = "cat", ["LANG"] = "C.UTF-8" },
            "--warnings=w", "-l", page);
        Assert.True(man.ExitCode == 0 && man.Stderr.Length == 0, "man -l: " + man.Stderr);
        // words a line broke at a hyphen joined again
        string text = Regex.Replace(man.Stdout, @"(?<=\S)[-\u2010]\n\s*", "-");
        foreach (var heading in new[] { "NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT", "EXIT STATUS", "FILES", "SEE ALSO" })
            Assert.Matches(new Regex($"^{heading}$", RegexOptions.Multiline), text);
        Assert.Contains($"LayerDive {Version}", text);

        // every visible command and option, from the definitions themselves
        var root = CommandLine.Root(new CliContext(TextWriter.Null, TextWriter.Null, _ => null, dir.Path), new SharedOptions());
        var commands = root.Subcommands.Where(c => !c.Hidden).ToList();
        Assert.NotEmpty(commands);
        foreach (var c in commands)
        {
            Assert.Matches(new Regex($@"^\s+layerdive {Regex.Escape(c.Name)}\b", RegexOptions.Multiline), text);
            foreach (var o in c.Options.Where(o => !o.Hidden))
                Assert.Contains(o.Name, text);
        }
        foreach (var o in root.Options.Where(o => !o.Hidden))
            foreach (var name in o.Aliases.Append(o.Name))
                Assert.Contains(name, text);
        foreach (var hidden in root.Subcommands.Where(c => c.Hidden))
            Assert.DoesNotMatch(new Regex($@"^\s+layerdive {Regex.Escape(hidden.Name)}\b", RegexOptions.Multiline), text);
        // the exit codes of docs/cli.md
        foreach (var code in new[] { CommandLine.ExitOk, CommandLine.ExitRuleFailed, CommandLine.ExitBadInput })
            Assert.Matches(new Regex($@"^\s+{code}\s", RegexOptions.Multiline), text[text.IndexOf("EXIT STATUS", StringComparison.Ordinal)..]);
    }

    /// <summary>release/archive.sh run once into a temporary folder (and again into a second one, for reproducibility), with the native build of <see cref="NativeBuild"/>.</summary>
    public sealed class Build : IDisposable
    {
        private readonly NativeBuild _native = new();
        private readonly TempDir _dir = new();
        private readonly Lazy<Task<string>> _first, _second;

        public Build()
        {
            _first = new(() => Run("out"));
            _second = new(async () => { await _first.Value; return await Run("again"); });
        }

        public Task<string> Output => _first.Value;

        public Task<string> SecondOutput => _second.Value;

        private async Task<string> Run(string name)
        {
            string exe = await _native.Command;
            string output = Path.Combine(_dir.Path, name);
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Paths.RepoRoot };
            psi.ArgumentList.Add(Path.Combine(Paths.RepoRoot, "release", "archive.sh"));
            psi.ArgumentList.Add(output);
            psi.Environment["LAYERDIVE_PUBLISH_DIR"] = Path.GetDirectoryName(exe)!;
            psi.Environment.Remove("CI");
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            if (p.ExitCode != 0) throw new InvalidOperationException($"release/archive.sh failed ({p.ExitCode}):\n{await stdout}{stderr}");
            return output;
        }

        public void Dispose()
        {
            _native.Dispose();
            _dir.Dispose();
        }
    }
}
