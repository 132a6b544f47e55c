using System.Diagnostics;

namespace LayerDive.Tests;

/// <summary>
/// The user's own settings files (Docker's config.json, which also holds registry credentials) are
/// read bounded: a named pipe there (an open that would never return), a device without end or a
/// huge file is one line and exit 2, quickly and in little memory, and never a hang.
/// </summary>
public sealed class SettingsFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Support.CliResult Docker(Action<string> makeConfig)
    {
        var config = Path.Combine(_dir.Path, "docker");
        Directory.CreateDirectory(config);
        makeConfig(Path.Combine(config, "config.json"));
        var watch = Stopwatch.StartNew();
        var task = Task.Run(() => Tool.RunWith(new Dictionary<string, string> { ["DOCKER_CONFIG"] = config }, null, "ls", "docker://app:1"));
        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "reading config.json hung");
        return task.Result;
    }

    [Fact]
    public void A_named_pipe_as_config_json_is_one_line_not_a_hang()
    {
        var r = Docker(path => Assert.Equal(0, Support.Scripts.Exec("mkfifo", path).ExitCode));
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.Contains("config.json is not a regular file", line);
    }

    [Fact]
    public void A_device_without_end_as_config_json_is_one_line()
    {
        var r = Docker(path => File.CreateSymbolicLink(path, "/dev/zero"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("config.json is not a regular file", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void A_huge_config_json_is_one_line_naming_the_limit()
    {
        var r = Docker(path =>
        {
            using var f = File.Create(path);
            f.SetLength(5L << 30); // 5 GiB, sparse: nothing of it is read
        });
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"config.json is {5L << 30} bytes: a settings file may be 4 MiB at most", Assert.Single(r.StderrLines));
    }
}
