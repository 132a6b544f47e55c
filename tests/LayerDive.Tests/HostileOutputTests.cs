using System.Diagnostics;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// An image's own text (a step's command, a comment, a tag, a platform, a file name) reaches the user's
/// terminal and CI pages through every printer: escape sequences and newlines in it are written as
/// escapes, so a hostile image can neither drive the terminal nor add lines, and a file name cannot end
/// a Markdown code span or put raw HTML in a job summary.
/// </summary>
public sealed class HostileOutputTests
{
    // OSC (set the window title), ED (clear the screen), a newline that would forge a line, C1 CSI
    private const string Hostile = "echo \u001b]0;pwned\u0007 \u001b[2J\nFAKE LINE \u009b31m";

    private static ImageBuilder Image() => new ImageBuilder { Architecture = "amd64\u001b[5m" }
        .Layer("ADD file:base in / " + Hostile, l => l.Dir("etc").File("etc/a", "a\n"), comment: "comment " + Hostile)
        .Empty("CMD " + Hostile)
        .Layer("RUN " + Hostile, l => l.File("etc/b", "b\n"));

    private static void AssertNoControl(string output, string what)
    {
        var bad = output.Where(c => c != '\n' && char.IsControl(c)).Select(c => $"U+{(int)c:X4}").Distinct().ToList();
        Assert.True(bad.Count == 0, $"{what} printed control characters {string.Join(", ", bad)}:\n{output}");
    }

    [Fact]
    public void Every_printer_escapes_the_images_own_text()
    {
        using var dir = new TempDir();
        var path = dir.File("hostile.tar");
        Image().WriteDockerArchive(path, "evil\u001b[31m:latest");

        var history = Tool.Run("history", path);
        Assert.Equal(0, history.ExitCode);
        AssertNoControl(history.Stdout, "history");
        // a header and one row a step (three steps): the newline inside each command added none
        Assert.Equal(4, history.StdoutLines.Length);
        Assert.Contains("\\x1b]0;pwned\\x07 \\x1b[2J\\nFAKE LINE \\x9b31m", history.Stdout);

        foreach (var args in new[] { new[] { "platforms", path }, ["inspect", path], ["overlay", path], ["diff", path, path], [path] })
        {
            var r = Tool.Run(args);
            Assert.True(r.ExitCode == 0, $"{string.Join(' ', args)}: {r.Stderr}");
            AssertNoControl(r.Stdout, args[0]);
            AssertNoControl(r.Stderr, args[0]);
        }
        Assert.Contains("amd64\\x1b[5m", Tool.Run("platforms", path).Stdout);
        Assert.Contains("evil\\x1b[31m:latest", Tool.Run("overlay", path).Stdout);
        Assert.Contains("Platform:      linux/amd64\\x1b[5m", Tool.Run("inspect", path).StdoutLines);
    }

    [Fact]
    public void A_file_name_cannot_end_its_markdown_code_span_or_bring_html()
    {
        // GitHub's own renderer (cmark-gfm, with tables) decides what the job summary shows
        if (!Scripts.OnPath("cmark-gfm"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "cmark-gfm is not installed, though .ci/run installs it");
            Assert.Skip("cmark-gfm is not installed (apt-get install cmark-gfm)");
        }
        const string name = "x`y``<img src=x onerror=alert(1)>|z";
        var image = new ImageBuilder()
            .Layer("base", l => l.File(name, "12345678\n"))
            .Layer("again", l => l.File(name, "87654321\n")); // written twice: an inefficient file the table lists
        using var dir = new TempDir();
        var path = dir.File("md.tar");
        image.WriteOciArchive(path);
        var report = dir.File("summary.md");
        var r = Tool.Run(path, "--ci", "--ci-format", "markdown", "--ci-output", report);
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);

        var psi = new ProcessStartInfo("cmark-gfm", ["-e", "table", report]) { RedirectStandardOutput = true };
        using var cmark = Process.Start(psi)!;
        var html = cmark.StandardOutput.ReadToEnd();
        cmark.WaitForExit();
        Assert.DoesNotContain("<img", html);
        // the whole name, in one code element of a table cell, as HTML escapes it
        string escaped = ("/" + name).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
        Assert.Contains($"<td><code>{escaped}</code></td>", html);
    }
}
