using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace LayerDive.Tests.Support;

/// <summary>How a child run is watched.</summary>
public enum Watch
{
    /// <summary>Not traced.</summary>
    None,

    /// <summary>Under <c>strace</c>, every open logged with the path the returned descriptor names.</summary>
    Opens,

    /// <summary>As <see cref="Opens"/>, with every openat2 failing ENOSYS (a kernel before 5.6): the path walk in its place.</summary>
    OpensWithoutOpenat2,
}

/// <summary>What a child run of layerdive did.</summary>
public sealed record ChildResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, bool Killed, long? PeakRssMiB, string? Trace)
{
    /// <summary>stderr without the statistics line LAYERDIVE_STATS=1 adds.</summary>
    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("layerdive: stats:", StringComparison.Ordinal)).ToArray();
}

/// <summary>
/// The layerdive command run as a child process, as a user runs it: killed past a bound, its peak memory
/// read from its own statistics (LAYERDIVE_STATS=1), and, where asked, watched by strace.
/// </summary>
public static partial class Child
{
    /// <summary>Skips the test when strace is missing (CI installs it: there it fails).</summary>
    public static void RequireStrace()
    {
        if (Scripts.OnPath("strace")) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("strace is not installed (CI=true: .ci/run installs it)");
        Assert.Skip("strace is not installed (apt-get install strace)");
    }

    public static ChildResult Run(TimeSpan bound, Watch watch, IReadOnlyDictionary<string, string>? environment, string? stdinFile, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
        string? log = watch == Watch.None ? null : Path.Combine(Path.GetTempPath(), "layerdive-strace-" + Guid.NewGuid().ToString("N")[..12]);
        var command = new List<string>();
        if (log is not null)
        {
            command.AddRange(["strace", "-f", "-y", "-qq", "-e", "trace=open,openat,openat2", "-o", log]);
            if (watch == Watch.OpensWithoutOpenat2) command.AddRange(["-e", "inject=openat2:error=ENOSYS"]);
        }
        command.AddRange(["dotnet", dll, .. args]);
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment.Remove("CI");
        psi.Environment["LAYERDIVE_STATS"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var feed = Task.Run(() =>
        {
            try
            {
                if (stdinFile is not null)
                    using (var input = File.OpenRead(stdinFile)) input.CopyTo(p.StandardInput.BaseStream);
                p.StandardInput.Close();
            }
            catch (IOException) { } // the child stopped reading: what it said is the result
        });
        bool killed = !p.WaitForExit(bound);
        if (killed) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        clock.Stop();
        feed.Wait(TimeSpan.FromSeconds(10));
        var err = stderr.Result;
        long? rss = Rss().Match(err) is { Success: true } m ? long.Parse(m.Groups[1].Value) : null;
        string? trace = null;
        if (log is not null && File.Exists(log))
        {
            trace = File.ReadAllText(log);
            File.Delete(log);
        }
        return new ChildResult(killed ? -1 : p.ExitCode, stdout.Result, err, clock.Elapsed, killed, rss, trace);
    }

    [GeneratedRegex(@"peak rss (\d+) MiB")]
    private static partial Regex Rss();
}

/// <summary>
/// A file and a folder only the test knows the path of, outside whatever the tool is pointed at: a
/// hostile store or layout links to them. Neither their content nor its digest may show in any
/// output, and no open may succeed on them.
/// </summary>
public sealed class Victim : IDisposable
{
    private readonly TempDir _dir = new();

    public Victim()
    {
        Secret = "victim-" + Guid.NewGuid().ToString("N");
        File = _dir.File("secret");
        System.IO.File.WriteAllText(File, Secret + "\n");
        Folder = Directory.CreateDirectory(_dir.File("folder")).FullName;
    }

    public string Secret { get; }

    /// <summary>A file holding <see cref="Secret"/>.</summary>
    public string File { get; }

    /// <summary>A folder that a test fills with what a layer's folder would hold, each file holding <see cref="Secret"/>.</summary>
    public string Folder { get; }

    public string Path => _dir.Path;

    /// <summary>Writes <paramref name="relative"/> in <see cref="Folder"/> holding the secret, <paramref name="size"/> bytes long.</summary>
    public void Plant(string relative, int size)
    {
        var path = System.IO.Path.Combine(Folder, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var bytes = Encoding.ASCII.GetBytes((Secret + "\n").PadRight(Math.Max(size, Secret.Length + 1), '#'));
        System.IO.File.WriteAllBytes(path, bytes);
    }

    /// <summary>Nothing of the victim in the run's output, and (when traced) no successful open of it.</summary>
    public void AssertUntouched(ChildResult r)
    {
        foreach (var output in new[] { r.Stdout, r.Stderr })
        {
            Assert.DoesNotContain(Secret, output);
            Assert.DoesNotContain(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(Secret + "\n"))), output);
        }
        if (r.Trace is null) return;
        // strace -y writes the path a returned descriptor names: "= 7</tmp/.../secret>"
        var opened = r.Trace.Split('\n').Where(l => Regex.IsMatch(l, @"= \d+<" + Regex.Escape(_dir.Path))).ToList();
        Assert.True(opened.Count == 0, "opened outside the store or layout:\n" + string.Join('\n', opened));
    }

    public void Dispose() => _dir.Dispose();
}
