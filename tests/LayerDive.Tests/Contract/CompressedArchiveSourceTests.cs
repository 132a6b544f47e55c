using System.IO.Compression;
using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>The same archive gzipped as a whole: read in the archive's order, two passes over the file.</summary>
[ContractFor("docker-archive")]
public sealed class CompressedArchiveSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();

    private string Gzip(string path)
    {
        var gz = Path.Combine(_dir.Path, Path.GetFileName(path) + ".gz");
        using (var input = File.OpenRead(path))
        using (var output = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
            input.CopyTo(output);
        return gz;
    }

    protected override (string, SourceOptions) Image(string archive) => (Gzip(archive), new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (Gzip(WriteCutArchive(_dir.Path, 3)), new SourceOptions());

    /// <summary>A compressed archive holds an OCI layout as well: the oci-archive of the layout, gzipped.</summary>
    protected override (string, SourceOptions)? MultiPlatformImage(string layout) => (Gzip(OciLayouts.Tar(layout, _dir.Path)), new SourceOptions());

    public void Dispose() => _dir.Dispose();
}
