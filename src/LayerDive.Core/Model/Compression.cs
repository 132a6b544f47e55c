namespace LayerDive.Core.Model;

/// <summary>The compression of a layer blob, told by its magic bytes.</summary>
public enum Compression : byte
{
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}
