namespace LayerDive.Core.Sources.Images;

/// <summary>The media types of the documents an image is made of, as the OCI image spec and Docker's schema 2 name them.</summary>
internal static class MediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";

    /// <summary>An uncompressed layer tar (what a store's rebuilt layer and a container's layer are).</summary>
    public const string OciLayerTar = "application/vnd.oci.image.layer.v1.tar";

    /// <summary>The manifest types a registry is asked for, an index first.</summary>
    public static readonly string[] Manifests = [OciIndex, OciManifest, DockerList, DockerManifest];

    /// <summary>A list of manifests (an OCI index or a Docker manifest list).</summary>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerList;

    /// <summary>The config of an image that can be run, as opposed to an artifact's (a signature, an SBOM).</summary>
    public static bool IsImageConfig(string? mediaType) => mediaType is OciConfig or DockerConfig;
}
