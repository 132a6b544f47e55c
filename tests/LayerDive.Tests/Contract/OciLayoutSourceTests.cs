using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>An OCI image layout directory, read in place.</summary>
[ContractFor("oci")]
public sealed class OciLayoutSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => (OciLayouts.FromDockerArchive(archive, _dir.Path), new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (OciLayouts.FromDockerArchive(Archive, _dir.Path, cutLayer: 3), new SourceOptions());
    protected override (string, SourceOptions)? MultiPlatformImage(string layout) => (layout, new SourceOptions());
    public void Dispose() => _dir.Dispose();
}
