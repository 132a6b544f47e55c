using System.Text.Json;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Images;

/// <summary>
/// The images of a <c>docker save</c> archive: each entry of its <c>manifest.json</c> names a config and
/// the layers' members by path (and its tags). An archive with only <c>repositories</c> is the legacy
/// form (<see cref="DockerV1Chain"/>).
/// </summary>
internal static class DockerArchiveManifest
{
    public const string ManifestFile = "manifest.json";

    public static List<ImageCandidate> Candidates(BlobStore store, IBlobReader blobs, bool verify)
    {
        if (!store.Exists(ManifestFile))
        {
            if (store.Exists(DockerV1Chain.RepositoriesFile)) return DockerV1Chain.Candidates(store, blobs);
            throw new ImageException(FaultKind.Unsupported, Strings.Archive_NotDockerArchive);
        }
        using var doc = Json.Parse(store.ReadDocument(ManifestFile, DocumentKind.Manifest), ManifestFile);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_ManifestJsonNotList, Json.Describe(doc.RootElement)));
        var list = new List<ImageCandidate>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_ManifestJsonEntryNotObject, Json.Describe(item)));
            var configPath = item.String("Config") ?? throw new ImageException(FaultKind.Damaged, Strings.Archive_ManifestJsonEntryNoConfig);
            var tags = item.Strings("RepoTags");
            var layers = item.Strings("Layers");
            // only blobs/<alg>/<hex> is a content address; "<hex>.json" names are not checked by docker either
            var configDigest = OciLayout.DigestOfPath(configPath);
            string name = tags.Count > 0 ? tags[0] : configDigest is null ? configPath : ImageException.ShortDigest(configDigest);
            list.Add(new ImageCandidate
            {
                Name = name,
                Tags = tags,
                ConfigDigest = configDigest,
                Resolve = _ =>
                {
                    var config = ReadConfig(store, configPath, configDigest, verify);
                    var refs = layers.Select((p, i) => new LayerDescriptor(i, new LayerLocator.Member(p), null, OciLayout.DigestOfPath(p), store.SizeOf(p), ImageConfigParser.DiffId(config, i))).ToList();
                    ImageConfigParser.CheckLayerCount(refs.Count, config);
                    return new ResolvedImage(name, config, refs, null, blobs);
                },
            });
        }
        if (list.Count == 0) throw new ImageException(FaultKind.Damaged, Strings.Archive_ManifestJsonEmpty);
        return list;
    }

    /// <summary>A config named by its member path, checked against <paramref name="digest"/> where the path is a content address.</summary>
    private static Model.ImageConfig ReadConfig(BlobStore store, string path, string? digest, bool verify)
    {
        if (!store.Exists(path)) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_ConfigMissing, path));
        var bytes = store.ReadDocument(path);
        if (verify && digest is not null) DigestCheck.Document(bytes, digest, Strings.Image_DigestOfConfig);
        return ImageConfigParser.Parse(bytes, digest, Strings.Image_ConfigDocument);
    }
}
