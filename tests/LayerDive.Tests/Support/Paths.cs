namespace LayerDive.Tests.Support;

/// <summary>Where the repository, ../shared and the generated corpus are.</summary>
public static class Paths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string PublicCorpus => Path.Combine(Shared, "corpus", "public");

    public static string CorpusTools => Path.Combine(Shared, "tools", "corpus_tools.py");

    /// <summary>The output of ../shared/tools/make-corpus.sh ($LAYERDIVE_CORPUS, else $TMPDIR/layerdive-corpus).</summary>
    public static string GeneratedCorpus =>
        Environment.GetEnvironmentVariable("LAYERDIVE_CORPUS") is { Length: > 0 } env ? env
            : Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } t ? t : "/tmp", "layerdive-corpus");

    public static string Sample => Path.Combine(RepoRoot, "samples", "sample.oci.tar");

    public static string Public(string name) => Path.Combine(PublicCorpus, name);

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "LayerDive.sln"))) return d.FullName;
        throw new InvalidOperationException("LayerDive.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory removed at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "layerdive-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Every file and directory under the folder, for "nothing was written" checks.</summary>
    public List<string> Listing() =>
        Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
