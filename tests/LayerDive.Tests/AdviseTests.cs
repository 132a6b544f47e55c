using System.Text.Json;
using LayerDive.Core.Analysis.Advice;
using LayerDive.Core.Loading;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// issue 29: <c>advise</c> on images the tests write, where every finding's kind, steps, paths and bytes
/// follow from what the test put in the layers.
/// </summary>
public sealed class AdviseTests
{
    internal static byte[] Noise(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static AdviceResult Advise(ImageBuilder image, out string path, TempDir dir)
    {
        path = dir.File("image.oci.tar");
        image.WriteOciArchive(path);
        using var load = ImageLoader.Start(path, new LoadOptions(), TestContext.Current.CancellationToken);
        load.Wait();
        return Advisor.Analyze(load.Model, load, TestContext.Current.CancellationToken);
    }

    private static AdviceResult Advise(ImageBuilder image)
    {
        using var dir = new TempDir();
        return Advise(image, out _, dir);
    }

    internal static ImageBuilder Base() => new ImageBuilder()
        .Layer("/bin/sh -c #(nop) ADD file:base.tar in / ", l => l.Dir("bin").Dir("etc").File("bin/sh", Noise(5000, 1), 0x1ED).File("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))
        .Empty("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]");

    [Fact]
    public void Files_deleted_by_a_later_step_are_one_finding_for_the_pair_of_steps()
    {
        var big = Noise(300_000, 2);
        var small = Noise(1234, 3);
        var advice = Advise(Base()
            .Layer("RUN /bin/sh -c make-data # buildkit", l => l.Dir("data").File("data/big.bin", big).File("data/small.bin", small).File("data/keep.txt", "kept\n"))
            .Layer("RUN /bin/sh -c rm -f /data/big.bin /data/small.bin # buildkit", l => l.Dir("data").Whiteout("data/big.bin").Whiteout("data/small.bin")));

        var f = Assert.Single(advice.Findings);
        Assert.Equal(AdviceKind.RemovedLater, f.Kind);
        Assert.Equal(big.Length + small.Length, f.Bytes);
        Assert.Equal(f.Bytes, advice.TotalBytes);
        Assert.Equal([(1, "RUN make-data"), (2, "RUN rm -f /data/big.bin /data/small.bin")], f.Steps.Select(s => (s.Layer, s.Instruction)));
        Assert.Equal(["/data/big.bin", "/data/small.bin"], f.Paths.Select(p => p.Path)); // largest first
        Assert.Equal(2, f.PathCount);
        Assert.NotNull(f.CompressedBytes);
        Assert.Contains("RUN make-data \\\n    && rm -f /data/big.bin /data/small.bin", f.Fix);
    }

    [Fact]
    public void A_directory_whited_out_and_an_opaque_directory_are_removed_later_too()
    {
        var a = Noise(40_000, 4);
        var b = Noise(20_000, 5);
        var advice = Advise(Base()
            .Layer("COPY build/ /build/", l => l.Dir("build").Dir("build/obj").File("build/obj/a.o", a).File("build/obj/b.o", b))
            .Layer("RUN /bin/sh -c rm -rf /build/obj", l => l.Dir("build").Whiteout("build/obj"))
            .Layer("COPY site/ /srv/", l => l.Dir("srv").File("srv/old.html", a[..1000]))
            .Layer("RUN /bin/sh -c rm -rf /srv && mkdir /srv", l => l.Dir("srv").Opaque("srv")));

        Assert.Equal(2, advice.Findings.Count);
        Assert.All(advice.Findings, f => Assert.Equal(AdviceKind.RemovedLater, f.Kind));
        Assert.Equal((60_000L, 1, 2), (advice.Findings[0].Bytes, advice.Findings[0].Steps[0].Layer, advice.Findings[0].Steps[1].Layer));
        Assert.Equal((1000L, 3, 4), (advice.Findings[1].Bytes, advice.Findings[1].Steps[0].Layer, advice.Findings[1].Steps[1].Layer));
        Assert.Contains(".dockerignore", advice.Findings[0].Fix); // a COPY: leave the files out of the context
    }

    [Fact]
    public void A_chmod_in_a_later_step_is_a_copy_up_with_COPY_chmod_as_the_fix()
    {
        var tool = Noise(70_000, 6);
        var advice = Advise(Base()
            .Layer("COPY tool /usr/local/bin/tool # buildkit", l => l.Dir("usr").Dir("usr/local").Dir("usr/local/bin").File("usr/local/bin/tool", tool, 0x1A4))
            .Layer("RUN /bin/sh -c chown 1000:1000 /usr/local/bin/tool && chmod 755 /usr/local/bin/tool # buildkit",
                l => l.Dir("usr/local/bin").File("usr/local/bin/tool", tool, 0x1ED, 1000, 1000)));

        var f = Assert.Single(advice.Findings);
        Assert.Equal(AdviceKind.CopiedUpUnchanged, f.Kind);
        Assert.Equal(tool.Length, f.Bytes);
        Assert.Equal("/usr/local/bin/tool", Assert.Single(f.Paths).Path);
        Assert.Contains("COPY --chmod=0755 --chown=1000:1000 tool /usr/local/bin/tool", f.Fix);
    }

    [Fact]
    public void A_file_written_again_with_new_content_is_rewritten()
    {
        var first = Noise(50_000, 7);
        var second = Noise(51_000, 8);
        var advice = Advise(Base()
            .Layer("/bin/sh -c echo v1 > /app/data", l => l.Dir("app").File("app/data", first))
            .Layer("/bin/sh -c echo v2 > /app/data", l => l.Dir("app").File("app/data", second)));

        var f = Assert.Single(advice.Findings);
        Assert.Equal(AdviceKind.Rewritten, f.Kind);
        Assert.Equal(first.Length, f.Bytes); // only the hidden first write: the second is the one that counts
        Assert.Equal([1, 2], f.Steps.Select(s => s.Layer));
        Assert.Equal("RUN echo v1 > /app/data", f.Steps[0].Instruction);
    }

    [Fact]
    public void A_copy_deleted_but_visible_through_its_hardlink_is_the_one_kept_in_its_own_layer()
    {
        // the whiteout of /a leaves its content visible as /b (a hardlink made with it): that copy, the lowest,
        // is the one kept, and /d/c (the same bytes, a layer later) is the duplicate; the layer that deleted
        // /a stored nothing (a reviewer's case: the removal's record points at the version it removed)
        var x = Noise(3000, 21);
        var advice = Advise(Base()
            .Layer("RUN /bin/sh -c make a", l => l.File("a", x).Hardlink("b", "a"))
            .Layer("RUN /bin/sh -c make c", l => l.Dir("d").File("d/c", x))
            .Layer("RUN /bin/sh -c rm a", l => l.Whiteout("a")));

        var f = Assert.Single(advice.Findings);
        Assert.Equal(AdviceKind.Duplicate, f.Kind);
        Assert.Equal(x.Length, f.Bytes);
        Assert.Equal([2], f.Steps.Select(s => s.Layer));
        var p = Assert.Single(f.Paths);
        Assert.Equal(("/d/c", 2, "/a"), (p.Path, p.Layer, p.SameAs));
    }

    // where each package manager leaves its cache, as the managers document it
    public static TheoryData<string, string> Caches => new()
    {
        { "Apt", "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4" },
        { "Apt", "var/cache/apt/archives/curl_7.88_amd64.deb" },
        { "Apk", "var/cache/apk/APKINDEX.abc.tar.gz" },
        { "Dnf", "var/cache/dnf/fedora-abc/repodata/primary.xml.zst" },
        { "Dnf", "var/cache/yum/x86_64/7/base/packages/bash.rpm" },
        { "Pip", "root/.cache/pip/http-v2/a/b/c/body" },
        { "Pip", "home/app/.cache/pip/wheels/x.whl" },
        { "Npm", "root/.npm/_cacache/content-v2/sha512/ab/cd" },
        { "Yarn", "usr/local/share/.cache/yarn/v6/npm-left-pad.tgz" },
        { "Pnpm", "root/.local/share/pnpm/store/v3/files/00/abc" },
        { "Go", "root/.cache/go-build/ab/abcdef-d" },
        { "Go", "go/pkg/mod/cache/download/golang.org/x/net/@v/v0.1.0.zip" },
        { "Gem", "usr/local/bundle/cache/rack-3.0.gem" },
        { "Conda", "opt/conda/pkgs/numpy-1.26.conda" },
    };

    [Theory]
    [MemberData(nameof(Caches))]
    public void Each_package_manager_cache_is_named_with_its_own_fix(string manager, string path)
    {
        var content = Noise(10_000 + path.Length, path.Length);
        var dirs = path.Split('/');
        var advice = Advise(Base().Layer("RUN /bin/sh -c install-things", l =>
        {
            for (int i = 1; i < dirs.Length; i++) l.Dir(string.Join('/', dirs[..i]));
            l.File(path, content).Dir("app").File("app/main", "main\n");
        }));

        var f = Assert.Single(advice.Findings);
        Assert.Equal((AdviceKind.PackageCache, manager, (long)content.Length), (f.Kind, f.Rule, f.Bytes));
        Assert.Equal("/" + path, Assert.Single(f.Paths).Path);
        Assert.Equal((1, "RUN install-things"), (f.Steps.Single().Layer, f.Steps.Single().Instruction));
        Assert.NotEqual("AdviceRule_" + manager + "Fix", f.Fix); // the rule has its fix text
        Assert.NotEqual("AdviceRule_" + manager + "Why", f.Why);
    }

    [Fact]
    public void Build_only_content_is_named_with_a_two_stage_sketch()
    {
        var cc1 = Noise(90_000, 9);
        var header = Noise(3000, 10);
        var archive = Noise(25_000, 11);
        var pack = Noise(40_000, 12);
        var test = Noise(2000, 13);
        var app = Noise(15_000, 14);
        var advice = Advise(Base().Layer("RUN /bin/sh -c apt-get install -y gcc && make", l => l
            .Dir("usr").Dir("usr/lib").Dir("usr/lib/gcc").Dir("usr/lib/gcc/x86_64-linux-gnu").Dir("usr/lib/gcc/x86_64-linux-gnu/12")
            .File("usr/lib/gcc/x86_64-linux-gnu/12/cc1", cc1, 0x1ED)
            .Dir("usr/include").File("usr/include/zlib.h", header)
            .Dir("usr/lib/x86_64-linux-gnu").File("usr/lib/x86_64-linux-gnu/libz.a", archive).File("usr/lib/x86_64-linux-gnu/libz.so.1", header[..100])
            .Dir("src").Dir("src/.git").Dir("src/.git/objects").File("src/.git/objects/pack.pack", pack)
            .Dir("usr/lib/python3").Dir("usr/lib/python3/site-packages").Dir("usr/lib/python3/site-packages/foo").Dir("usr/lib/python3/site-packages/foo/tests")
            .File("usr/lib/python3/site-packages/foo/tests/test_foo.py", test)
            .File("usr/lib/python3/site-packages/foo/core.py", app[..500])
            .Dir("opt").Dir("opt/app").File("opt/app/server", app, 0x1ED)));

        var byRule = advice.Findings.ToDictionary(f => f.Rule);
        Assert.All(advice.Findings, f => Assert.Equal(AdviceKind.BuildOnly, f.Kind));
        Assert.Equal(["Toolchain", "GitDirectory", "StaticLibraries", "Headers", "PackageTests"], advice.Findings.Select(f => f.Rule)); // by bytes
        Assert.Equal(cc1.Length, byRule["Toolchain"].Bytes);
        Assert.Equal(header.Length, byRule["Headers"].Bytes);
        Assert.Equal(archive.Length, byRule["StaticLibraries"].Bytes);
        Assert.Equal(pack.Length, byRule["GitDirectory"].Bytes);
        Assert.Equal(test.Length, byRule["PackageTests"].Bytes);
        // the sketch copies across what the step made that is not build-only: /opt/app holds the most
        Assert.Contains("COPY --from=build /opt/app /opt/app", byRule["Toolchain"].Fix);
        Assert.Contains("FROM <base image> AS build", byRule["Toolchain"].Fix);
    }

    [Fact]
    public void Duplicates_count_every_copy_but_one_and_hardlinks_not_at_all()
    {
        var lib = Noise(33_333, 15);
        var advice = Advise(Base()
            .Layer("COPY lib /opt/a/", l => l.Dir("opt").Dir("opt/a").File("opt/a/lib.so", lib).Hardlink("opt/a/lib.so.1", "opt/a/lib.so"))
            .Layer("COPY lib /opt/b/", l => l.Dir("opt").Dir("opt/b").File("opt/b/lib.so", lib).File("opt/b/copy.so", lib)));

        var f = Assert.Single(advice.Findings);
        Assert.Equal(AdviceKind.Duplicate, f.Kind);
        Assert.Equal(2L * lib.Length, f.Bytes); // three stored copies, one kept; the hardlink stores nothing
        Assert.Equal(2, f.PathCount);
        Assert.All(f.Paths, p => Assert.Equal("/opt/a/lib.so", p.SameAs)); // the lowest layer's copy is kept
        Assert.Equal(["/opt/b/copy.so", "/opt/b/lib.so"], f.Paths.Select(p => p.Path).Order(StringComparer.Ordinal));
    }

    internal const string KeyValue = "MIIEowIBAAKCAQEAsecretvalue0123456789SECRET";
    internal const string TokenValue = "npm_SECRETTOKEN0123456789abcdef";
    internal const string AuthValue = "dXNlcjpTRUNSRVRQQVNTV09SRA==";

    internal static ImageBuilder WithSecrets() => Base()
        .Layer("COPY . /root/ # buildkit", l => l.Dir("root").Dir("root/.ssh")
            .File("root/.ssh/id_rsa", $"-----BEGIN OPENSSH PRIVATE KEY-----\n{KeyValue}\n-----END OPENSSH PRIVATE KEY-----\n", 0x180)
            .File("root/.ssh/id_rsa.pub", "ssh-rsa AAAAB3Nza public\n")
            .File("root/.npmrc", $"//registry.npmjs.org/:_authToken={TokenValue}\n")
            .Dir("root/.docker").File("root/.docker/config.json", $"{{\"auths\":{{\"registry.example\":{{\"auth\":\"{AuthValue}\"}}}}}}")
            .Dir("etc").Dir("etc/ssl").File("etc/ssl/server.pem", "-----BEGIN CERTIFICATE-----\nMIIBpublic\n-----END CERTIFICATE-----\n")
            .File("root/.env.example", "TOKEN=\n"))
        .Layer("COPY app /app", l => l.Dir("app").File("app/server", Noise(80_000, 16), 0x1ED)
            .Dir("app/cfg").File("app/cfg/.npmrc", "registry=https://registry.example/\n"))
        .Layer("RUN /bin/sh -c rm -f /root/.ssh/id_rsa # buildkit", l => l.Dir("root").Dir("root/.ssh").Whiteout("root/.ssh/id_rsa"));

    [Fact]
    public void Secrets_come_first_a_deleted_one_still_counts_and_markers_decide_for_ambiguous_names()
    {
        var advice = Advise(WithSecrets());

        Assert.Equal(3, advice.Secrets);
        Assert.All(advice.Findings.Take(3), f => Assert.Equal(AdviceKind.Secret, f.Kind));
        var key = advice.Findings.Single(f => f.Rule == "SshKey");
        Assert.Equal(3, key.RemovedIn); // deleted by layer 3, still stored by layer 1
        Assert.Equal([1, 3], key.Steps.Select(s => s.Layer));
        Assert.Equal("/root/.ssh/id_rsa", key.Paths.Single().Path);
        Assert.Equal("/root/.npmrc", advice.Findings.Single(f => f.Rule == "Npmrc").Paths.Single().Path); // not app/cfg/.npmrc: no token
        Assert.Equal("/root/.docker/config.json", advice.Findings.Single(f => f.Rule == "DockerConfig").Paths.Single().Path);
        // the certificate, the public key and the example .env are no secrets; the deleted key is not "removed later" as well
        Assert.DoesNotContain(advice.Findings, f => f.Paths.Any(p => p.Path is "/etc/ssl/server.pem" or "/root/.ssh/id_rsa.pub" or "/root/.env.example"));
        Assert.DoesNotContain(advice.Findings, f => f.Kind == AdviceKind.RemovedLater);
    }

    [Fact]
    public void Without_the_layers_to_read_no_name_alone_is_a_secret()
    {
        // every secret rule asks for its content marker (packages ship test keys named id_rsa and .env
        // files of no secret): unread, the key is no finding, and the advice says the content went unchecked
        using var dir = new TempDir();
        var path = dir.File("image.oci.tar");
        WithSecrets().WriteOciArchive(path);
        var advice = Advisor.Analyze(Images.Load(path), ct: TestContext.Current.CancellationToken);
        Assert.False(advice.ContentChecked);
        Assert.DoesNotContain(advice.Findings, f => f.Kind == AdviceKind.Secret);
    }

    [Fact]
    public void Names_without_their_marker_are_no_secrets()
    {
        // what packages ship: a test key that is a public one, a .env of settings, git and AWS files of no credential
        var image = Base().Layer("COPY . /app/ # buildkit", l => l.Dir("app").Dir("app/test")
            .File("app/test/id_rsa", "ssh-rsa AAAAB3Nza not a private key\n")
            .File("app/.env", "PORT=3000\nLOG_LEVEL=debug\n")
            .File("app/.git-credentials", "https://github.com\n")
            .Dir("app/.aws").File("app/.aws/credentials", "[default]\nregion = eu-west-1\n")
            .File("app/.env.local", "DATABASE_PASSWORD=hunter2-not-shown\n"));
        var advice = Advise(image);
        Assert.True(advice.ContentChecked);
        var secret = Assert.Single(advice.Findings, f => f.Kind == AdviceKind.Secret);
        Assert.Equal(("DotEnv", "/app/.env.local"), (secret.Rule, Assert.Single(secret.Paths).Path));
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    [InlineData("markdown")]
    public void No_output_format_prints_a_secret(string format)
    {
        using var dir = new TempDir();
        var path = dir.File("image.oci.tar");
        WithSecrets().WriteOciArchive(path);
        var run = Tool.Run("advise", path, "--format", format);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("/root/.ssh/id_rsa", run.Stdout);
        foreach (var secret in new[] { KeyValue, TokenValue, AuthValue, "SECRET" })
        {
            Assert.DoesNotContain(secret, run.Stdout);
            Assert.DoesNotContain(secret, run.Stderr);
        }
        if (format == "json")
        {
            using var doc = JsonDocument.Parse(run.Stdout);
            var findings = doc.RootElement.GetProperty("findings");
            Assert.Equal("secret", findings[0].GetProperty("kind").GetString());
            Assert.Equal(doc.RootElement.GetProperty("totalBytes").GetInt64(), findings.EnumerateArray().Sum(f => f.GetProperty("bytes").GetInt64()));
        }
    }

    [Fact]
    public void No_stored_copy_counts_twice_when_one_image_has_every_kind()
    {
        var a = Noise(100_000, 20);
        var b = Noise(60_000, 21);
        var c = Noise(30_000, 22);
        var image = WithSecrets()
            .Layer("RUN /bin/sh -c build", l => l.Dir("var").Dir("var/cache").Dir("var/cache/apk").File("var/cache/apk/x.apk", a)
                .Dir("usr").Dir("usr/include").File("usr/include/x.h", b).Dir("tmp").File("tmp/scratch", c).Dir("srv").File("srv/b.h", b))
            .Layer("RUN /bin/sh -c rm /tmp/scratch && chmod 600 /usr/include/x.h", l => l.Dir("tmp").Whiteout("tmp/scratch")
                .Dir("usr/include").File("usr/include/x.h", b, 0x180));
        using var dir = new TempDir();
        var advice = Advise(image, out var path, dir);
        // every stored copy of a non-empty file, once: what the layers hold minus what stays visible and is no finding
        var model = Images.Load(path);
        long stored = 0, kept = 0;
        foreach (var node in model.AllNodes())
        {
            foreach (var r in node.History)
                if (r.IsPresent && r.Attributes.Type == LayerDive.Core.Model.FileType.File && r.Attributes.HardlinkTarget is null) stored += r.Attributes.Size;
        }
        var inFindings = advice.Findings.SelectMany(f => f.Paths).ToList();
        Assert.Equal(inFindings.Count, inFindings.Select(p => (p.Path, p.Layer)).Distinct().Count());
        // the kept visible copies: everything visible that no finding lists
        foreach (var node in model.Walk(model.TopLayer))
            if (node.StateAt(model.TopLayer) is { Attributes: { Type: LayerDive.Core.Model.FileType.File, HardlinkTarget: null } at } s
                && !inFindings.Any(p => p.Path == "/" + node.Path && p.Layer == s.Layer))
                kept += at.Size;
        Assert.Equal(stored - kept, advice.TotalBytes);
        Assert.Equal(advice.TotalBytes, advice.Findings.Sum(f => f.Bytes));
        // the chmod'ed header: the layer-4 copy is copied up, the visible one build-only; the duplicate /srv/b.h is its own
        Assert.Equal(b.Length, advice.Findings.Single(f => f.Kind == AdviceKind.CopiedUpUnchanged).Bytes);
        Assert.Equal(b.Length, advice.Findings.Single(f => f.Kind == AdviceKind.BuildOnly).Bytes);
        Assert.Equal(a.Length, advice.Findings.Single(f => f.Kind == AdviceKind.PackageCache).Bytes);
        Assert.Equal(c.Length, advice.Findings.Single(f => f.Kind == AdviceKind.RemovedLater).Bytes);
    }

    [Fact]
    public void A_clean_image_has_no_finding()
    {
        var advice = Advise(Base()
            .Layer("COPY app /app", l => l.Dir("app").File("app/server", Noise(40_000, 30), 0x1ED).File("app/config.json", "{\"auths\":{}}").File("app/README", "read me\n"))
            .Layer("RUN /bin/sh -c adduser app", l => l.Dir("etc").File("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"))
            .Layer("RUN /bin/sh -c touch /app/.ready", l => l.Dir("app").File("app/.ready", "")));
        // etc/passwd written again is a rewrite of 26 bytes: the base's copy, hidden by the new one
        var f = Assert.Single(advice.Findings);
        Assert.Equal((AdviceKind.Rewritten, 26L), (f.Kind, f.Bytes));

        var clean = Advise(Base().Layer("COPY app /app", l => l.Dir("app").File("app/server", Noise(40_000, 31), 0x1ED)));
        Assert.Empty(clean.Findings);
        using var dir = new TempDir();
        var path = dir.File("clean.tar");
        Base().Layer("COPY app /app", l => l.Dir("app").File("app/server", Noise(40_000, 31), 0x1ED)).WriteOciArchive(path);
        var run = Tool.Run("advise", path);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("no findings", run.Stdout);
    }

    /// <summary>The bundled sample: its mistakes found with the bytes SampleImage wrote, its clean COPY layer (4) in no finding.</summary>
    [Fact]
    public void The_bundled_sample_finds_what_it_was_built_with_and_nothing_in_its_clean_layer()
    {
        using var load = ImageLoader.Start(Paths.Sample, new LoadOptions(), TestContext.Current.CancellationToken);
        load.Wait();
        var advice = Advisor.Analyze(load.Model, load, TestContext.Current.CancellationToken);
        var found = advice.Findings.Select(f => (f.Kind, f.Bytes, string.Join(",", f.Steps.Select(s => s.Layer)))).ToList();
        // SampleImage.Create: package 20000 + history.log, library 12000, cache 8000, tool 3000, config + defaults.json, motd, daemon.pid
        const string history = "Start-Date: 2024-01-02\nInstall: app:amd64 (1.0)\n";
        const string config = "{\n  \"listen\": \":8080\",\n  \"log\": \"info\"\n}\n";
        Assert.Equal(
        [
            (AdviceKind.RemovedLater, 20000L + history.Length, "1,2"),
            (AdviceKind.CopiedUpUnchanged, 12000L, "1,6"),
            (AdviceKind.PackageCache, 8000L, "1"),
            (AdviceKind.CopiedUpUnchanged, 3000L, "0,5"),
            (AdviceKind.RemovedLater, config.Length + 3L, "1,3"),
            (AdviceKind.Rewritten, "Welcome to the LayerDive sample.\n".Length, "0,5"),
            (AdviceKind.RemovedLater, 2L, "0,6"),
        ], found);
        Assert.DoesNotContain(advice.Findings, f => f.Steps.Any(s => s.Layer == 4));
    }

    [Fact]
    public void Russian_findings_are_translated()
    {
        var ru = Tool.Run("advise", Paths.Sample, "--lang", "ru");
        Assert.Equal(0, ru.ExitCode);
        Assert.Contains("1. удалено позже: экономит 20 kB хранимых", ru.Stdout);
        Assert.Contains("почему: Слой 1 хранит эти файлы", ru.Stdout);
        var en = Tool.Run("advise", Paths.Sample, "--lang", "en");
        Assert.Contains("1. removed later: saves 20 kB stored", en.Stdout);
    }

    [Theory]
    [InlineData("/bin/sh -c #(nop) COPY file:abc in /app ", "COPY file:abc in /app")]
    [InlineData("/bin/sh -c #(nop)  CMD [\"sh\"]", "CMD [\"sh\"]")]
    [InlineData("/bin/sh -c apt-get update", "RUN apt-get update")]
    [InlineData("RUN /bin/sh -c apt-get update # buildkit", "RUN apt-get update")]
    [InlineData("RUN |2 A=1 B=2 /bin/sh -c make # buildkit", "RUN make")]
    [InlineData("|1 V=3 /bin/sh -c make", "RUN make")]
    // a build argument's value is never shown, whatever runs the command (it may be a token)
    [InlineData("|1 NPM_TOKEN=npm_SECRET123 /bin/bash -c npm ci", "RUN /bin/bash -c npm ci")]
    [InlineData("RUN |2 A=x y B=npm_SECRET123 [\"make\", \"all\"] # buildkit", "RUN [\"make\", \"all\"]")]
    [InlineData("COPY . /src # buildkit", "COPY . /src")]
    [InlineData("RUN apk add x", "RUN apk add x")]
    [InlineData("", "")]
    public void A_history_entry_is_shown_as_its_Dockerfile_line(string createdBy, string line) =>
        Assert.Equal(line, BuildStep.Line(createdBy));

    [Fact]
    public void Every_rule_has_its_texts_in_both_languages()
    {
        foreach (var culture in new[] { System.Globalization.CultureInfo.InvariantCulture, new System.Globalization.CultureInfo("ru") })
        {
            var rm = LayerDive.Core.Resources.Strings.ResourceManager;
            foreach (var id in new[] { "Apt", "Apk", "Dnf", "Pip", "Npm", "Yarn", "Pnpm", "Go", "Gem", "Conda" })
            {
                Assert.False(string.IsNullOrEmpty(rm.GetString("AdviceRule_" + id + "Why", culture)), id);
                Assert.False(string.IsNullOrEmpty(rm.GetString("AdviceRule_" + id + "Fix", culture)), id);
            }
            foreach (var id in new[] { "Toolchain", "Headers", "StaticLibraries", "GitDirectory", "PackageTests", "SshKey", "PrivateKey", "AwsCredentials", "DockerConfig", "Npmrc", "GitCredentials", "Netrc", "DotEnv" })
                Assert.False(string.IsNullOrEmpty(rm.GetString("AdviceRule_" + id + "Why", culture)), id);
            foreach (var kind in Enum.GetValues<AdviceKind>())
                Assert.False(string.IsNullOrEmpty(rm.GetString("Advice_Kind" + kind, culture)), kind.ToString());
        }
    }
}
