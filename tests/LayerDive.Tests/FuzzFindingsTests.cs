using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>What the fuzzer found (FuzzTests), each as a named example built here.</summary>
public sealed class FuzzFindingsTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>
    /// LAYERDIVE_FUZZ_SEED=7, mutants 1843 and 1874: a ustar prefix field filled with random bytes made a
    /// name component of some 150 bytes with a newline in it. extract failed on it with the runtime's
    /// "path is too long" message, quoting the raw name, the newline splitting the error in two lines.
    /// A component longer than NAME_MAX is now skipped and named (escaped) in a note.
    /// </summary>
    [Fact]
    public void Extract_skips_a_name_longer_than_the_file_system_allows_and_says_so_in_one_line()
    {
        var longName = "x\n" + new string('n', 300);
        var path = _dir.File("long.tar");
        new ImageBuilder().Layer("names", l => l.Dir("d").File("d/" + longName, "long\n").File("d/short", "short\n")).WriteOciArchive(path);
        var output = _dir.File("out");
        var r = Tool.Run("extract", path, "/", "--output", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal($"layerdive: note: skipped /d/x\\x0a{new string('n', 36)}...{new string('n', 37)} (its name is longer than the file system's 255-byte limit)", Assert.Single(r.StderrLines));
        Assert.Equal("short\n", File.ReadAllText(Path.Combine(output, "d", "short")));
        Assert.Single(Directory.GetFiles(Path.Combine(output, "d")));
    }

    /// <summary>Whatever bytes a message quotes, the error is one line.</summary>
    [Fact]
    public void An_error_message_with_control_characters_is_one_line()
    {
        Assert.Equal("a\\nb\\tc\\x01d", LayerDive.Core.Reports.Printable.OneLine("a\nb\tc\u0001d"));
        Assert.Equal("plain", LayerDive.Core.Reports.Printable.OneLine("plain"));
    }

    public void Dispose() => _dir.Dispose();
}
