using System.Globalization;
using System.Text.Json;

namespace LayerDive.Tests;

/// <summary>
/// issue 29's corpus: Dockerfiles with one known mistake each and their fixed twins, built by a real
/// dockerd (the legacy builder, no network: <c>FROM scratch</c> plus busybox-static's binary gives the
/// shell). For each, <c>advise</c> must name the expected kind, step and paths, the bytes it predicts
/// must equal the difference between the two images' sizes as the engine reports them (within 2%),
/// and the fixed twin must have no finding at all.
/// </summary>
[Collection("docker")]
public sealed class AdviseCorpusTests(DockerService docker)
{
    private const string Busybox = "/bin/busybox";

    public sealed record Case(string Name, string Mistake, string Fixed, string Kind, string Rule, string Step, string[] Paths,
        Action<string>? Context = null, string? FixedIgnore = null, string[]? Secrets = null);

    private const string Key = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBcorpusSECRETcorpusSECRETcorpusSECRETcorpusSECRET0000000";

    private static void WriteNoise(string path, int bytes, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var b = new byte[bytes];
        new Random(seed).NextBytes(b);
        File.WriteAllBytes(path, b);
    }

    public static readonly Case[] Corpus =
    [
        new("removed-later",
            "RUN mkdir /build && dd if=/dev/urandom of=/build/obj.o bs=1024 count=3000 && dd if=/dev/urandom of=/app bs=1024 count=100\nRUN rm -rf /build\n",
            "RUN mkdir /build && dd if=/dev/urandom of=/build/obj.o bs=1024 count=3000 && dd if=/dev/urandom of=/app bs=1024 count=100 && rm -rf /build\n",
            "removed-later", "RemovedLater", "RUN rm -rf /build", ["/build/obj.o"]),
        new("copied-up",
            "RUN dd if=/dev/urandom of=/app.bin bs=1024 count=2000\nRUN chmod 700 /app.bin\n",
            "RUN dd if=/dev/urandom of=/app.bin bs=1024 count=2000 && chmod 700 /app.bin\n",
            "copied-up-unchanged", "CopiedUpUnchanged", "RUN chmod 700 /app.bin", ["/app.bin"]),
        new("rewritten",
            "RUN dd if=/dev/urandom of=/data.bin bs=1024 count=1500\nRUN dd if=/dev/urandom of=/data.bin bs=1024 count=1600\n",
            "RUN dd if=/dev/urandom of=/data.bin bs=1024 count=1600\n",
            "rewritten", "Rewritten", "RUN dd if=/dev/urandom of=/data.bin bs=1024 count=1500", ["/data.bin"]),
        new("pip-cache",
            "RUN mkdir -p /root/.cache/pip/http /usr/lib/py && dd if=/dev/urandom of=/root/.cache/pip/http/wheel.whl bs=1024 count=2500 && dd if=/dev/urandom of=/usr/lib/py/mod.so bs=1024 count=200\n",
            "RUN mkdir -p /usr/lib/py && dd if=/dev/urandom of=/usr/lib/py/mod.so bs=1024 count=200\n",
            "package-cache", "Pip", "RUN mkdir -p /root/.cache/pip/http", ["/root/.cache/pip/http/wheel.whl"]),
        new("apt-lists",
            "RUN mkdir -p /var/lib/apt/lists /opt && dd if=/dev/urandom of=/var/lib/apt/lists/deb_bookworm_Packages bs=1024 count=1800 && dd if=/dev/urandom of=/opt/tool bs=1024 count=100\n",
            "RUN mkdir -p /var/lib/apt/lists /opt && dd if=/dev/urandom of=/var/lib/apt/lists/deb_bookworm_Packages bs=1024 count=1800 && dd if=/dev/urandom of=/opt/tool bs=1024 count=100 && rm -rf /var/lib/apt/lists/*\n",
            "package-cache", "Apt", "RUN mkdir -p /var/lib/apt/lists /opt", ["/var/lib/apt/lists/deb_bookworm_Packages"]),
        new("git-directory",
            "COPY src/ /src/\n", "COPY src/ /src/\n",
            "build-only", "GitDirectory", "COPY dir:", ["/src/.git/objects/pack/pack-1.pack", "/src/.git/HEAD"],
            Context: ctx =>
            {
                WriteNoise(Path.Combine(ctx, "src", ".git", "objects", "pack", "pack-1.pack"), 2_000_000, 41);
                File.WriteAllText(Path.Combine(ctx, "src", ".git", "HEAD"), "ref: refs/heads/main\n");
                WriteNoise(Path.Combine(ctx, "src", "main.bin"), 50_000, 42);
            },
            FixedIgnore: "src/.git\n"),
        new("headers",
            "RUN mkdir -p /usr/include/big /opt && dd if=/dev/urandom of=/usr/include/big/huge.h bs=1024 count=800 && dd if=/dev/urandom of=/opt/prog bs=1024 count=100\n",
            // the fix the advice sketches: build in a stage of its own, copy the program across
            "RUN mkdir -p /usr/include/big /opt && dd if=/dev/urandom of=/usr/include/big/huge.h bs=1024 count=800 && dd if=/dev/urandom of=/opt/prog bs=1024 count=100\n"
            + "FROM corpus-base\nCOPY --from=0 /opt/prog /opt/prog\n",
            "build-only", "Headers", "RUN mkdir -p /usr/include/big /opt", ["/usr/include/big/huge.h"]),
        new("duplicates",
            "RUN mkdir -p /opt/b && dd if=/dev/urandom of=/opt/a.bin bs=1024 count=1200 && cp /opt/a.bin /opt/b/a.bin\n",
            "RUN mkdir -p /opt/b && dd if=/dev/urandom of=/opt/a.bin bs=1024 count=1200 && ln /opt/a.bin /opt/b/a.bin\n",
            "duplicates", "Duplicate", "RUN mkdir -p /opt/b", ["/opt/b/a.bin"]),
        new("secret-deleted-later",
            "COPY id_rsa /root/.ssh/id_rsa\nRUN rm /root/.ssh/id_rsa\n",
            "RUN mkdir -p /root/.ssh\n",
            "secret", "SshKey", "COPY ", ["/root/.ssh/id_rsa"], // a secret's step by its instruction only
            Context: ctx => File.WriteAllText(Path.Combine(ctx, "id_rsa"), $"-----BEGIN OPENSSH PRIVATE KEY-----\n{Key}\n-----END OPENSSH PRIVATE KEY-----\n"),
            Secrets: ["corpusSECRET", "BEGIN OPENSSH"]),
    ];

    public static TheoryData<string> Names => [.. Corpus.Select(c => c.Name)];

    private static readonly object BaseLock = new();
    private static readonly HashSet<string> BaseBuilt = [];

    private (int Code, string Output) Run(string folder, params string[] args)
    {
        var (code, stdout, stderr) = Scripts.ExecIn(folder, "docker", new Dictionary<string, string> { ["DOCKER_HOST"] = docker.Address, ["DOCKER_BUILDKIT"] = "0" }, args);
        return (code, stdout + stderr);
    }

    private void SkipUnlessReady()
    {
        var why = docker.SkipReason ?? (!File.Exists(Busybox) || !Scripts.Exec("file", "-L", Busybox).Stdout.Contains("statically linked", StringComparison.Ordinal)
            ? "busybox-static is not installed (apt-get install busybox-static; .ci/run installs it)" : null);
        if (why is null) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
        Assert.Skip(why);
    }

    /// <summary>FROM scratch, busybox-static's binary and its applet links: a shell with no registry.</summary>
    private void EnsureBase(TempDir dir)
    {
        lock (BaseLock)
        {
            if (BaseBuilt.Contains(docker.Address)) return;
            var ctx = Directory.CreateDirectory(Path.Combine(dir.Path, "base")).FullName;
            File.Copy(Busybox, Path.Combine(ctx, "busybox"));
            File.WriteAllText(Path.Combine(ctx, "Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
            var built = Run(ctx, "build", "--network=none", "-t", "corpus-base", ".");
            Assert.True(built.Code == 0, built.Output);
            BaseBuilt.Add(docker.Address);
        }
    }

    private (long Size, string Archive) Build(TempDir dir, Case c, string tag, string body, string? ignore)
    {
        var ctx = Directory.CreateDirectory(Path.Combine(dir.Path, tag)).FullName;
        c.Context?.Invoke(ctx);
        File.WriteAllText(Path.Combine(ctx, "Dockerfile"), "FROM corpus-base\n" + body);
        if (ignore is not null) File.WriteAllText(Path.Combine(ctx, ".dockerignore"), ignore);
        var built = Run(ctx, "build", "--network=none", "-t", tag, ".");
        Assert.True(built.Code == 0, built.Output);
        var size = Run(ctx, "image", "inspect", "-f", "{{.Size}}", tag);
        Assert.True(size.Code == 0, size.Output);
        var archive = Path.Combine(dir.Path, tag + ".tar");
        var saved = Run(ctx, "save", "-o", archive, tag);
        Assert.True(saved.Code == 0, saved.Output);
        return (long.Parse(size.Output.Trim(), CultureInfo.InvariantCulture), archive);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Advice_names_the_mistake_and_saves_what_the_fixed_twin_saves(string name)
    {
        SkipUnlessReady();
        var c = Corpus.Single(x => x.Name == name);
        using var dir = new TempDir();
        EnsureBase(dir);
        var (mistakeSize, mistake) = Build(dir, c, "corpus-" + name + "-mistake", c.Mistake, null);
        var (fixedSize, fixedArchive) = Build(dir, c, "corpus-" + name + "-fixed", c.Fixed, c.FixedIgnore);

        var run = Tool.Run("advise", mistake, "--format", "json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var doc = JsonDocument.Parse(run.Stdout);
        var finding = Assert.Single(doc.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal(c.Kind, finding.GetProperty("kind").GetString());
        Assert.Equal(c.Rule, finding.GetProperty("rule").GetString());
        Assert.Contains(finding.GetProperty("steps").EnumerateArray(), s => s.GetProperty("instruction").GetString()!.StartsWith(c.Step, StringComparison.Ordinal));
        Assert.Equal(c.Paths, finding.GetProperty("paths").EnumerateArray().Select(p => p.GetProperty("path").GetString()).Take(c.Paths.Length));
        long predicted = finding.GetProperty("bytes").GetInt64();
        long measured = mistakeSize - fixedSize;
        TestContext.Current.TestOutputHelper?.WriteLine($"{name}: predicted {predicted} B, measured {measured} B ({mistakeSize} - {fixedSize}), {(double)(predicted - measured) / measured:P2}");
        Assert.True(measured > 0, $"the mistake must cost something: {mistakeSize} vs {fixedSize}");
        Assert.True(Math.Abs(predicted - measured) <= measured * 0.02, $"{name}: predicted {predicted} B, the engine's sizes differ by {measured} B");

        var twin = Tool.Run("advise", fixedArchive, "--format", "json");
        Assert.True(twin.ExitCode == 0, twin.Stderr);
        using var twinDoc = JsonDocument.Parse(twin.Stdout);
        Assert.Empty(twinDoc.RootElement.GetProperty("findings").EnumerateArray());

        foreach (var secret in c.Secrets ?? [])
            foreach (var format in new[] { "text", "json", "markdown" })
            {
                var shown = Tool.Run("advise", mistake, "--format", format);
                Assert.DoesNotContain(secret, shown.Stdout + shown.Stderr);
            }
    }
}
