using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace LayerDive.Tests;

/// <summary>
/// The .NET tool as a user gets it: <c>release/tool.sh</c> packs it into a folder that serves as a
/// NuGet feed, <c>dotnet tool install --tool-path</c> installs it from there into a fresh folder, and
/// the installed command runs. Expected versions come from Directory.Build.props and from git, never
/// from LayerDive itself.
/// </summary>
[Collection(nameof(SerialCollection))]
public sealed class ToolPackageTests(ToolPackageFeed feed) : IClassFixture<ToolPackageFeed>
{
    [Fact]
    public async Task The_installed_tool_is_the_native_executable()
    {
        var f = await feed.Ready;
        // the pointer package names the native package for linux-x64 and the framework-dependent fallback
        var settings = XDocument.Parse(ReadEntry(f.Package("layerdive"), "tools/any/any/DotnetToolSettings.xml"));
        var rids = settings.Descendants("RuntimeIdentifierPackage").Select(e => ((string)e.Attribute("RuntimeIdentifier")!, (string)e.Attribute("Id")!)).ToList();
        (string, string)[] expected = ToolPackageFeed.CrossArm64
            ? [("linux-x64", "layerdive.linux-x64"), ("linux-arm64", "layerdive.linux-arm64"), ("any", "layerdive.any")]
            : [("linux-x64", "layerdive.linux-x64"), ("any", "layerdive.any")];
        Assert.Equal(expected, rids);

        // what was installed is the linux-x64 package's executable: an ELF with no layerdive.dll for a runtime to JIT
        var exe = f.InstalledExecutable;
        Assert.Contains($"{Path.DirectorySeparatorChar}layerdive.linux-x64{Path.DirectorySeparatorChar}", exe);
        var magic = new byte[4];
        using (var s = File.OpenRead(exe)) s.ReadExactly(magic);
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, magic);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(exe)!, "layerdive.dll")), "layerdive.dll beside the installed executable: not native");
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(exe)!, "*.dll"));
    }

    /// <summary>The linux-arm64 package, cross compiled here: an ELF for AArch64 (e_machine 183), no assembly to JIT.</summary>
    [Fact]
    public async Task The_arm64_package_holds_a_native_arm64_executable()
    {
        if (!ToolPackageFeed.CrossArm64)
        {
            const string why = "no arm64 cross toolchain (apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross clang)";
            if (System.Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why + "; CI=true: .ci/run installs it");
            Assert.Skip(why);
        }
        var f = await feed.Ready;
        using var zip = ZipFile.OpenRead(f.Package("layerdive.linux-arm64"));
        var exe = zip.GetEntry("tools/any/linux-arm64/layerdive") ?? throw new InvalidOperationException("no tools/any/linux-arm64/layerdive in the arm64 package");
        var header = new byte[20];
        using (var s = exe.Open()) s.ReadExactly(header);
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2 }, header[..5]);
        Assert.Equal(183, BitConverter.ToUInt16(header, 18));
        Assert.DoesNotContain(zip.Entries, e => e.FullName.EndsWith("layerdive.dll", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_installed_tool_names_its_version_and_commit()
    {
        var f = await feed.Ready;
        var (code, stdout, stderr) = Scripts.Exec(f.Command, "--version");
        Assert.True(code == 0, stderr);
        Assert.Equal($"{ToolPackageFeed.Version}+{ToolPackageFeed.Commit[..7]}", stdout.Trim());
    }

    [Fact]
    public void The_plain_build_names_the_same_version_and_commit()
    {
        // the build the tests were compiled against, run as `dotnet layerdive.dll`
        var (code, stdout, stderr) = Scripts.Exec("dotnet", Path.Combine(AppContext.BaseDirectory, "layerdive.dll"), "--version");
        Assert.True(code == 0, stderr);
        Assert.Equal($"{ToolPackageFeed.Version}+{ToolPackageFeed.Commit[..7]}", stdout.Trim());
    }

    /// <summary>
    /// A build from a folder that is not a git checkout (a source archive) says so in its version
    /// rather than failing or passing for a release: the version settings of Directory.Build.props,
    /// evaluated for a project in an empty folder outside the repository.
    /// </summary>
    [Fact]
    public void A_build_outside_a_git_checkout_says_so()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(Paths.RepoRoot, "Directory.Build.props"), dir.File("Directory.Build.props"));
        File.WriteAllText(dir.File("probe.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><OutputType>Exe</OutputType></PropertyGroup></Project>");
        var (code, stdout, stderr) = Scripts.ExecIn(dir.Path, "dotnet", null, "msbuild", "probe.csproj", "-nologo", "-t:AddSourceRevisionToInformationalVersion", "-getProperty:InformationalVersion");
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal($"{ToolPackageFeed.Version}+no-git-checkout", stdout.Trim());
    }

    [Fact]
    public async Task Every_package_carries_the_version_and_its_metadata()
    {
        var f = await feed.Ready;
        foreach (var id in new[] { "layerdive", "layerdive.linux-x64", "layerdive.any" }.Concat(ToolPackageFeed.CrossArm64 ? ["layerdive.linux-arm64"] : []))
        {
            var nuspec = XDocument.Parse(ReadEntry(f.Package(id), $"{id}.nuspec"));
            XNamespace ns = nuspec.Root!.Name.Namespace;
            var meta = nuspec.Root.Element(ns + "metadata")!;
            string Field(string name) => (string?)meta.Element(ns + name) ?? "";
            Assert.Equal(id, Field("id"));
            Assert.Equal(ToolPackageFeed.Version, Field("version"));
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.Equal("https://github.com/layerdive/layerdive", Field("projectUrl"));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")));
            Assert.Contains("docker", Field("tags").Split(' '));
            var repository = meta.Element(ns + "repository")!;
            Assert.Equal("https://github.com/layerdive/layerdive", (string?)repository.Attribute("url"));
            Assert.Equal(ToolPackageFeed.Commit, (string?)repository.Attribute("commit"));
            // the readme shipped is the repository's
            Assert.Equal(File.ReadAllText(Path.Combine(Paths.RepoRoot, "README.md")), ReadEntry(f.Package(id), "README.md"));
        }
    }

    /// <summary>
    /// <c>--ci</c> with no image judges the sample the package carries beside the executable: the same
    /// report, verdict and exit code as the build the tests run in-process gives for the repository's sample.
    /// </summary>
    [Fact]
    public async Task The_installed_tool_gates_the_bundled_sample()
    {
        var f = await feed.Ready;
        var (code, stdout, stderr) = Scripts.Exec(f.Command, "--ci");
        var expected = Tool.Run(Paths.Sample, "--ci");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var verdict = lines.Single(l => l.StartsWith("Result:", StringComparison.Ordinal));
        Assert.Matches(@"^Result:(PASS|FAIL) \[Total:3\] \[Passed:\d\] \[Failed:\d\] \[Warn:\d\] \[Skipped:\d\]$", verdict);
        Assert.Equal(verdict.StartsWith("Result:PASS", StringComparison.Ordinal) ? 0 : 1, code);
        Assert.Equal(expected.ExitCode, code);
        Assert.True(stderr.Length == 0, stderr);
        var sample = Path.Combine(Path.GetDirectoryName(f.InstalledExecutable)!, "samples", "sample.oci.tar");
        Assert.Contains($"Image Source: oci-archive://{sample}", lines);
        Assert.Equal(expected.StdoutLines.Where(l => !l.StartsWith("Image Source:", StringComparison.Ordinal)), lines.Where(l => !l.StartsWith("Image Source:", StringComparison.Ordinal)));
    }

    /// <summary>
    /// <c>dotnet tool exec</c> and <c>dnx</c> (the SDK's script beside the dotnet executable) fetch the
    /// package from the feed and run it, installing nothing.
    /// </summary>
    [Theory]
    [InlineData("dotnet tool exec")]
    [InlineData("dnx")]
    public async Task Runs_without_installing(string how)
    {
        var f = await feed.Ready;
        string[] command = how == "dnx" ? [Path.Combine(DotnetRoot(), "dnx")] : ["dotnet", "tool", "exec"];
        var (code, stdout, stderr) = Scripts.Exec(command[0], f.Environment, [.. command[1..], "layerdive", "--source", f.Feed, "--", "--version"]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal($"{ToolPackageFeed.Version}+{ToolPackageFeed.Commit[..7]}", stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
    }

    /// <summary>The folder of the dotnet executable on PATH (often reached through a link such as /usr/bin/dotnet).</summary>
    private static string DotnetRoot()
    {
        var dotnet = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "dotnet")).First(File.Exists);
        return Path.GetDirectoryName(new FileInfo(dotnet).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnet)!;
    }

    private static string ReadEntry(string package, string entry)
    {
        using var zip = ZipFile.OpenRead(package);
        using var reader = new StreamReader(zip.GetEntry(entry)?.Open() ?? throw new InvalidOperationException($"{package} holds no {entry}"));
        return reader.ReadToEnd();
    }
}

/// <summary>
/// Packs the tool once with <c>release/tool.sh</c> into a folder feed and installs it from there into a
/// fresh tool path, with a NuGet package folder of its own (so nothing cached from another run is used).
/// </summary>
public sealed class ToolPackageFeed : IDisposable
{
    private readonly TempDir _root = new();
    private readonly Lazy<Task<ToolPackageFeed>> _ready;

    public ToolPackageFeed() => _ready = new(Prepare);

    public Task<ToolPackageFeed> Ready => _ready.Value;

    /// <summary>The version as Directory.Build.props sets it.</summary>
    public static string Version { get; } =
        XDocument.Load(Path.Combine(Paths.RepoRoot, "Directory.Build.props")).Descendants("Version").Single().Value;

    /// <summary>Whether release/tool.sh can cross compile linux-arm64 here (its own test of the toolchain).</summary>
    public static bool CrossArm64 { get; } =
        Scripts.OnPath("aarch64-linux-gnu-objcopy") && Scripts.OnPath("aarch64-linux-gnu-gcc") && Scripts.OnPath("clang") && File.Exists("/usr/aarch64-linux-gnu/lib/libc.so.6");

    /// <summary>The commit checked out, as git names it.</summary>
    public static string Commit { get; } = Git("rev-parse", "HEAD");

    public string Feed => Path.Combine(_root.Path, "feed");

    public string ToolPath => Path.Combine(_root.Path, "tools");

    /// <summary>The command a user runs: the one dotnet tool install put in the tool path.</summary>
    public string Command => Path.Combine(ToolPath, "layerdive");

    /// <summary>The file that command runs (the command itself may be a link or a shim).</summary>
    public string InstalledExecutable { get; private set; } = "";

    /// <summary>A NuGet package folder and home of the test's own.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = Path.Combine(_root.Path, "nuget-packages"),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    private async Task<ToolPackageFeed> Prepare()
    {
        var (code, output) = await Scripts.Run("release/tool.sh", Feed);
        if (code != 0) throw new InvalidOperationException($"release/tool.sh failed ({code}):\n{output}");
        var (installed, stdout, stderr) = Scripts.Exec("dotnet", Environment, "tool", "install", "--tool-path", ToolPath, "--source", Feed, "layerdive");
        if (installed != 0) throw new InvalidOperationException($"dotnet tool install failed ({installed}):\n{stdout}{stderr}");
        InstalledExecutable = Path.GetFullPath(new FileInfo(Command).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Command);
        if (InstalledExecutable == Command)
        {
            // an apphost shim rather than a link: the executable is the package's, in the tool path's store
            InstalledExecutable = Directory.EnumerateFiles(Path.Combine(ToolPath, ".store"), "layerdive", SearchOption.AllDirectories)
                .Single(p => p.Contains($"{Path.DirectorySeparatorChar}tools{Path.DirectorySeparatorChar}"));
        }
        return this;
    }

    private static string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Paths.RepoRoot };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {p.StandardError.ReadToEnd()}");
        return output.Trim();
    }

    public void Dispose() => _root.Dispose();
}
