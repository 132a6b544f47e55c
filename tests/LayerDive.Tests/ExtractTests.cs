using LayerDive.Core.Loading;
using LayerDive.Core.Analysis;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>Extraction (Ctrl+E, <c>layerdive extract</c>) writes the merged tree's bytes, only under the named folder.</summary>
public sealed class ExtractTests
{
    /// <summary>A destination that fills up is the destination's fault, said as such: not a damaged layer.</summary>
    [Fact]
    public void A_full_destination_is_its_own_error_not_the_layers()
    {
        if (Environment.UserName != "root" || !Scripts.OnPath("mount"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root");
            Assert.Skip("a small tmpfs to fill needs root");
        }
        using var dir = new TempDir();
        Assert.Equal(0, Scripts.Exec("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.Path).ExitCode);
        try
        {
            // the alpine image's /bin (busybox, about 800 kB) cannot fit in 64 kB
            var r = Tool.Run("extract", Paths.Public("fanal__test_testdata_alpine-311.tar.gz"), "/bin", "--output", dir.Path);
            Assert.Equal(2, r.ExitCode);
            var line = Assert.Single(r.StderrLines);
            Assert.Contains("No space left on device", line);
            Assert.DoesNotContain("layer 0", line);
            Assert.Empty(dir.Listing()); // the staging folder went with the failure
        }
        finally
        {
            Scripts.Exec("umount", dir.Path);
        }
    }

    [Fact]
    public void A_directory_is_written_as_the_merged_tree_has_it()
    {
        using var dir = new TempDir();
        var r = Tool.Run("extract", Paths.Sample, "/etc", "--output", dir.Path);
        Assert.Equal(0, r.ExitCode);
        // from SampleImage: motd as layer 5 rewrote it; etc/app as layer 3 re-created it and layer 4 copied config.json in
        Assert.Equal("Welcome to the LayerDive sample.\nbe nice\n", File.ReadAllText(dir.File("etc/motd")));
        Assert.Equal(["config.json", "site.json"], Directory.GetFiles(dir.File("etc/app")).Select(Path.GetFileName).Order());
        Assert.Equal("extracted 5 files (182 B), 2 directories, 0 symlinks to " + dir.Path, r.StdoutLines[0]);
    }

    [Fact]
    public void An_earlier_layer_hardlinks_and_symlinks()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Tool.Run("extract", Paths.Sample, "/", "--output", dir.Path, "--layer", "1").ExitCode);
        Assert.Equal(20000, new FileInfo(dir.File("var/cache/apt/archives/app_1.0_amd64.deb")).Length); // deleted by layer 2
        Assert.Equal("sh", new FileInfo(dir.File("bin/bash")).LinkTarget);
        using var top = new TempDir();
        Assert.Equal(0, Tool.Run("extract", Paths.Sample, "/usr/lib", "--output", top.Path).ExitCode);
        Assert.Equal(File.ReadAllBytes(top.File("lib/app/libapp.so")), File.ReadAllBytes(top.File("lib/libapp.so.1")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(top.File("lib/app/libapp.so")));
    }

    [Fact]
    public void Nothing_is_written_through_a_link_that_leads_out_of_the_folder()
    {
        using var dir = new TempDir();
        using var outside = new TempDir();
        var target = dir.File("out");
        Directory.CreateDirectory(target);
        File.CreateSymbolicLink(Path.Combine(target, "etc"), outside.Path); // a trap in the folder the user named
        var r = Tool.Run("extract", Paths.Sample, "/etc", "--output", target);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("would be written through the link", Assert.Single(r.StderrLines));
        Assert.Empty(outside.Listing());
        Assert.Throws<LayerDive.Core.ImageException>(() => Extractor.Safe(dir.Path, "../escape"));
    }

    [Fact]
    public void Ctrl_E_asks_for_a_folder_and_extracts_the_selected_path()
    {
        using var dir = new TempDir();
        using var withExtract = new UiHarness(Paths.Sample, extract: true);
        withExtract.Press(Key.Tab);
        while (withExtract.Window.Tree.Current!.Node.Path != "etc") withExtract.Press(Key.CursorDown);
        withExtract.Press(Key.E.WithCtrl);
        Assert.Contains("Extract to:", withExtract.Lines[^1]);
        withExtract.Type(dir.Path).Press(Key.Enter);
        // the explorer shows layer 0: /etc then holds motd, os-release and passwd, motd before layer 5 rewrote it
        Assert.Contains("extracted /etc: 3 files", withExtract.Lines[^1]);
        Assert.Equal("Welcome to the LayerDive sample.\n", File.ReadAllText(dir.File("etc/motd")));
    }
}
