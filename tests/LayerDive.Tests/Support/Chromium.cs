using System.Diagnostics;
using System.IO.Compression;

namespace LayerDive.Tests.Support;

/// <summary>
/// Debian's chromium, headless: a page's screenshot and its DOM after its scripts ran. Each run has a
/// profile folder of its own and ends within a minute (the process tree it started is killed after).
/// </summary>
public static class Chromium
{
    private static readonly Lazy<(string? Path, string? Why)> Found = new(Find);

    /// <summary>The browser, or the test skips saying why (under CI=true, where .ci/run installs it, it fails).</summary>
    public static string Require()
    {
        var (path, why) = Found.Value;
        if (path is not null) return path;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why + " (CI=true: .ci/run installs chromium)");
        Assert.Skip(why!);
        return null!;
    }

    private static (string?, string?) Find()
    {
        var path = new[] { "chromium", "chromium-browser" }
            .SelectMany(n => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => System.IO.Path.Combine(d, n)))
            .FirstOrDefault(File.Exists);
        if (path is null) return (null, "chromium is not installed (apt-get install chromium)");
        // it must start and run a script, not only exist
        using var dir = new TempDir();
        var page = dir.File("probe.html");
        File.WriteAllText(page, "<!DOCTYPE html><body><p id=\"p\"></p><script>document.getElementById('p').textContent='ran'</script></body>");
        var (code, dom, err) = Run(path, dir.Path, ["--dump-dom", new Uri(page).AbsoluteUri]);
        return dom.Contains("<p id=\"p\">ran</p>", StringComparison.Ordinal) ? (path, null)
            : (null, $"chromium could not start (exit {code}): {err.Split('\n').LastOrDefault(l => l.Trim().Length > 0)}");
    }

    /// <summary>The DOM as the page's scripts left it.</summary>
    public static string DumpDom(string file, int width = 1280, int height = 2400)
    {
        var browser = Require();
        using var profile = new TempDir();
        var (code, dom, err) = Run(browser, profile.Path, [$"--window-size={width},{height}", "--dump-dom", new Uri(file).AbsoluteUri]);
        Assert.True(code == 0 && dom.Length > 0, $"chromium --dump-dom: exit {code}: {err}");
        return dom;
    }

    /// <summary>A screenshot of the page, decoded.</summary>
    public static Png Screenshot(string file, string png, int width = 1280, int height = 2400)
    {
        var browser = Require();
        using var profile = new TempDir();
        var (code, _, err) = Run(browser, profile.Path, [$"--window-size={width},{height}", $"--screenshot={png}", new Uri(file).AbsoluteUri]);
        Assert.True(code == 0 && File.Exists(png), $"chromium --screenshot: exit {code}: {err}");
        return Png.Decode(File.ReadAllBytes(png));
    }

    private static (int Code, string Stdout, string Stderr) Run(string browser, string profile, string[] args)
    {
        var psi = new ProcessStartInfo(browser) { RedirectStandardOutput = true, RedirectStandardError = true };
        // --no-sandbox: the tests run as root in CI, where chromium's sandbox refuses to start
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                     "--force-device-scale-factor=1", $"--user-data-dir={profile}", "--virtual-time-budget=5000" })
            psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish in 60 s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>An 8-bit RGB or RGBA PNG, decoded (the screenshots chromium writes): its pixels as 0xRRGGBB.</summary>
public sealed class Png
{
    public int Width { get; private init; }
    public int Height { get; private init; }
    public int[] Pixels { get; private init; } = [];

    public int this[int x, int y] => Pixels[y * Width + x];

    public static Png Decode(byte[] file)
    {
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a], file[..8]);
        int width = 0, height = 0, channels = 0;
        var idat = new MemoryStream();
        for (int at = 8; at < file.Length;)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            var data = file.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data);
                height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]); // bits per channel
                channels = data[9] switch { 2 => 3, 6 => 4, var t => throw new InvalidDataException($"PNG colour type {t}") };
                Assert.Equal(0, data[12]); // not interlaced
            }
            else if (type == "IDAT") idat.Write(data);
            at += 12 + length;
        }
        idat.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        var bytes = raw.ToArray();
        int stride = width * channels;
        var prev = new byte[stride];
        var line = new byte[stride];
        var pixels = new int[width * height];
        for (int y = 0; y < height; y++)
        {
            int filter = bytes[y * (stride + 1)];
            Array.Copy(bytes, y * (stride + 1) + 1, line, 0, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? line[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                line[i] = (byte)(line[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG filter {filter}"),
                });
            }
            for (int x = 0; x < width; x++)
                pixels[y * width + x] = line[x * channels] << 16 | line[x * channels + 1] << 8 | line[x * channels + 2];
            (prev, line) = (line, prev);
        }
        return new Png { Width = width, Height = height, Pixels = pixels };

        static int Paeth(int a, int b, int c)
        {
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }

    /// <summary>The colours covering at least <paramref name="minimum"/> pixels of a rectangle.</summary>
    public int Colours(int x0, int y0, int width, int height, int minimum)
    {
        var counts = new Dictionary<int, int>();
        for (int y = y0; y < Math.Min(Height, y0 + height); y++)
            for (int x = x0; x < Math.Min(Width, x0 + width); x++)
                counts[this[x, y]] = counts.GetValueOrDefault(this[x, y]) + 1;
        return counts.Count(c => c.Value >= minimum);
    }
}
