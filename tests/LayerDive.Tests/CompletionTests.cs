using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>The bash completion script, loaded in a real bash and asked as bash asks it (COMP_LINE, COMP_POINT, COMP_WORDS).</summary>
public sealed class CompletionTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Theory]
    [InlineData("layerdive l", "ls")]
    [InlineData("layerdive ls --f", "--format")]
    [InlineData("layerdive ls --format ", "text tsv")]
    [InlineData("layerdive --source d", "docker docker-archive")]
    [InlineData("layerdive completion f", "fish")]
    [InlineData("layerdive d", "diff dive-test.tar")]
    [InlineData("layerdive di", "diff dive-test.tar")]
    [InlineData("layerdive dive", "dive-test.tar")]
    [InlineData("layerdive ls ima", "images/")]
    [InlineData("layerdive ls images/", "images/a.tar.gz images/layout/")]
    public void Bash_completes_commands_options_values_and_local_archives(string line, string expected)
    {
        if (!Scripts.OnPath("bash")) Assert.Skip("bash is not installed");
        // the folder a user completes in: an archive, a folder with one, a file that is no image
        File.Copy(Paths.Public("dive__.data_test-docker-image.tar"), _dir.File("dive-test.tar"));
        Directory.CreateDirectory(_dir.File("images/layout"));
        File.WriteAllText(_dir.File("images/a.tar.gz"), "");
        File.WriteAllText(_dir.File("notes.txt"), "");
        var bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        File.WriteAllText(Path.Combine(bin, "layerdive"), $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "layerdive.dll")}' \"$@\"\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Path.Combine(bin, "layerdive"), (UnixFileMode)0b111_101_101);
        var script = Tool.Run("completion", "bash");
        Assert.Equal(0, script.ExitCode);
        File.WriteAllText(_dir.File("layerdive.bash"), script.Stdout);
        const string ask = """
            source ./layerdive.bash
            COMP_LINE="$1"; COMP_POINT=${#1}
            read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            _layerdive_complete
            echo "${COMPREPLY[*]}"
            """;
        var (code, stdout, stderr) = Scripts.ExecIn(_dir.Path, "bash", new Dictionary<string, string> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") }, "-c", ask, "bash", line);
        Assert.True(code == 0, stderr);
        Assert.Equal(expected, stdout.Trim());
    }

    [Theory]
    [InlineData("zsh", "compdef _layerdive layerdive")]
    [InlineData("fish", "complete -c layerdive")]
    public void Zsh_and_fish_scripts_ask_the_same_directive(string shell, string registration)
    {
        var r = Tool.Run("completion", shell);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("[suggest:", r.Stdout);
        Assert.Contains(registration, r.Stdout);
    }

    /// <summary>Completions must not stand in for an argument's name in help (it listed the working folder's files).</summary>
    [Fact]
    public void Help_names_the_image_argument_not_the_files_that_complete_it()
    {
        File.WriteAllText(_dir.File("some-image.tar"), "");
        Directory.CreateDirectory(_dir.File("a-folder"));
        var r = Tool.RunWith(new Dictionary<string, string>(), _dir.Path, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.EndsWith(" [<IMAGE>] [command] [options]", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("  explain <IMAGE> <PATH>", StringComparison.Ordinal));
        Assert.DoesNotContain("some-image.tar", r.Stdout);
        Assert.DoesNotContain("a-folder", r.Stdout);
    }

    public void Dispose() => _dir.Dispose();
}
