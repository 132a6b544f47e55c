namespace LayerDive.Tests.Support;

/// <summary>
/// A real containerd started for the tests (Debian's containerd, which brings ctr and runc) with a
/// generated config.toml: its own root, state directory and sockets under a temporary folder, the CRI
/// plugin off, stopped by its PID (<see cref="EngineService"/>). Images are imported with
/// <c>ctr -a SOCK -n NS images import</c>, once per archive and namespace.
/// </summary>
public sealed class ContainerdService : EngineService
{
    public ContainerdService() : base("containerd")
    {
        Directory.CreateDirectory(Root);
        var config = Path.Combine(Root, "config.toml");
        File.WriteAllText(config, $"""
            version = 2
            root = "{Path.Combine(Root, "root")}"
            state = "{Path.Combine(Root, "state")}"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]

            [grpc]
              address = "{Socket}"

            [ttrpc]
              address = "{Socket}.ttrpc"

            [debug]
              address = "{Path.Combine(Root, "debug.sock")}"
            """);
        if (!Scripts.OnPath("ctr")) SkipReason = "the ctr command is not installed (apt-get install containerd)";
        else Start("containerd", ["--config", config]);
    }

    /// <summary>Skips the test saying why containerd is not there; under CI=true, where .ci/run installs it, fails it.</summary>
    public void Require()
    {
        if (SkipReason is not { } why) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"containerd did not start (CI=true: .ci/run installs it): {why}");
        Assert.Skip(why);
    }

    /// <summary>What is imported: (archive, namespace, arguments) -> the names it added.</summary>
    private readonly Dictionary<string, IReadOnlyList<string>> _imported = [];

    /// <summary>Runs ctr against this containerd in <paramref name="ns"/>: its exit code and output.</summary>
    public (int Code, string Output) Ctr(string ns, params string[] args) => Command("ctr", new Dictionary<string, string>(), ["-a", Socket, "-n", ns, .. args]);

    /// <summary>
    /// Imports <paramref name="archive"/> (a docker-archive or an OCI archive) into <paramref name="ns"/>
    /// once, with any further ctr arguments; the image names it added, read from ctr's listing before and after.
    /// </summary>
    public IReadOnlyList<string> Import(string archive, string ns, params string[] args)
    {
        var key = $"{archive}\n{ns}\n{string.Join(' ', args)}";
        lock (_imported)
        {
            if (_imported.TryGetValue(key, out var names)) return names;
            var before = Names(ns);
            var (code, output) = Ctr(ns, ["images", "import", .. args, archive]);
            Assert.True(code == 0, $"ctr -n {ns} images import {archive}: {output}");
            var added = Names(ns).Except(before).ToList();
            Assert.True(added.Count > 0, $"ctr -n {ns} images import {archive} added no image name: {output}");
            return _imported[key] = added;
        }
    }

    /// <summary>Every image name in <paramref name="ns"/>, as <c>ctr images ls -q</c> prints them.</summary>
    public List<string> Names(string ns)
    {
        var (code, output) = Ctr(ns, "images", "ls", "-q");
        Assert.True(code == 0, $"ctr -n {ns} images ls: {output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    /// <summary>The docker-archive into the default namespace.</summary>
    protected override string Load(string archive) => Import(archive, "default")[0];

    protected override void Cleanup()
    {
        // what an unpack or a container left mounted beneath the root, so that the root can go
        foreach (var line in File.Exists("/proc/self/mounts") ? File.ReadAllLines("/proc/self/mounts") : [])
        {
            var target = line.Split(' ') is [_, var t, ..] ? t : null;
            if (target is not null && target.StartsWith(Root + "/", StringComparison.Ordinal)) Scripts.Exec("umount", "-l", target);
        }
    }
}
