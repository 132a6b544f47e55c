using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>The OCI layout in a tar (an oci-archive).</summary>
[ContractFor("oci-archive")]
public sealed class OciArchiveSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => (OciLayouts.Tar(OciLayouts.FromDockerArchive(archive, _dir.Path)), new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (OciLayouts.Tar(OciLayouts.FromDockerArchive(Archive, _dir.Path, cutLayer: 3)), new SourceOptions());
    protected override (string, SourceOptions)? MultiPlatformImage(string layout) => (OciLayouts.Tar(layout, _dir.Path), new SourceOptions());
    public void Dispose() => _dir.Dispose();
}
