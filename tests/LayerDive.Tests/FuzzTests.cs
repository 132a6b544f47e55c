using LayerDive.Samples;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// The fuzzer (issue 13): structure-aware mutants of public-corpus and generated images (outer tar
/// headers, every JSON document, layer tar headers, names and PAX records, compressed streams; the
/// digests that name a changed part recomputed so the damage reaches the reader), each run through the
/// commands, each run classified. A clean error (exit 2, one line naming the image), a warning or a
/// success is fine; a failure is an escaped exception, a stack trace or "internal error", an exit code
/// that means neither, a run that hangs, a file written outside the run's folders, or a damaged layer
/// accepted without a word where a reference reader (GNU tar, gzip -t, zstd -t) rejects it.
/// Deterministic: LAYERDIVE_FUZZ_SEED (default 1), LAYERDIVE_FUZZ_MUTANTS (default 1000, under a
/// minute) and LAYERDIVE_FUZZ_FROM (the first mutant, default 0) choose the run; README.md tells how to run a longer one.
/// </summary>
public sealed class FuzzTests
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : fallback;

    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private static IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        foreach (var name in new[]
        {
            "dive__.data_test-oci-gzip-image.tar", "dive__.data_test-oci-zstd-image.tar", "dive__.data_test-oci-uncompressed-image.tar",
            "dive__.data_test-docker-image.tar", "go-containerregistry__pkg_v1_mutate_testdata_whiteout_image.tar",
            "jib__jib-core_src_test_resources_core_extraction_jib-image.tar", "go-containerregistry__pkg_v1_tarball_testdata_hello-world-v25.tar",
        })
            yield return (name, File.ReadAllBytes(Paths.Public(name)));
        // every entry kind and marker the merge knows, in gzip layers
        using var dir = new TempDir();
        var path = dir.File("features.tar");
        new ImageBuilder()
            .Layer("base", l => l.Dir("etc").File("etc/passwd", "root:x:0:0\n").Dir("usr").Dir("usr/lib").File("usr/lib/a.so", new string('a', 3000), mode: 0x1ED)
                .Symlink("usr/lib/b.so", "a.so").Hardlink("usr/lib/c.so", "usr/lib/a.so").CharDevice("dev-null", 1, 3).Fifo("pipe").Dir("var").Dir("var/cache").File("var/cache/x", "x"))
            .Layer("change", l => l.Whiteout("var/cache").Opaque("usr/lib").File("usr/lib/new", "n").File("etc/passwd", "root:x:0:0\nuser:x:1:1\n"))
            .WriteOciArchive(path);
        yield return ("features (generated)", File.ReadAllBytes(path));
        // the tar shapes Go's archive/tar reads (issue 24): old-style directory, names that are not UTF-8,
        // a hardlink with a size, version NUL NUL, two GNU long names, times before 1970 and far ahead,
        // a binary xattr; uncompressed and gzip
        var shapes = dir.File("shapes.tar");
        new ImageBuilder { TamperTar = (n, tar) => n == 0 ? RawTar.Shapes() : tar }
            .Layer("shapes", _ => { }).Layer("more", l => l.File("d2/g", "g").Whiteout("koi8"))
            .WriteOciArchive(shapes, compression: LayerCompression.None);
        yield return ("tar shapes (generated)", File.ReadAllBytes(shapes));
        var gzipped = dir.File("shapes-gzip.tar");
        new ImageBuilder { TamperTar = (_, _) => RawTar.Shapes() }.Layer("shapes", _ => { }).WriteOciArchive(gzipped);
        yield return ("tar shapes, gzip (generated)", File.ReadAllBytes(gzipped));
        // two xz streams, and a bzip2 stream with bytes after it
        if (Scripts.OnPath("xz") && Scripts.OnPath("bzip2"))
        {
            var streams = dir.File("streams.tar");
            var image = new ImageBuilder
            {
                TamperBlob = (n, tar) => n == 0
                    ? [.. Mutator.CompressWithTool("xz", tar[..1024]), .. Mutator.CompressWithTool("xz", tar[1024..])]
                    : [.. Mutator.CompressWithTool("bzip2", tar), .. "GARBAGE!"u8.ToArray()],
            }.Layer("xz", l => l.Dir("etc").File("etc/a", new string('a', 700)).File("etc/b", "b")).Layer("bzip2", l => l.File("etc/c", "c"));
            image.WriteOciArchive(streams, compression: LayerCompression.None);
            yield return ("xz and bzip2 streams (generated)", File.ReadAllBytes(streams));
        }
    }

    private enum Verdict { CleanError, Warning, Success, Failure }

    [Fact]
    public void Damaged_images_end_in_an_error_a_warning_or_success_never_in_a_failure()
    {
        int seed = Setting("LAYERDIVE_FUZZ_SEED", 1), count = Setting("LAYERDIVE_FUZZ_MUTANTS", 1000), from = Setting("LAYERDIVE_FUZZ_FROM", 0);
        var seeds = Seeds().Select(s => (s.Name, Mutator: new Mutator(s.Bytes))).ToList();
        bool gnuTar = Scripts.OnPath("tar"), gzip = Scripts.OnPath("gzip"), zstd = Scripts.OnPath("zstd");
        var verdicts = new Dictionary<Verdict, int>();
        var kinds = new Dictionary<MutationKind, int>();
        var failures = new List<string>();
        int runs = 0;
        var started = DateTime.UtcNow;

        for (int i = from; i < count; i++)
        {
            var (seedName, mutator) = seeds[i % seeds.Count];
            var random = new Random(unchecked(seed * 1_000_003 + i));
            var mutant = mutator.Make(random);
            kinds[mutant.Kind] = kinds.GetValueOrDefault(mutant.Kind) + 1;
            string label = $"mutant {i} (LAYERDIVE_FUZZ_SEED={seed}) of {seedName}, {mutant.Kind}: {mutant.What}";

            using var work = new TempDir();
            using var reference = new TempDir();
            var image = work.File("image.tar");
            File.WriteAllBytes(image, mutant.Archive);
            var output = work.File("out");

            // what a reference reader says of the damaged part: "error", "warning" or null (nothing)
            string? says = null;
            if (mutant.LayerTar is { } tar && gnuTar)
            {
                var file = reference.File("layer.tar");
                File.WriteAllBytes(file, tar);
                var (code, _, _) = Scripts.Exec("tar", ["-tvf", file]);
                says = code == 2 ? "error" : null;
            }
            else if (mutant.Blob is { } blob && (mutant.BlobCompression switch { "gzip" => gzip, "zstd" => zstd, var other => Scripts.OnPath(other!) }))
            {
                var file = reference.File("blob");
                File.WriteAllBytes(file, blob);
                var (code, _, _) = Scripts.Exec(mutant.BlobCompression!, ["-t", file]);
                says = code == 0 ? null : code == 2 && mutant.BlobCompression == "gzip" ? "warning" : "error";
            }

            var commands = new List<string[]>
            {
                new[] { "ls", image, "--format", "tsv" },
                new[] { "--ci", "--json", Path.Combine(output, "report.json"), image },
                new[] { "extract", image, "/", "--output", Path.Combine(output, "x") },
            };
            if (i % 3 == 0)
                commands.AddRange([["explain", image, "/etc"], ["history", image], ["overlay", image], ["ls", image, "--changes"]]);
            Directory.CreateDirectory(output);
            foreach (var args in commands)
            {
                runs++;
                var (verdict, why, result) = Run(args, image);
                verdicts[verdict] = verdicts.GetValueOrDefault(verdict) + 1;
                if (verdict == Verdict.Failure)
                {
                    // kept for a closer look: the mutant is made again by LAYERDIVE_FUZZ_FROM=i LAYERDIVE_FUZZ_MUTANTS=i+1 too
                    var kept = Path.Combine(Path.GetTempPath(), $"layerdive-fuzz-mutant-{seed}-{i}.tar");
                    File.Copy(image, kept, overwrite: true);
                    failures.Add($"{label} (kept as {kept})\n  layerdive {string.Join(' ', args.Select(a => a.Replace(work.Path, "$DIR")))}: {why}");
                }
                // a damaged layer the reference refuses is never read in silence
                if (args[0] == "ls" && args.Length == 4 && says is not null && result is { ExitCode: 0 } r && !r.StderrLines.Any(l => l.StartsWith("layerdive: warning:", StringComparison.Ordinal)))
                    failures.Add($"{label}\n  accepted without a word; {(mutant.LayerTar is not null ? "GNU tar" : mutant.BlobCompression + " -t")} gives {says}");
                if (verdict == Verdict.Failure && why.StartsWith("hang", StringComparison.Ordinal)) break;
            }

            // nothing written outside the folders the runs named (the top level tells: anything else is
            // under out/, where extract writes names as their bytes, which .NET cannot always spell back)
            var stray = Directory.GetFileSystemEntries(work.Path)
                .Select(p => Path.GetRelativePath(work.Path, p))
                .Where(p => p != "image.tar" && p != "out")
                .ToList();
            if (stray.Count > 0) failures.Add($"{label}\n  wrote outside its folders: {string.Join(", ", stray)}");
            Scripts.Exec("rm", "-rf", output);
        }

        var summary = $"fuzz: seed {seed}, {count} mutants ({string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Value} {k.Key}"))}), {runs} runs in {(DateTime.UtcNow - started).TotalSeconds:F0} s: "
            + $"{verdicts.GetValueOrDefault(Verdict.CleanError)} clean errors, {verdicts.GetValueOrDefault(Verdict.Warning)} warnings, {verdicts.GetValueOrDefault(Verdict.Success)} successes, {failures.Count} failures";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "layerdive-fuzz.txt"), summary + "\n" + string.Join("\n", failures) + "\n");
        Assert.True(failures.Count == 0, summary + "\n" + string.Join("\n", failures.Take(30)));
    }

    private static (Verdict, string, CliResult?) Run(string[] args, string image)
    {
        CliResult result;
        try
        {
            var run = Task.Run(() => Tool.Run(args));
            if (!run.Wait(Hang)) return (Verdict.Failure, $"hang: no end in {Hang.TotalSeconds} s", null);
            result = run.Result;
        }
        catch (AggregateException ex)
        {
            return (Verdict.Failure, $"crash: {ex.InnerException?.GetType().Name}: {ex.InnerException?.Message}", null);
        }
        var lines = result.StderrLines;
        if (lines.FirstOrDefault(l => l.Contains("internal error", StringComparison.Ordinal) || !l.StartsWith("layerdive: ", StringComparison.Ordinal)) is { } odd)
            return (Verdict.Failure, $"exit {result.ExitCode}: {odd}", result);
        switch (result.ExitCode)
        {
            case 2:
                var errors = lines.Where(l => l.StartsWith("layerdive: error: ", StringComparison.Ordinal)).ToList();
                if (errors.Count != 1 || lines[^1] != errors[0] || !errors[0].StartsWith($"layerdive: error: {image}: ", StringComparison.Ordinal))
                    return (Verdict.Failure, "not one error line naming the image: " + string.Join(" | ", lines), result);
                return (Verdict.CleanError, "", result);
            case 0 or 1:
                return lines.Any(l => l.StartsWith("layerdive: warning:", StringComparison.Ordinal)) ? (Verdict.Warning, "", result) : (Verdict.Success, "", result);
            default:
                return (Verdict.Failure, $"exit {result.ExitCode}: {string.Join(" | ", lines)}", result);
        }
    }
}
