namespace LayerDive.Cli;

/// <summary>Finds the bundled sample image (samples/ beside the tool, or in the source tree it runs from).</summary>
internal static class Samples
{
    public const string FileName = "sample.oci.tar";

    public static string DefaultImage()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "samples", FileName);
        if (File.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", FileName);
            if (File.Exists(candidate)) return candidate;
        }
        return Path.Combine("samples", FileName);
    }
}
