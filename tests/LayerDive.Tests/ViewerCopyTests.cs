using System.Diagnostics;
using System.Text;
using LayerDive.Ui.Explorer;
using LayerDive.Ui.Viewer;
using Terminal.Gui.Input;

namespace LayerDive.Tests;

/// <summary>
/// The viewer on large files. A 110 MB one is copied whole and paged from the copy. A file far larger
/// than its image (issue 25: a 10 GB file of zeros in a 10 MB image wrote 10.5 GB into $TMPDIR in 40 s,
/// froze the screen and ignored Ctrl+C): the copy runs while the window takes keys, shows how far it
/// has come, stops at the viewer's limit (the first part is shown, and the viewer says the rest is
/// not), and Esc or Ctrl+C stops it. The disk a copy takes is read from /proc/self/fd: it has no name,
/// only an open file.
/// </summary>
public sealed class ViewerCopyTests(ViewerCopyTests.ZeroImage image) : IClassFixture<ViewerCopyTests.ZeroImage>
{
    /// <summary>2 GiB of zeros and a small text file in one gzip layer (a few MB on disk), made once for the class.</summary>
    public sealed class ZeroImage : IDisposable
    {
        public const long Size = 2L << 30;
        public const string Small = "hello from the small file\n";
        private readonly TempDir _dir = new();

        public ZeroImage()
        {
            Path = _dir.File("zeros.docker.tar");
            ZeroFileImage.Write(Path, "data/zeros", Size, "data/small.txt", Small);
        }

        public string Path { get; }

        public void Dispose() => _dir.Dispose();
    }

    /// <summary>The bytes of the files this process holds open under <paramref name="folder"/>, named or not.</summary>
    private static long HeldUnder(string folder)
    {
        long total = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                // "/tmp/x/layerdive-view-... (deleted)": a file that has no name keeps its blocks while it is open
                if (new FileInfo(fd).LinkTarget is not { } target || !target.StartsWith(folder + "/", StringComparison.Ordinal)) continue;
                // the descriptor itself (not a new open: the copy is locked against those), its length by fstat
                using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(int.Parse(Path.GetFileName(fd)), ownsHandle: false);
                total += RandomAccess.GetLength(handle);
            }
            catch (IOException) { } // a descriptor closed meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return total;
    }

    private static void WaitFor(Func<bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new Xunit.Sdk.XunitException($"{what}: not within 60 s");
            Thread.Sleep(10);
        }
    }

    private static UiHarness OpenAt(string image, string path, string spool, ExplorerSettings? settings = null)
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("the copy's disk is read from /proc/self/fd (Linux)");
        var ui = new UiHarness(image, height: 30, settings: settings, spoolFolder: spool);
        ui.Press(Key.Tab).Type("/" + path).Press(Key.Enter);
        Assert.Equal(path, ui.Window.Tree.Current!.Node.Path);
        return ui;
    }

    [Fact]
    public void A_file_longer_than_the_limit_shows_its_first_part_and_says_the_rest_is_not_shown()
    {
        using var spool = new TempDir();
        using var ui = OpenAt(image.Path, "data/zeros", spool.Path);
        long limit = ViewerController.DefaultLimit;
        long most = 0;
        ui.Send(Key.Enter);
        WaitFor(() =>
        {
            most = Math.Max(most, HeldUnder(spool.Path));
            ui.Tick();
            return !ui.ViewModel.Viewer.IsCopying;
        }, "the viewer opens");
        // the copy holds the limit's bytes, no more, and has no name in the folder
        Assert.Equal(limit, HeldUnder(spool.Path));
        Assert.True(most <= limit, $"{most} bytes held while copying");
        Assert.Empty(spool.Listing());
        // zeros are binary: hex; the title says that only the first part is shown (256 MiB = 268 MB of 2.1 GB, in go-humanize's units)
        Assert.Contains("00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|", ui.Screen);
        Assert.Contains("/data/zeros as of layer 0 · only its first 268 MB of 2.1 GB are shown", ui.Screen);
        // End goes to the end of what is shown: the copy's last row, then the note of what is not
        ui.Press(Key.End);
        Assert.Contains("0ffffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|", ui.Screen);
        Assert.Contains("[the rest of the file, 1.9 GB, is not shown: the viewer copies at most 268 MB of a file", ui.Screen);
        // closing the viewer lets the copy go
        ui.Press(Key.Esc);
        Assert.Equal(InputMode.Normal, ui.ViewModel.Mode);
        Assert.Equal(0, HeldUnder(spool.Path));
    }

    [Fact]
    public void Esc_and_Ctrl_C_stop_a_copy_while_the_explorer_goes_on()
    {
        using var spool = new TempDir();
        // a limit as large as the file: the whole 2 GiB would be copied
        using var ui = OpenAt(image.Path, "data/zeros", spool.Path, new ExplorerSettings { ViewerLimit = ZeroImage.Size });
        bool quit = false;
        ui.ViewModel.QuitRequested += () => quit = true;
        foreach (var stop in new[] { Key.Esc, Key.C.WithCtrl })
        {
            ui.Send(Key.Enter);
            // the viewer shows how far the copy has come, and the window goes on drawing
            WaitFor(() => ui.Tick().Screen.Contains("Copying /data/zeros from layer 0: ") && HeldUnder(spool.Path) > 0, "the progress");
            Assert.Contains(" of 2.1 GB", ui.Lines.First(l => l.Contains("Copying /data/zeros")));
            Assert.Contains("Esc, ^C: stop copying", ui.Screen);
            Assert.True(ui.ViewModel.Viewer.IsCopying);
            ui.Send(stop);
            Assert.False(ui.ViewModel.Viewer.IsCopying, $"{stop} did not stop the copy");
            Assert.Equal(InputMode.Normal, ui.ViewModel.Mode);
            Assert.Contains("stopped copying /data/zeros", ui.Lines[^1]);
            // the copy stops, and the disk it took is given back
            WaitFor(() => HeldUnder(spool.Path) == 0, "the copy's file closed");
        }
        Assert.False(quit); // Ctrl+C stopped the copy, not the explorer
        // the explorer goes on: the small file beside opens
        ui.Type("/small").Press(Key.Enter, Key.Enter);
        Assert.Contains("   1 │ hello from the small file", ui.Screen);
        ui.Press(Key.Esc, Key.C.WithCtrl);
        Assert.True(quit); // with no copy under way, Ctrl+C quits as before
    }

    /// <summary>A 100 MB file in a layer: the viewer opens it, pages it both ways and finds a line near its end; nothing holds it whole.</summary>
    [Fact]
    public void A_100_MB_file_opens_and_pages_from_its_layer()
    {
        const int lines = 2_000_000; // 55 bytes a line: 110 MB
        static string Line(int i) => $"{i:D9} the quick brown fox jumps over the lazy dog {i % 7}";
        using var dir = new TempDir();
        var big = dir.File("big.docker.tar");
        WriteBigImage(big, "data/big.log", lines, Line);
        using var ui = new UiHarness(big, height: 30);
        ui.Press(Key.Tab);
        ui.Type("/big.log");
        ui.Press(Key.Enter, Key.Enter);
        Assert.Contains("   1 │ " + Line(0), ui.Screen);
        ui.Press(Key.End);
        Assert.Contains($"{lines} │ {Line(lines - 1)}", ui.Screen);
        ui.Type("/" + Line(lines - 1000)[..9]);
        ui.Press(Key.Enter);
        Assert.Equal(lines - 1000, ui.Pager.Match);
        ui.Press(Key.Home, Key.PageDown);
        Assert.Contains(Line(ui.Pager.Top), ui.Screen);
        Assert.True(ui.Pager.Top > 0);
        // the spooled copy is the file's bytes: its line count is the count written
        Assert.Equal(lines, ui.Pager.Content.KnownCount);
        // and it has no name: nothing is left in the temporary folder, even if the process is killed now
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"layerdive-view-{Environment.ProcessId}-*"));
    }

    /// <summary>A docker-archive with one uncompressed layer holding a generated text file, written as it is generated.</summary>
    private static void WriteBigImage(string path, string name, int lines, Func<int, string> line)
    {
        var layerPath = path + ".layer";
        using (var layer = File.Create(layerPath))
        using (var tar = new System.Formats.Tar.TarWriter(layer, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, name[..name.IndexOf('/')] + "/") { Mode = (UnixFileMode)0x1ED });
            var data = Path.Combine(Path.GetDirectoryName(path)!, "big.data");
            using (var w = new StreamWriter(data, false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" })
                for (int i = 0; i < lines; i++) w.WriteLine(line(i));
            using (var content = File.OpenRead(data))
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1A4, DataStream = content });
            File.Delete(data);
        }
        string diffId;
        using (var l = File.OpenRead(layerPath)) diffId = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(l));
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["{{diffId}}"]},"history":[{"created_by":"RUN generate big.log"}]}""");
        var configName = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(config)) + ".json";
        var manifest = Encoding.UTF8.GetBytes($$"""[{"Config":"{{configName}}","RepoTags":["big:latest"],"Layers":["layer.tar"]}]""");
        using (var outer = new System.Formats.Tar.TarWriter(File.Create(path), System.Formats.Tar.TarEntryFormat.Pax))
        {
            outer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream(manifest) });
            outer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, configName) { DataStream = new MemoryStream(config) });
            using var layer = File.OpenRead(layerPath);
            outer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "layer.tar") { DataStream = layer });
        }
        File.Delete(layerPath);
    }
}
