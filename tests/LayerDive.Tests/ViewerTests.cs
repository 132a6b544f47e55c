using System.Text;
using System.Text.Json;
using LayerDive.Samples;
using LayerDive.Ui.Explorer;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>
/// A file's content in the explorer and on stdout (issue 15, items 3, 4 and 6): the viewer (text with
/// line numbers, hex, a link's target, a deleted file's last content, the diff against the layer
/// below), <c>layerdive cat</c>, the Image Config view and the problems list. Expected contents are the
/// bytes the test put in the image; diffs are GNU diff's.
/// </summary>
public sealed class ViewerTests : IDisposable
{
    private static readonly string[] Notes = [.. Enumerable.Range(1, 30).Select(i => $"note {i}: the line as layer 0 wrote it")];
    private static readonly string[] NotesAfter = [.. Notes.Select((l, i) => i == 9 ? "note 10: rewritten by layer 1" : l), "note 31: appended by layer 1"];
    private static readonly byte[] Binary = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0, 0xff, 0x10];

    private readonly TempDir _dir = new();
    private readonly string _image;

    public ViewerTests()
    {
        _image = Path.Combine(_dir.Path, "viewer.oci.tar");
        Image().WriteOciArchive(_image);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The image these tests and <see cref="KeyBindingTests"/> open.</summary>
    internal static ImageBuilder Image() => new ImageBuilder()
        .Layer("ADD rootfs", l => l
            .Dir("bin").Dir("etc").Dir("usr").Dir("usr/share").Dir("var").Dir("var/log")
            .File("bin/sh", Binary, 0x1ED)
            .Symlink("bin/bash", "sh")
            .Symlink("bin/dangling", "/nowhere")
            .File("etc/motd", "hello\n")
            .File("usr/share/notes.txt", string.Join('\n', Notes) + "\n")
            .File("var/log/old.log", "old log line\n"))
        .Layer("RUN edit notes; rm old.log; chmod motd", l => l
            .Dir("usr").Dir("usr/share").File("usr/share/notes.txt", string.Join('\n', NotesAfter) + "\n")
            .Dir("var").Dir("var/log").Whiteout("var/log/old.log")
            .Dir("etc").File("etc/motd", "hello\n", 0x180))
        .Layer("RUN ln motd", l => l.Dir("etc").Hardlink("etc/motd.link", "etc/motd"));

    private UiHarness Open(int layer, string path)
    {
        var ui = new UiHarness(_image);
        ui.Press(Enumerable.Repeat(Key.CursorDown, layer).ToArray());
        ui.Press(Key.Tab);
        ui.Type("/" + path);
        ui.Press(Key.Enter);
        Assert.Equal(path, ui.Window.Tree.Current!.Node.Path);
        return ui;
    }

    [Fact]
    public void Enter_shows_a_text_file_as_of_the_selected_layer_with_line_numbers()
    {
        using (var ui = Open(0, "usr/share/notes.txt"))
        {
            ui.Press(Key.Enter);
            Assert.Equal(InputMode.Viewer, ui.ViewModel.Mode);
            Assert.Contains("/usr/share/notes.txt as of layer 0", ui.Screen);
            for (int i = 0; i < Notes.Length; i++) Assert.Contains($"{i + 1,4} │ {Notes[i]}", ui.Screen);
            Assert.DoesNotContain("appended", ui.Screen);
            ui.Press(Key.Esc);
            Assert.Equal(InputMode.Normal, ui.ViewModel.Mode);
            Assert.Contains("Current Layer Contents (layer 0)", ui.Screen);
        }
        using (var ui = Open(1, "usr/share/notes.txt"))
        {
            ui.Press(Key.Enter);
            Assert.Contains("/usr/share/notes.txt as of layer 1", ui.Screen);
            for (int i = 0; i < NotesAfter.Length; i++) Assert.Contains($"{i + 1,4} │ {NotesAfter[i]}", ui.Screen);
            // search within the file: "/", then n for the next match
            ui.Type("/note 3");
            ui.Press(Key.Enter);
            Assert.Equal(2, ui.Pager.Match); // "note 3:" is line 3
            ui.Press(Key.N);
            Assert.Equal(29, ui.Pager.Match); // "note 30:"
            ui.Press(Key.N);
            Assert.Equal(30, ui.Pager.Match); // "note 31:"
            ui.Press(Key.N.WithShift);
            Assert.Equal(29, ui.Pager.Match);
        }
    }

    [Fact]
    public void The_diff_key_shows_what_the_layer_changed_as_GNU_diff_does()
    {
        if (!Scripts.OnPath("diff")) Assert.Skip("GNU diff is not installed (diffutils)");
        var a = Path.Combine(_dir.Path, "a");
        var b = Path.Combine(_dir.Path, "b");
        File.WriteAllText(a, string.Join('\n', Notes) + "\n");
        File.WriteAllText(b, string.Join('\n', NotesAfter) + "\n");
        var (code, diff, _) = Scripts.Exec("diff", "-u", a, b);
        Assert.Equal(1, code); // diff's "they differ"
        var expected = diff.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToArray();

        using var ui = Open(1, "usr/share/notes.txt");
        ui.Press(Key.Enter, Key.Tab);
        Assert.Equal(UiCommand.ViewerDiff, ui.ViewModel.LastCommand);
        var lines = ui.Lines.Select(l => l.Trim('│').TrimEnd()).ToList();
        int first = lines.FindIndex(l => l.StartsWith("--- /usr/share/notes.txt (layer 0)", StringComparison.Ordinal));
        Assert.True(first >= 0, ui.Screen);
        Assert.StartsWith("+++ /usr/share/notes.txt (layer 1)", lines[first + 1]);
        Assert.Equal(expected, lines.Skip(first + 2).Take(expected.Length).ToArray());
        // coloured as a diff is: removed red, added green (the dark theme)
        Assert.Equal(Color.Red, ui.ColorOf("-note 10: the line as layer 0 wrote it"));
        Assert.Equal(Color.Green, ui.ColorOf("+note 10: rewritten by layer 1"));
        // and back to the content
        ui.Press(Key.Tab);
        Assert.Contains("  31 │ note 31: appended by layer 1", ui.Screen);
    }

    [Fact]
    public void A_change_of_mode_only_says_the_content_is_the_same_and_an_unmodified_file_has_no_diff()
    {
        using (var ui = Open(1, "etc/motd"))
        {
            ui.Press(Key.Enter, Key.Tab);
            Assert.Contains("the content is the same; what changed: Mode", ui.Screen);
        }
        using (var ui = Open(0, "etc/motd"))
        {
            ui.Press(Key.Enter, Key.Tab);
            Assert.Contains("layer 0 did not modify /etc/motd: there is no earlier version to compare", ui.Lines[^1]);
        }
    }

    [Fact]
    public void A_binary_file_is_shown_in_hex_and_x_switches_any_file()
    {
        using var ui = Open(0, "bin/sh");
        ui.Press(Key.Enter);
        // the bytes the test wrote: 16 to a line, the ASCII beside
        Assert.Contains("00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF............|", ui.Screen);
        Assert.Contains("00000010  03 00 3e 00 01 00 00 00  ff 10", ui.Screen);
        ui.Press(Key.Esc, Key.CursorUp);
        ui.Type("/motd");
        ui.Press(Key.Enter, Key.Enter, Key.X);
        Assert.Contains("00000000  68 65 6c 6c 6f 0a", ui.Screen); // "hello\n"
        ui.Press(Key.X);
        Assert.Contains("   1 │ hello", ui.Screen);
    }

    [Fact]
    public void A_symlink_shows_its_target_and_a_deleted_file_its_last_content_with_a_note()
    {
        using (var ui = Open(0, "bin/bash"))
        {
            ui.Press(Key.Enter);
            Assert.Contains("/bin/bash is a symbolic link → sh", ui.Screen);
            Assert.Contains($"it resolves to /bin/sh ({Binary.Length} B)", ui.Screen);
        }
        using (var ui = Open(0, "bin/dangling"))
        {
            ui.Press(Key.Enter);
            Assert.Contains("/bin/dangling is a symbolic link → /nowhere", ui.Screen);
            Assert.Contains("nowhere", ui.Lines.First(l => l.Contains("does not exist")));
        }
        using (var ui = Open(1, "var/log/old.log"))
        {
            // the layer that deleted it shows it (in red); its content is the one of layer 0
            ui.Press(Key.Enter);
            Assert.Contains("/var/log/old.log as of layer 1 · deleted in layer 1; its last content, from layer 0", ui.Screen);
            Assert.Contains("   1 │ old log line", ui.Screen);
        }
    }

    [Fact]
    public void Cat_prints_the_bytes_extract_writes()
    {
        (string Path, int? Layer, string Expect)[] cases =
        [
            ("usr/share/notes.txt", 0, "usr/share/notes.txt"),
            ("usr/share/notes.txt", null, "usr/share/notes.txt"),
            ("bin/sh", null, "bin/sh"),
            ("bin/bash", null, "bin/sh"), // a link is followed, as cat in the container follows it
            ("etc/motd.link", null, "etc/motd.link"), // a hardlink: its target's bytes
        ];
        foreach (var (path, layer, expect) in cases)
        {
            string[] layerArgs = layer is int n ? ["--layer", n.ToString()] : [];
            var (code, bytes, stderr) = Cat([_image, path, .. layerArgs]);
            Assert.True(code == 0, stderr);
            var folder = Path.Combine(_dir.Path, "x-" + Guid.NewGuid().ToString("N")[..8]);
            Assert.Equal(0, Tool.Run(["extract", _image, expect, "-o", folder, .. layerArgs]).ExitCode);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, Path.GetFileName(expect))), bytes); // extract writes the path's last name
        }
        Assert.Equal(Encoding.UTF8.GetBytes(string.Join('\n', NotesAfter) + "\n"), Cat([_image, "/usr/share/notes.txt"]).Stdout);
        Assert.Equal(Binary, Cat([_image, "bin/sh"]).Stdout);
    }

    [Fact]
    public void Cat_refuses_what_has_no_content_in_one_line()
    {
        foreach (var (args, says) in new (string[], string)[]
        {
            ([_image, "etc"], "/etc is a directory"),
            ([_image, "var/log/old.log"], "/var/log/old.log was deleted in layer 1 (asked for layer 2; its last content is in layer 0: --layer 0)"),
            ([_image, "no/such/file"], "no/such/file"),
            ([_image, "bin/dangling"], "/nowhere"),
            ([_image, "etc/motd", "--layer", "7"], "layer 7"),
        })
        {
            var (code, stdout, stderr) = Cat(args);
            Assert.Equal(2, code);
            Assert.Empty(stdout);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"layerdive: error: {_image}: ", line);
            Assert.Contains(says, line);
        }
        Assert.Equal(Encoding.UTF8.GetBytes("old log line\n"), Cat([_image, "var/log/old.log", "--layer", "0"]).Stdout);
    }

    [Fact]
    public void Cat_through_a_real_pipe_is_byte_identical()
    {
        // the built command, its stdout a pipe: what a script gets
        var script = $"{Scripts.Layerdive} cat {_image} bin/sh | od -An -tx1 | tr -s ' \\n' ' '";
        var (code, stdout, stderr) = Scripts.Exec("bash", "-c", script);
        Assert.True(code == 0, stderr);
        Assert.Equal(string.Join(' ', Binary.Select(b => b.ToString("x2"))), stdout.Trim());
    }

    /// <summary><c>layerdive cat</c> in-process, its stdout as bytes.</summary>
    private static (int Code, byte[] Stdout, string Stderr) Cat(string[] args)
    {
        var bytes = new MemoryStream();
        var stderr = new StringWriter { NewLine = "\n" };
        var context = new LayerDive.Cli.CliContext(TextWriter.Null, stderr, n => null, Environment.CurrentDirectory) { RawOut = () => new NonClosing(bytes) };
        int code = LayerDive.Cli.CommandLine.Run(["cat", .. args], context);
        return (code, bytes.ToArray(), stderr.ToString());
    }

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }

    [Theory]
    [InlineData("dive__.data_test-docker-image.tar")]
    [InlineData("jib__jib-core_src_integration-test_resources_core_busybox-docker.tar")]
    public void The_image_config_view_shows_every_field_of_the_config(string name)
    {
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        var image = Paths.Public(name);
        using var ui = new UiHarness(image);
        Assert.Contains("(i: image config)", ui.Screen);
        ui.Press(Key.I);
        Assert.Equal(UiCommand.Config, ui.ViewModel.LastCommand);
        Assert.Contains("Image config", ui.Screen);
        var shown = new List<string>();
        for (int i = 0; ui.Pager.Content.Line(i) is { } line; i++) shown.Add(line);
        // the config as the archive holds it, read by Python
        var (code, json, stderr) = Scripts.Exec("python3", ["-c", InspectTests.ReadConfig, image]);
        Assert.True(code == 0, stderr);
        using var config = JsonDocument.Parse(json);
        var root = config.RootElement;
        Assert.Contains($"Platform:      {root.GetProperty("os").GetString()}/{root.GetProperty("architecture").GetString()}", shown);
        if (root.TryGetProperty("created", out var created)) Assert.Contains($"Created:       {created.GetString()}", shown);
        var run = root.GetProperty("config");
        foreach (var env in run.GetProperty("Env").EnumerateArray()) Assert.Contains("  " + env.GetString(), shown);
        if (run.TryGetProperty("Cmd", out var cmd) && cmd.ValueKind == JsonValueKind.Array)
            Assert.Contains(shown, l => l.StartsWith("Cmd:", StringComparison.Ordinal) && cmd.EnumerateArray().All(c => l.Contains(c.GetString()!)));
        if (run.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object)
            foreach (var label in labels.EnumerateObject()) Assert.Contains($"  {label.Name}={label.Value.GetString()}", shown);
        foreach (var diffId in root.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray())
            Assert.Contains(shown, l => l.EndsWith(diffId.GetString()!, StringComparison.Ordinal));
        // the same lines as the inspect command
        Assert.Equal(Tool.Run("inspect", image).StdoutLines, shown.Where(l => l.Length > 0));
        ui.Press(Key.Q);
        Assert.False(ui.ViewModel.Viewer.IsOpen);
    }

    [Fact]
    public void The_problems_of_the_read_are_counted_in_the_image_details_and_listed_by_a_key()
    {
        var image = Path.Combine(_dir.Path, "odd.oci.tar");
        new ImageBuilder()
            .Layer("ADD", l => l.Dir("etc").File("etc/a", "a\n"))
            .Layer("RUN rm", l => l.Dir("etc").Whiteout("etc/never-there").Hardlink("etc/b", "etc/missing"))
            .WriteOciArchive(image);
        using var ui = new UiHarness(image);
        // two problems: the whiteout of a path no layer had, the hardlink to nothing
        Assert.Contains("Problems:   2  (!: list them; i: image config)", ui.Screen);
        ui.Press(new Key('!'));
        Assert.Contains("Problems found while reading: 2", ui.Screen);
        Assert.Contains("etc/never-there", ui.Screen);
        Assert.Contains("etc/missing", ui.Screen);
    }

    [Theory]
    [InlineData("dark", "Green", "Yellow", "Black")]
    [InlineData("light", "#006E00", "#003CB4", "White")]
    [InlineData("high-contrast", "BrightGreen", "BrightYellow", "Black")]
    public void Themes_colour_everything_and_NO_COLOR_still_wins(string theme, string added, string modified, string background)
    {
        var settings = new ExplorerSettings { Theme = theme };
        using (var ui = new UiHarness(_image, settings: settings))
        {
            var row = ui.AttributeOf("notes.txt");
            Assert.Equal(Color.Parse(added), row.Foreground);
            Assert.Equal(Color.Parse(background), row.Background);
            // the panes' own text has the theme's background too
            Assert.Equal(Color.Parse(background), ui.AttributeOf("Total size").Background);
            ui.Press(Key.CursorDown, Key.Tab);
            Assert.Equal(Color.Parse(modified), ui.ColorOf("notes.txt"));
            ui.Press(Key.CursorUp);
            Assert.Equal(Color.Parse(modified), ui.ColorOf("notes.txt"));
        }
        using (var ui = new UiHarness(_image, color: false, settings: settings))
        {
            // no colour for a change, whatever the theme: an added row is drawn as plain text is
            Assert.Equal(ui.AttributeOf("Total size"), ui.AttributeOf("notes.txt"));
            Assert.NotEqual(Color.Parse(added), ui.ColorOf("notes.txt"));
        }
    }

    /// <summary>The viewer on the bundled sample: its bytes as the sample's generator writes them, read back from its layer tars here.</summary>
    [Fact]
    public void On_the_sample_a_text_file_at_two_layers_a_binary_in_hex_and_a_diff()
    {
        byte[] Bytes(int layer, string name)
        {
            using var tar = new System.Formats.Tar.TarReader(new MemoryStream(SampleImage.Create().Layers[layer].ToTar()));
            while (tar.GetNextEntry() is { } e)
                if (e.Name == name && e.DataStream is { } data) { var ms = new MemoryStream(); data.CopyTo(ms); return ms.ToArray(); }
            throw new InvalidOperationException(name);
        }
        var motd0 = Encoding.UTF8.GetString(Bytes(0, "etc/motd")).TrimEnd('\n').Split('\n');
        var motd5 = Encoding.UTF8.GetString(Bytes(5, "etc/motd")).TrimEnd('\n').Split('\n');
        var library = Bytes(1, "usr/lib/app/libapp.so");
        void Open(UiHarness ui, int layer, string path)
        {
            ui.Press(Enumerable.Repeat(Key.CursorDown, layer).ToArray());
            ui.Press(Key.Tab);
            ui.Type("/" + path);
            ui.Press(Key.Enter, Key.Enter);
        }
        using (var ui = new UiHarness(Paths.Sample))
        {
            Open(ui, 0, "etc/motd");
            for (int i = 0; i < motd0.Length; i++) Assert.Contains($"{i + 1,4} │ {motd0[i]}", ui.Screen);
            Assert.DoesNotContain($"{motd0.Length + 1,4} │ ", ui.Screen);
        }
        using (var ui = new UiHarness(Paths.Sample))
        {
            Open(ui, 5, "etc/motd");
            for (int i = 0; i < motd5.Length; i++) Assert.Contains($"{i + 1,4} │ {motd5[i]}", ui.Screen);
            ui.Press(Key.Tab); // layer 5 modified it: the diff against layer 4's version (layer 0's bytes)
            foreach (var added in motd5.Except(motd0)) Assert.Contains("+" + added, ui.Screen);
            Assert.Contains($"@@ -1 +1,{motd5.Length} @@", ui.Screen);
        }
        using (var ui = new UiHarness(Paths.Sample))
        {
            Open(ui, 1, "libapp.so");
            var first = string.Join(' ', library[..8].Select(b => b.ToString("x2"))) + "  " + string.Join(' ', library[8..16].Select(b => b.ToString("x2")));
            Assert.Contains("00000000  " + first, ui.Screen);
        }
    }

    /// <summary>On a small terminal the help scrolls: every key and the rule of layer kinds can be read at 80x24.</summary>
    [Fact]
    public void The_help_scrolls_on_a_small_terminal()
    {
        using var ui = new UiHarness(Paths.Sample, width: 80, height: 24);
        ui.Press(new Key('?'));
        Assert.True(ui.ViewModel.HelpVisible);
        Assert.Contains(KeyMap.Defaults[0].Action, ui.Screen);
        ui.Press(Key.End);
        Assert.Contains("ctr = a container's read-write layer", ui.Screen); // the last line, below the first screen
        ui.Type("/extract");
        ui.Press(Key.Enter);
        Assert.Contains("^E", ui.Lines[ui.Find("extract the selected path").Row]);
        ui.Press(new Key('?'));
        Assert.False(ui.ViewModel.HelpVisible);
        Assert.Equal(InputMode.Normal, ui.ViewModel.Mode);
    }
}
