using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>An uncompressed docker-archive file: random access, layers read in parallel.</summary>
[ContractFor("docker-archive")]
public sealed class ArchiveFileSourceTests : SourceContract, IDisposable
{
    private readonly TempDir _dir = new();
    protected override (string, SourceOptions) Image(string archive) => (archive, new SourceOptions());
    protected override (string, SourceOptions) CutImage() => (WriteCutArchive(_dir.Path, 3), new SourceOptions());

    /// <summary>
    /// Overridden: a docker-archive names no platforms (manifest.json lists images by tag, each config
    /// says its own), so it holds no index to choose from; asking for a platform its image lacks must fail.
    /// </summary>
    [Fact]
    public override void The_platform_asked_for_is_chosen() => Another_platform_is_not_found();

    public void Dispose() => _dir.Dispose();
}
